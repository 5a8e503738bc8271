"""Proposals, the update ledger, conversations, hires and webhooks through the client against the sandbox."""

from __future__ import annotations

import pytest

from bot.opentrain import errors
from tests.opentrain.test_jobs import open_job


async def test_candidates_from_ledger_to_hire_request(client, sandbox):
    owner = client.with_token(await sandbox.token())
    job_id = await open_job(owner)
    await sandbox.call("POST", f"jobs/{job_id}/proposals", {"count": 5})

    proposals = [p async for p in owner.job_proposals(job_id, page_size=2)]
    assert len({p.id for p in proposals}) == 5 and all(p.job_id == job_id for p in proposals)
    assert all(p.status.raw == "UNREVIEWED" and p.bid.unit_key and p.candidate.display_name for p in proposals)
    await sandbox.call("POST", f"proposals/{proposals[0].id}/status", {"status": "SHORTLISTED"})
    shortlisted = [p async for p in owner.job_proposals(job_id, status="shortlisted")]
    assert [p.id for p in shortlisted] == [proposals[0].id]

    # The ledger, two events a page, from the start of the account's history to its end.
    seen, cursor = [], None
    while True:
        page = await owner.updates(cursor=cursor, limit=2)
        seen += page.events
        cursor = page.next_cursor or cursor
        if not page.has_more:
            break
    assert [e.type for e in seen].count("proposal.received") == 5 and seen[-1].type == "proposal.status_changed"
    assert (await owner.updates(cursor=cursor)).events == []

    detail = await owner.get_proposal(proposals[0].id)
    assert detail.id == proposals[0].id and detail.status.raw == "SHORTLISTED"
    with pytest.raises(errors.NotFound):
        await owner.get_proposal("prop_missing")

    opened = await owner.open_conversation(detail.id)
    assert opened.created and opened.proposal_id == detail.id
    assert not (await owner.open_conversation(detail.id)).created

    hire = await owner.request_hire(detail.id, "First batch", 300, "2026-07-01", description="The first 5,000 posts")
    assert hire.approval.status == "pending" and hire.approval.type == "proposal_hire"
    same = await owner.request_hire(detail.id, "First batch", 300, "2026-07-01", description="The first 5,000 posts")
    assert same.approval.id == hire.approval.id


async def test_claim_gated_writes_and_disabled_features(client, sandbox):
    unclaimed = client.with_token(await sandbox.token(claimed=False))
    job_id = await open_job(unclaimed)
    await sandbox.call("POST", f"jobs/{job_id}/proposals", {"count": 1})
    proposal = [p async for p in unclaimed.job_proposals(job_id)][0]  # noqa: RUF015 - next() takes no async iterator
    with pytest.raises(errors.ClaimRequired) as gated:
        await unclaimed.request_hire(proposal.id, "Batch", 100, "2026-07-01")
    assert gated.value.claim_url and gated.value.action

    owner = client.with_token(await sandbox.token())
    await sandbox.call("POST", "features", {"public_api_hiring": False})
    with pytest.raises(errors.FeatureDisabled) as disabled:
        await owner.request_hire(proposal.id, "Batch", 100, "2026-07-01")
    assert disabled.value.feature_key == "public_api_hiring"


async def test_webhook_subscription_lifecycle(client, sandbox):
    owner = client.with_token(await sandbox.token())
    created = await owner.create_webhook("http://localhost:9/hooks", ["proposal.received", "proposal.status_changed"])
    assert created.secret.startswith("whsec_") and created.webhook.status == "ACTIVE"
    assert [w.id for w in await owner.list_webhooks()] == [created.webhook.id]
    fetched = await owner.get_webhook(created.webhook.id)
    assert fetched.event_types == ["proposal.received", "proposal.status_changed"]
    deleted = await owner.delete_webhook(created.webhook.id)
    assert deleted.id == created.webhook.id
    with pytest.raises(errors.NotFound):
        await owner.get_webhook(created.webhook.id)
    with pytest.raises(errors.BadRequest):
        await owner.create_webhook("http://localhost:9/hooks", [])

    jobs_only = client.with_token(await sandbox.token(scopes=["jobs:write", "webhooks:manage"]))
    with pytest.raises(errors.Forbidden):  # subscribing needs the events' read scope
        await jobs_only.create_webhook("http://localhost:9/hooks", ["proposal.received"])
    await sandbox.call("POST", "features", {"public_api_webhooks": False})
    with pytest.raises(errors.FeatureDisabled):
        await owner.list_webhooks()
