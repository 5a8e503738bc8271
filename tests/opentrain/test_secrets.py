"""Tokens never show in the client's repr, in exception text, or in any log record of a failing call."""

from __future__ import annotations

import logging
import traceback

import pytest

from bot.opentrain import OpenTrainClient, errors


async def test_tokens_stay_out_of_reprs_errors_and_logs(sandbox_url, sandbox, policy, caplog):
    async with OpenTrainClient(sandbox_url, policy=policy) as tokenless:
        registration = await tokenless.register_agent()
    token = registration.access_token.get_secret_value()
    claim_token = registration.claim_token.get_secret_value()
    # The tail alone would give a token away too (not a split on "_": the urlsafe part may hold "_" itself).
    secrets = [token, claim_token, token[-16:]]

    async with OpenTrainClient(sandbox_url, token, policy=policy) as client:
        texts = [repr(client), repr(client.with_token(token)), repr(registration), str(registration)]
        await client.revoke_token(token)
        await sandbox.fault("auth/me", status=503)  # a logged retry, then the revoked token's 401
        with caplog.at_level(logging.DEBUG):
            with pytest.raises(errors.Unauthorized) as rejected:
                await client.me()
            with pytest.raises(errors.InvalidRequest) as refused:
                await client.start_claim(claim_token, "not-an-email")
            await sandbox.call("POST", "faults", {"path": "/api/agent/oauth/token", "drop": True})
            with pytest.raises(errors.TransportError) as dropped:
                await client.poll_claim(registration.claim_token)

    assert "retry 2/3" in caplog.text
    for error in (rejected.value, refused.value, dropped.value):
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts += [record.getMessage() for record in caplog.records]
    for secret in secrets:
        assert not any(secret in text for text in texts), secret
