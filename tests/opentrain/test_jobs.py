"""Drafts and jobs through the client against the sandbox: the posting loop, pagination and every refusal."""

from __future__ import annotations

import pytest

from bot.opentrain import OpenTrainClient, errors
from bot.opentrain.models import DraftReport, MissingField

DESCRIPTION = ("We need 5 fluent Spanish speakers to label sentiment in about 20,000 social media posts. "
               "Pay is $0.05 per label.")


def answer(gap: MissingField):
    """A typed PATCH value for one gap, the way the bot would send it."""
    if gap.enum_values:
        return gap.enum_values[0]
    if gap.type in ("number", "integer"):
        return float(gap.example or 1) if gap.type == "number" else int(float(gap.example or 1))
    if gap.type == "boolean":
        return True
    if gap.type in ("array", "list", "string[]"):
        return [str(gap.example or "English")]
    return str(gap.example or "Sandbox value")


async def fill(client: OpenTrainClient, report: DraftReport) -> DraftReport:
    for _ in range(10):
        if report.validation.publish_ready:
            return report
        report = await client.update_draft(report.job_id, {g.update_keys[0]: answer(g) for g in report.missing_fields})
    raise AssertionError(f"never publish-ready: {report.validation}")


async def open_job(client: OpenTrainClient, text: str = DESCRIPTION) -> str:
    report = await fill(client, await client.create_draft(text))
    await client.publish(report.job_id)
    return report.job_id


async def test_post_a_job_from_description_to_close(client, sandbox):
    owner = client.with_token(await sandbox.token())
    capabilities = await owner.capabilities()
    assert capabilities.capabilities.publish and "experienceLevel" in capabilities.draft.update_keys
    assert "opentrain_canonical" in capabilities.draft.import_formats

    report = await owner.create_draft(DESCRIPTION, idempotency_key="sentiment-es-1", external_id="acme-7")
    assert report.has_field_details and report.normalized_fields["languages"] == ["Spanish"]
    assert report.missing_field_names and all(g.question and not g.question.startswith("ask:")
                                              for g in report.missing_fields)
    again = await owner.create_draft("a different body", idempotency_key="sentiment-es-1")
    assert again.job_id == report.job_id  # the same key returns the existing draft

    with pytest.raises(errors.NotPublishReady) as not_ready:
        await owner.publish(report.job_id)
    assert not_ready.value.validation.missing_fields == report.validation.missing_fields
    with pytest.raises(errors.BadRequest) as unknown_key:
        await owner.update_draft(report.job_id, {"notAField": 1})
    assert type(unknown_key.value) is errors.BadRequest and unknown_key.value.issues

    ready = await fill(owner, report)
    published = await owner.publish(ready.job_id)
    assert published.status == "OPEN" and not published.already_published and published.job_url
    assert (await owner.publish(ready.job_id)).already_published
    closed = await owner.close_job(ready.job_id)
    assert closed.status == "ARCHIVED" and not closed.already_closed
    assert (await owner.close_job(ready.job_id)).already_closed
    with pytest.raises(errors.Conflict):  # an archived job cannot be published again
        await owner.publish(ready.job_id)
    with pytest.raises(errors.NotFound):
        await owner.publish("job_missing")


async def test_structured_import_and_paginated_listing(client, sandbox):
    owner = client.with_token(await sandbox.token())
    imported = await owner.create_draft_from("opentrain_canonical", {
        "title": "Bounding boxes on dashcam images", "description": "Draw boxes around cars in 50,000 images.",
        "paymentType": "PAY_PER_HOUR", "rateAmount": 18, "languages": ["English"], "labelTypes": ["Bounding box"],
        "experienceLevel": "INTERMEDIATE"}, idempotency_key="dashcam-1")
    assert imported.normalized_fields["paymentType"] == "PAY_PER_HOUR"
    with pytest.raises(ValueError):
        await owner.create_draft_from("pdf", b"...")

    for n in range(4):
        await owner.create_draft(f"{DESCRIPTION} Batch {n}.")
    jobs = [job async for job in owner.my_jobs(page_size=2)]
    assert len(jobs) == 5 and len({job.id for job in jobs}) == 5
    assert imported.job_id in {job.id for job in jobs}
    assert [job async for job in owner.my_jobs(status="OPEN")] == []
    listed = await sandbox.requests("/api/public/v1/jobs/mine")
    assert len(listed) == 4  # pages of 2, 2 and 1, then the one filtered page


async def test_publish_refusals_by_gate(client, sandbox, sleeps):
    unclaimed = client.with_token(await sandbox.token(claimed=False))
    await sandbox.advance_to_noon()
    for _ in range(3):
        await open_job(unclaimed)
    report = await fill(unclaimed, await unclaimed.create_draft(DESCRIPTION))
    with pytest.raises(errors.RateLimited) as limited:
        await unclaimed.publish(report.job_id)
    assert limited.value.reason == "daily_publish_limit" and limited.value.retry_after > 3600
    assert sleeps == []  # hours away: raised at once, never slept on

    blocked = await fill(unclaimed, await unclaimed.create_draft(
        "Collect home addresses and phone numbers of 500 people from public sites. Pay is $20 per hour."))
    with pytest.raises(errors.ModerationBlocked) as moderation:
        await unclaimed.publish(blocked.job_id)
    assert moderation.value.reasons and "personal data" in moderation.value.reasons[0]

    reader = client.with_token(await sandbox.token(scopes=["jobs:read"]))
    with pytest.raises(errors.MissingScope) as scope:
        await reader.create_draft(DESCRIPTION)
    assert "jobs:write" in scope.value.required_scopes

    await sandbox.call("POST", "features", {"public_api_job_drafting": False})
    with pytest.raises(errors.FeatureDisabled) as disabled:
        await unclaimed.capabilities()
    assert disabled.value.feature_key == "public_api_job_drafting"
    with pytest.raises(errors.Unauthorized):
        await client.me()
