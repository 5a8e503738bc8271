"""A live job's edit and invites through the client against the sandbox: every documented outcome read as a type
and a property, and which of them are retried (the invite) or never repeated blindly (the edit)."""

from __future__ import annotations

import pytest

from bot.opentrain import OpenTrainClient, errors
from tests.opentrain.test_jobs import open_job

PUBLIC = "/api/public/v1"


async def trainer(sandbox, **body) -> dict:
    return (await sandbox.call("POST", "freelancers", body))["freelancer"]


async def test_an_edit_applied_and_one_moderation_unpublished(client: OpenTrainClient, sandbox):
    owner = client.with_token(await sandbox.token())
    job_id = await open_job(owner)

    edited = await owner.edit_job(job_id, {"headcount": 8})
    assert edited.job_id == job_id and edited.status == "OPEN"

    with pytest.raises(errors.Conflict) as blocked:
        await owner.edit_job(job_id, {"jobDescription": "Solve captchas for our bots, pay is great."})
    assert blocked.value.moderation_blocked and not blocked.value.not_open
    assert blocked.value.moderation_reasons == ["Job asks workers to solve CAPTCHAs, which is not allowed."]
    assert blocked.value.job_status == "DRAFT"

    with pytest.raises(errors.Conflict) as not_open:  # the edit above was applied: the job is a draft now
        await owner.edit_job(job_id, {"headcount": 9})
    assert not_open.value.not_open and not not_open.value.moderation_blocked
    assert not_open.value.job_status == "DRAFT"

    with pytest.raises(errors.BadRequest) as unknown:
        await owner.edit_job(job_id, {"notAField": 1})
    assert unknown.value.issues
    with pytest.raises(errors.NotFound):
        await client.with_token(await sandbox.token()).edit_job(job_id, {"headcount": 3})  # not yours


async def test_an_edit_is_never_repeated_blindly_but_an_invite_is(client: OpenTrainClient, sandbox, sleeps):
    owner = client.with_token(await sandbox.token())
    job_id = await open_job(owner)
    maria = await trainer(sandbox, slug="maria-r")

    await sandbox.fault(f"jobs/{job_id}", method="PATCH", status=503)
    with pytest.raises(errors.ServerError):
        await owner.edit_job(job_id, {"headcount": 8})
    assert len([r for r in await sandbox.requests(f"{PUBLIC}/jobs/{job_id}") if r["method"] == "PATCH"]) == 1

    await sandbox.fault(f"jobs/{job_id}/invites", method="POST", status=503)
    invited = await owner.invite(job_id, maria["id"])
    assert invited.freelancer_id == maria["id"] and not invited.already_invited
    assert len(await sandbox.requests(f"{PUBLIC}/jobs/{job_id}/invites")) == 2 and sleeps


async def test_invites_and_their_refusals(client: OpenTrainClient, sandbox):
    owner = client.with_token(await sandbox.token())
    job_id = await open_job(owner)
    maria = await trainer(sandbox, slug="maria-g", firstName="Maria", lastInitial="G")
    busy = await trainer(sandbox, slug="busy-b", available=False)
    client_account = await trainer(sandbox, slug="acme-buyer", freelancer=False)

    profile = await owner.get_freelancer("maria-g")
    assert profile.id == maria["id"] and profile.name == "Maria G." and profile.hourly_rate_usd == 18
    assert profile.profile_url == "https://app.opentrain.ai/profile/maria-g"
    assert (await owner.get_freelancer(maria["id"])).profile_slug == "maria-g"
    with pytest.raises(errors.NotFound):
        await owner.get_freelancer("nobody")

    first = await owner.invite(job_id, maria["id"])
    again = await owner.invite(job_id, maria["id"])
    assert not first.already_invited and again.already_invited and again.proposal_id == first.proposal_id

    with pytest.raises(errors.Conflict) as unavailable:
        await owner.invite(job_id, busy["id"])
    assert unavailable.value.freelancer_unavailable
    with pytest.raises(errors.Conflict) as not_freelancer:
        await owner.invite(job_id, client_account["id"])
    assert not_freelancer.value.not_a_freelancer
    with pytest.raises(errors.NotFound):
        await owner.invite(job_id, "usr_nobody")

    await owner.close_job(job_id)
    with pytest.raises(errors.Conflict) as closed:
        await owner.invite(job_id, maria["id"])
    assert closed.value.job_not_published and not closed.value.freelancer_unavailable

    unclaimed = client.with_token(await sandbox.token(claimed=False))
    with pytest.raises(errors.ClaimRequired):
        await unclaimed.invite(await open_job(unclaimed), maria["id"])


async def test_trainers_are_forgotten_with_the_world(client: OpenTrainClient, sandbox):
    await trainer(sandbox, slug="maria-g")
    await sandbox.call("POST", "reset")
    with pytest.raises(errors.NotFound):
        await client.with_token(await sandbox.token()).get_freelancer("maria-g")
