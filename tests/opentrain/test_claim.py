"""The agent-auth ceremony through the client, over real HTTP against the sandbox: every claim state."""

from __future__ import annotations

import pytest

from bot.opentrain import errors

POST_CLAIM_SCOPES = {"jobs:read", "jobs:write", "proposals:read", "proposals:write", "messages:read",
                     "messages:write", "payments:read", "team:read", "team:write"}


async def test_claim_ceremony_from_registration_to_revocation(client, sandbox):
    registration = await client.register_agent(agent_name="hirebot", organization_name="Acme")
    claim_token = registration.claim_token
    agent = client.with_token(registration.access_token)
    me = await agent.me()
    assert me.account.claimed is False and "jobs:write" in me.token.scopes

    with pytest.raises(errors.AuthorizationPending):  # no attempt started yet
        await client.poll_claim(claim_token)
    with pytest.raises(errors.SlowDown):  # polled again sooner than `interval`
        await client.poll_claim(claim_token)

    await sandbox.call("POST", "users", {"email": "taken@example.com"})
    with pytest.raises(errors.InvalidRequest) as taken:
        await client.start_claim(claim_token, "taken@example.com")
    assert taken.value.email_already_registered

    started = await client.start_claim(claim_token, "owner@example.com")
    assert len(started.user_code) == 6 and "ot_cat_" in started.verification_uri and started.interval == 5
    await sandbox.advance(started.interval)
    with pytest.raises(errors.AuthorizationPending):
        await client.poll_claim(claim_token)

    await sandbox.call("POST", "claims/confirm", {"user_code": started.user_code, "email": "owner@example.com"})
    await sandbox.advance(started.interval)
    grant = await client.poll_claim(claim_token)
    assert set(grant.scopes) == POST_CLAIM_SCOPES
    await sandbox.advance(started.interval)
    with pytest.raises(errors.InvalidGrant):  # the post-claim token is handed out once
        await client.poll_claim(claim_token)

    with pytest.raises(errors.Unauthorized):  # every pre-claim token died with the claim
        await agent.me()
    owner = agent.with_token(grant.access_token)
    assert (await owner.me()).account.claimed is True

    await client.revoke_token(grant.access_token)
    await client.revoke_token(grant.access_token)  # always 200, even for a dead token
    with pytest.raises(errors.Unauthorized):
        await owner.me()


async def test_claim_window_closes_and_lapsed_attempts(client, sandbox):
    registration = await client.register_agent()
    started = await client.start_claim(registration.claim_token, "late@example.com")
    await sandbox.advance(1801)  # the 30-minute attempt lapsed inside the 24 h window
    with pytest.raises(errors.AuthorizationPending) as lapsed:
        await client.poll_claim(registration.claim_token)
    assert "attempt_expired" in lapsed.value.description
    assert started.user_code not in str(lapsed.value)

    await sandbox.advance(86400)
    with pytest.raises(errors.ExpiredToken):
        await client.poll_claim(registration.claim_token)
    with pytest.raises(errors.InvalidRequest) as closed:
        await client.start_claim(registration.claim_token, "late@example.com")
    assert not closed.value.email_already_registered
    with pytest.raises(errors.InvalidGrant):
        await client.poll_claim("ot_clm_unknown")


async def test_registration_refusals(client, sandbox, sleeps):
    await sandbox.call("POST", "faults", {"path": "/api/agent/identity", "status": 429, "retryAfterSeconds": 2})
    registration = await client.register_agent()  # a refused write is safe to send again
    assert registration.access_token.get_secret_value().startswith("ot_pat_") and sleeps == [2]

    await sandbox.call("POST", "faults", {"path": "/api/agent/identity", "status": 429, "retryAfterSeconds": 1,
                                          "times": 3})
    with pytest.raises(errors.OAuthRateLimited) as limited:
        await client.register_agent()
    assert limited.value.retry_after == 1 and isinstance(limited.value, errors.RateLimited)

    await sandbox.call("POST", "features", {"agent_anonymous_registration": False})
    with pytest.raises(errors.AnonymousNotEnabled):
        await client.register_agent()
