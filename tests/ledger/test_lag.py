"""The ledger lag behind /metrics: seconds since the last read that reached the end of a workspace's feed began."""

from __future__ import annotations

import httpx

from bot.ledger import reader as ledger_module
from bot.ledger.reader import ledger_lags
from tests.ledger.test_ledger import Worker, publish_from_slack
from tests.support.market import Market
from tests.support.proposals import TEAM


async def test_the_lag_starts_at_a_read_to_the_end_and_grows_while_reads_fail(
        redis, redis_url, namespace, sandbox_url, slack_api, clock, monkeypatch):
    monkeypatch.setattr(ledger_module, "PAGE_SIZE", 2)
    monkeypatch.setattr(ledger_module, "MAX_PAGES_PER_READ", 2)
    market = Market(sandbox_url)
    token = market.account()
    job_id = await publish_from_slack(market, token, redis, namespace)
    worker = Worker(redis_url, namespace, sandbox_url, slack_api, token, clock)
    market.propose(job_id, 6)
    assert await ledger_lags(redis, namespace, clock.now) == ({}, 1)  # a workspace with jobs, never read

    await worker.ledger.read(TEAM)  # 4 of the 6 events: not the end of the feed, so no lag yet
    assert await ledger_lags(redis, namespace, clock.now) == ({}, 1)
    clock.advance(5)
    caught_up_at = clock.now
    await worker.ledger.read(TEAM)  # the last 2: the end
    assert await ledger_lags(redis, namespace, clock.now) == ({TEAM: 0.0}, 0)

    clock.advance(40)
    assert await ledger_lags(redis, namespace, clock.now) == ({TEAM: 40.0}, 0)
    async with httpx.AsyncClient(timeout=5) as http:
        (await http.post(f"{sandbox_url}/_sandbox/faults", json={"path": "/api/public/v1/updates", "method": "GET",
                                                                 "status": 503, "times": 1})).raise_for_status()
    await worker.ledger.read(TEAM)  # OpenTrain fails the read: the lag keeps growing
    clock.advance(10)
    assert await ledger_lags(redis, namespace, clock.now) == ({TEAM: clock.now - caught_up_at}, 0)
    await worker.ledger.read(TEAM)  # an idle feed read to its end counts as caught up
    assert await ledger_lags(redis, namespace, clock.now) == ({TEAM: 0.0}, 0)
    await worker.aclose()
    market.close()
