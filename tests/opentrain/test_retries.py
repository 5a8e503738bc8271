"""The retry policy against injected sandbox faults: what is retried, what never is, and how long it waits."""

from __future__ import annotations

import logging
import socket

import pytest

from bot.opentrain import OpenTrainClient, RetryPolicy, errors

ME = "/api/public/v1/auth/me"
DRAFTS = "/api/public/v1/job-drafts"
DESCRIPTION = "We need 5 Spanish speakers to label sentiment in 20,000 posts at $0.05 per label."


@pytest.fixture
async def owner(client, sandbox):
    return client.with_token(await sandbox.token())


async def test_reads_retry_on_503_and_dropped_connections(owner, sandbox, sleeps, caplog):
    await sandbox.fault("auth/me", status=503, times=2)
    with caplog.at_level(logging.WARNING, logger="bot.opentrain"):
        assert (await owner.me()).token.scopes
    assert len(await sandbox.requests(ME)) == 3 and len(sleeps) == 2
    assert all(0 <= s <= 0.5 * 2 ** n for n, s in enumerate(sleeps))  # full jitter under the exponential cap
    assert "retry 2/3" in caplog.text and "HTTP 503" in caplog.text

    await sandbox.fault("auth/me", drop=True)
    assert (await owner.me()).token.scopes
    await sandbox.fault("auth/me", status=503, times=3)
    with pytest.raises(errors.ServerError):  # bounded: three attempts, then the last error
        await owner.me()
    assert len(await sandbox.requests(ME)) == 3 + 2 + 3


async def test_writes_retry_only_when_idempotent(owner, sandbox):
    await sandbox.fault("job-drafts", method="POST", status=503)
    with pytest.raises(errors.ServerError):  # no idempotency key: the server may have acted
        await owner.create_draft(DESCRIPTION)
    await sandbox.fault("job-drafts", method="POST", drop=True)
    with pytest.raises(errors.TransportError):
        await owner.create_draft(DESCRIPTION)
    assert len(await sandbox.requests(DRAFTS)) == 2

    await sandbox.fault("job-drafts", method="POST", drop=True)
    await sandbox.fault("job-drafts", method="POST", status=503)
    first = await owner.create_draft(DESCRIPTION, idempotency_key="retry-me")
    assert (await owner.create_draft(DESCRIPTION, idempotency_key="retry-me")).job_id == first.job_id
    assert len([job async for job in owner.my_jobs()]) == 1  # the retried create made one draft

    await sandbox.fault(f"jobs/{first.job_id}/close", status=504)
    assert (await owner.close_job(first.job_id)).status == "ARCHIVED"


async def test_rate_limits_wait_for_retry_after_within_a_cap(owner, sandbox, sleeps):
    await sandbox.fault("updates", status=429, retryAfterSeconds=3)
    assert (await owner.updates()).events == []
    assert sleeps == [3]

    await sandbox.fault("job-drafts", method="POST", status=429, retryAfterSeconds=1)
    await owner.create_draft(DESCRIPTION)  # a refused write is safe to send again
    assert sleeps == [3, 1]

    await sandbox.fault("updates", status=429, retryAfterSeconds=120)
    with pytest.raises(errors.RateLimited) as limited:
        await owner.updates()
    assert limited.value.retry_after == 120 and sleeps == [3, 1]


async def test_unreachable_and_slow_servers_raise_transport_errors(sandbox_url, sandbox, policy, sleeps):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    async with OpenTrainClient(f"http://127.0.0.1:{closed_port}", "ot_pat_x_y", policy=policy) as nowhere:
        with pytest.raises(errors.TransportError) as refused:
            await nowhere.create_draft(DESCRIPTION)  # never sent, so even a plain write is retried
    assert "connection failed" in str(refused.value) and len(sleeps) == 2

    token = await sandbox.token()
    async with OpenTrainClient(sandbox_url, token, timeout=0.2, policy=RetryPolicy(max_attempts=1)) as impatient:
        await sandbox.fault("job-drafts", method="POST", latencyMs=1000)
        with pytest.raises(errors.TransportError) as slow:
            await impatient.create_draft(DESCRIPTION)
    assert "timed out" in str(slow.value)
