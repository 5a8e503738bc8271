"""A hostile OpenTrain (the sandbox's `/_sandbox/hostile`) through the client, over real HTTP: every URL it answers
passes the link policy or is dropped (falling back to a page built from ids), ids that are not id-shaped make the
answer unreadable, and a claim start with a foreign link or a code that is not 6 digits fails plainly. A trainer's
profile link comes from the link policy alone, whatever a crafted answer's `profileUrl` says."""

from __future__ import annotations

import logging

import httpx
import pytest

from bot.opentrain import OpenTrainClient, errors
from tests.support.market import READY_FIELDS

URL_MODES = ["elsewhere", "javascript", "lookalike", "userinfo"]
APP = "https://app.opentrain.ai"


async def a_published_job(client, sandbox) -> tuple[object, str]:
    agent = client.with_token(await sandbox.token())
    draft = await agent.create_draft("We need 10 annotators for 50,000 dashcam images, $18/hour, English")
    await agent.update_draft(draft.job_id, READY_FIELDS)
    return agent, draft.job_id


@pytest.mark.parametrize("mode", URL_MODES)
async def test_foreign_links_are_dropped_and_pages_are_built_from_ids(client, sandbox, mode, caplog):
    agent, job_id = await a_published_job(client, sandbox)
    await sandbox.call("POST", "hostile", {"urls": mode})
    caplog.set_level(logging.WARNING, logger="bot.opentrain.links")

    report = await agent.update_draft(job_id, {"headcount": 12})
    assert report.draft_url is None and report.review_url is None

    published = await agent.publish(job_id)
    assert published.job_url == f"{APP}/jobs/{job_id}"  # built from the (checked) id, not the answer's link
    [mine] = [job async for job in agent.my_jobs()]
    assert mine.job_url == f"{APP}/jobs/{job_id}"

    [proposal_id] = [p["id"] for p in (await sandbox.call("POST", f"jobs/{job_id}/proposals", {"count": 1}))
                     ["proposals"]]
    opened = await agent.open_conversation(proposal_id)
    assert opened.conversation_url == f"{APP}/messages?conversationId={opened.conversation_id}"
    hire = await agent.request_hire(proposal_id, "First batch", 300, "2026-12-31")
    assert hire.approval.approval_url == f"{APP}/approvals/{hire.approval.id}"

    dropped = [r for r in caplog.records if "untrusted" in r.getMessage()]
    assert dropped and all("evil.example/phish?" not in r.getMessage() for r in dropped)
    assert all("cookie" not in r.getMessage() for r in dropped)  # never the query (nor a script)


async def test_trusted_links_pass_unchanged(client, sandbox):
    agent, job_id = await a_published_job(client, sandbox)
    report = await agent.update_draft(job_id, {"headcount": 12})
    assert report.review_url == f"{APP}/job-post?jobId={job_id}"
    assert (await agent.publish(job_id)).job_url == f"{APP}/jobs/{job_id}"


async def test_an_app_url_setting_moves_the_trusted_host(sandbox_url, sandbox):
    async with OpenTrainClient(sandbox_url, await sandbox.token(), app_url="https://opentrain.example.org") as agent:
        draft = await agent.create_draft("We need 10 annotators for 50,000 dashcam images, $18/hour, English")
        assert draft.review_url is None  # the sandbox links to app.opentrain.ai, not the configured app host
        await agent.update_draft(draft.job_id, READY_FIELDS)
        assert (await agent.publish(draft.job_id)).job_url == f"https://opentrain.example.org/jobs/{draft.job_id}"


@pytest.mark.parametrize("key, path", [
    ("jobId", "/api/public/v1/jobs/*/publish"),
    ("conversationId", "/api/public/v1/proposals/*"),
    ("id", "/api/public/v1/proposals/*"),
])
async def test_ids_with_markup_make_the_answer_unreadable(client, sandbox, key, path):
    agent, job_id = await a_published_job(client, sandbox)
    await agent.publish(job_id)
    [proposal_id] = [p["id"] for p in (await sandbox.call("POST", f"jobs/{job_id}/proposals", {"count": 1}))
                     ["proposals"]]
    await sandbox.call("POST", "hostile", {"ids": [key], "path": path})
    with pytest.raises(errors.OpenTrainError) as refused:
        if key == "jobId":
            await agent.publish(job_id)
        elif key == "conversationId":
            await agent.open_conversation(proposal_id)
        else:
            await agent.get_proposal(proposal_id)
    assert "unexpected" in refused.value.message and "<!here>" not in str(refused.value)


async def test_a_claim_start_with_a_foreign_link_fails_plainly(client, sandbox):
    registration = await client.register_agent(agent_name="hirebot")
    await sandbox.call("POST", "hostile", {"urls": "elsewhere", "path": "/api/agent/identity/claim"})
    with pytest.raises(errors.OpenTrainError) as refused:
        await client.start_claim(registration.claim_token, "owner@example.com")
    assert "verification_uri" in refused.value.message and "evil" not in str(refused.value)
    await sandbox.call("DELETE", "hostile")
    started = await client.start_claim(registration.claim_token, "owner@example.com")
    assert started.verification_uri.startswith(client.base_url + "/claim?")  # http, but on loopback


async def test_a_claim_code_must_be_six_digits(client, sandbox):
    registration = await client.register_agent(agent_name="hirebot")
    await sandbox.call("POST", "hostile", {"ids": ["user_code"], "path": "/api/agent/identity/claim"})
    with pytest.raises(errors.OpenTrainError) as refused:
        await client.start_claim(registration.claim_token, "owner@example.com")
    assert "user_code" in refused.value.message


async def test_links_in_error_details_pass_the_policy(client, sandbox):
    agent = client.with_token(await sandbox.token(claimed=False))
    with pytest.raises(errors.ClaimRequired) as trusted:
        await agent.open_conversation("prop_1")
    assert trusted.value.claim_url == f"{APP}/claim"
    await sandbox.call("POST", "hostile", {"urls": "elsewhere", "text": True})
    with pytest.raises(errors.ClaimRequired) as refused:
        await agent.open_conversation("prop_1")
    assert refused.value.claim_url is None and "claimUrl" not in refused.value.details


@pytest.mark.parametrize("answer, page", [
    ({"id": "u1", "profileUrl": "https://evil.example/phish"}, None),
    ({"id": "u1", "profileSlug": "maria-g", "profileUrl": "https://evil.example/phish"}, f"{APP}/profile/maria-g"),
    ({"id": "u1", "profileSlug": "maria|<!here>", "profileUrl": f"{APP}/profile/maria-g"}, None),
])
async def test_a_trainers_profile_link_comes_from_the_link_policy_only(answer, page):
    """A `profileUrl` in the answer is never the link shown: the page is built from a well-formed slug, or none."""
    crafted = httpx.MockTransport(lambda request: httpx.Response(200, json={"freelancer": answer}))
    async with httpx.AsyncClient(transport=crafted) as http:
        agent = OpenTrainClient("https://api.opentrain.example", "token", http=http)
        assert (await agent.get_freelancer("u1")).profile_url == page
