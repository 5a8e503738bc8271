"""Proposals added through the sandbox become Slack cards exactly once: one worker, three at once, one killed."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from bot.hiring.accounts import Accounts
from bot.hiring.jobs import LEDGER_KIND, mark_closed
from bot.infra.scheduler import Scheduler
from bot.infra.secretbox import SecretBox
from bot.infra.storage import connect
from bot.ledger import reader as ledger_module
from bot.ledger.reader import ProposalLedger
from bot.opentrain.client import OpenTrainClient
from bot.slack.outbox import Outbox
from tests.support.market import Market, seed_job
from tests.support.proposals import CHANNEL, ROOT_TS, TEAM, slack_client

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    """One bot process's proposal work: its own Redis connection, OpenTrain client and scheduler."""

    def __init__(self, redis_url: str, namespace: str, sandbox_url: str, slack_api, token: str, clock, *,
                 lease_seconds: float = 30.0, send_interval: float = 1.0, poll_seconds: float = 30.0,
                 proposals_channel: str | None = None):
        self.redis = connect(redis_url)
        self.opentrain = OpenTrainClient(sandbox_url, max_attempts=1)
        accounts = Accounts(self.redis, namespace, self.opentrain, SecretBox(Fernet.generate_key()), app_token=token)
        self.scheduler = Scheduler(self.redis, namespace, lease_seconds=lease_seconds, clock=clock)
        self.outbox = Outbox(self.redis, namespace, slack_client(slack_api), self.scheduler,
                             proposals_channel=proposals_channel, clock=clock, send_interval=send_interval)
        self.ledger = ProposalLedger(self.redis, namespace, accounts, self.outbox, poll_seconds=poll_seconds,
                                     clock=clock)
        self.ledger.register(self.scheduler)
        self.outbox.register(self.scheduler)

    async def aclose(self) -> None:
        await self.opentrain.aclose()
        await self.redis.aclose()


def shown(api) -> Counter[str]:
    """How many Slack messages name each proposal (a card, or a line of a digest)."""
    counts: Counter[str] = Counter()
    for message in api.messages.values():
        counts.update(set(re.findall(r"prop_[0-9a-f]+", json.dumps(message.blocks))))
    return counts


async def publish_from_slack(market: Market, token: str, redis, namespace: str, channel: str = CHANNEL) -> str:
    """A job published by the account and recorded as the engine records a /hire from `channel`."""
    job_id, job_url = market.publish_job(token)
    await seed_job(redis, namespace, job_id=job_id, job_url=job_url, workspace_id=TEAM, channel=channel,
                   root_ts=ROOT_TS)
    return job_id


async def pump(worker: Worker, clock, until, rounds: int = 120) -> None:
    """Run due work, moving the hand clock a second at a time, until `until()` holds."""
    for _ in range(rounds):
        await worker.scheduler.run_once()
        if until():
            return
        clock.advance(1.0)
    raise AssertionError("the expected Slack messages never appeared")


async def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the cards")
        await asyncio.sleep(0.05)


async def test_cards_appear_once_in_the_job_thread_and_follow_status_changes(
        redis, redis_url, namespace, sandbox_url, slack_api, clock):
    market = Market(sandbox_url)
    token = market.account()
    job_id = await publish_from_slack(market, token, redis, namespace)
    foreign_job, _ = market.publish_job(token)  # same account, not published from Slack: no card
    worker = Worker(redis_url, namespace, sandbox_url, slack_api, token, clock)
    await worker.scheduler.schedule(LEDGER_KIND, TEAM)  # what the engine does right after a publish

    first = market.propose(job_id)
    market.propose(foreign_job)
    await pump(worker, clock, lambda: shown(slack_api)[first[0]])
    second = market.propose(job_id)
    await pump(worker, clock, lambda: shown(slack_api)[second[0]])

    card = slack_api.message(*await worker.outbox.location(TEAM, first[0]))
    assert card.thread_ts == ROOT_TS and "Request hire" in json.dumps(card.blocks)
    assert "avatars" not in json.dumps(card.blocks)  # no photo or profile link, only the masked name

    # A burst arrives as one digest; reading the ledger again repeats nothing.
    burst = market.propose(job_id, 6)
    await pump(worker, clock, lambda: all(shown(slack_api)[p] for p in burst))
    assert await worker.ledger.read(TEAM) > clock.now
    await pump(worker, clock, lambda: True, rounds=5)
    assert shown(slack_api) == Counter({p: 1 for p in first + second + burst})
    assert len(slack_api.messages) == 3
    digest = slack_api.message(*await worker.outbox.location(TEAM, burst[0]))
    assert "6 new proposals" in digest.text

    # A status change edits the card in place.
    market.set_status(first[0], "SHORTLISTED")
    await pump(worker, clock, lambda: card.updates == 1)
    assert "Shortlisted" in card.text and len(slack_api.messages) == 3

    # The cost follows events: one fetch per event of ours, never a job's proposal list.
    assert market.requests(f"/jobs/{job_id}/proposals") == 0
    assert market.requests("/api/public/v1/proposals/") == 2 + 6 + 1
    await worker.aclose()
    market.close()


async def test_proposals_channel_gets_top_level_cards(redis, redis_url, namespace, sandbox_url, slack_api, clock):
    market = Market(sandbox_url)
    token = market.account()
    job_id = await publish_from_slack(market, token, redis, namespace)
    worker = Worker(redis_url, namespace, sandbox_url, slack_api, token, clock, proposals_channel="CPROPOSALS")
    await worker.scheduler.schedule(LEDGER_KIND, TEAM)
    [proposal] = market.propose(job_id)
    await pump(worker, clock, lambda: shown(slack_api)[proposal])
    [message] = slack_api.messages.values()
    assert message.channel == "CPROPOSALS" and message.thread_ts is None
    await worker.aclose()
    market.close()


async def two_jobs(redis, namespace, market: Market, token: str) -> list[str]:
    return [await publish_from_slack(market, token, redis, namespace, f"CJOB{index}") for index in range(2)]


async def test_three_workers_at_once_post_each_proposal_once(redis, redis_url, namespace, sandbox_url, slack_api):
    market = Market(sandbox_url)
    token = market.account()
    jobs = await two_jobs(redis, namespace, market, token)
    workers = [Worker(redis_url, namespace, sandbox_url, slack_api, token, time.time, lease_seconds=5,
                      send_interval=0.05, poll_seconds=0.1) for _ in range(3)]
    stop = asyncio.Event()
    running = [asyncio.create_task(w.scheduler.run_forever(stop, idle_sleep=0.02)) for w in workers]
    await workers[0].scheduler.schedule(LEDGER_KIND, TEAM)

    expected: list[str] = []
    for _ in range(5):
        expected += market.propose(jobs[0], 2) + market.propose(jobs[1], 1)
        await asyncio.sleep(0.1)
    await wait_until(lambda: set(shown(slack_api)) >= set(expected))
    await asyncio.sleep(0.5)  # room for a duplicate to show up, if the design allowed one
    stop.set()
    await asyncio.gather(*running)

    assert shown(slack_api) == Counter({p: 1 for p in expected})
    for worker in workers:
        await worker.aclose()
    market.close()


async def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(
        redis, redis_url, namespace, sandbox_url, slack_api, tmp_path):
    market = Market(sandbox_url)
    token = market.account()
    # six channels, two cards each: a batch of separate posts
    jobs = [await publish_from_slack(market, token, redis, namespace, f"CKILL{index}") for index in range(6)]
    expected = [p for job_id in jobs for p in market.propose(job_id, 2)]

    # The worker's stderr goes to a log file; the worker holds its own handle, so ours is closed once it started.
    with await asyncio.to_thread(open, tmp_path / "worker.log", "w") as worker_log:
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "worker", cwd=ROOT, stdout=subprocess.DEVNULL, stderr=worker_log,
            env={**os.environ, "REDIS_URL": redis_url, "REDIS_NAMESPACE": namespace,
                 "OPENTRAIN_BASE_URL": sandbox_url, "OPENTRAIN_API_TOKEN": token,
                 "SLACK_BOT_TOKEN": "xoxb-test-bot-token", "SLACK_API_URL": slack_api.url, "DATA_DIR": str(tmp_path),
                 "OPENTRAIN_POLL_SECONDS": "0.2"})
    await seed_ledger(redis_url, namespace)
    try:
        await slack_api.wait_for("chat.postMessage", 3, timeout=30)
    finally:
        worker.send_signal(signal.SIGKILL)
        await asyncio.wait_for(worker.wait(), timeout=10)
    assert 0 < len(shown(slack_api)) < len(expected), "the kill should land mid-batch"

    # The replacement starts after the dead worker's leases ran out (its clock is past them).
    after_leases = lambda: time.time() + 60  # noqa: E731
    replacement = Worker(redis_url, namespace, sandbox_url, slack_api, token, after_leases, send_interval=0.05,
                         poll_seconds=0.2)
    stop = asyncio.Event()
    running = asyncio.create_task(replacement.scheduler.run_forever(stop, idle_sleep=0.02))
    await replacement.outbox.wake_pending()
    await wait_until(lambda: set(shown(slack_api)) >= set(expected))
    await asyncio.sleep(0.5)
    stop.set()
    await running

    assert shown(slack_api) == Counter({p: 1 for p in expected})
    await replacement.aclose()
    market.close()


async def seed_ledger(redis_url: str, namespace: str) -> None:
    redis = connect(redis_url)
    await Scheduler(redis, namespace).schedule(LEDGER_KIND, TEAM)
    await redis.aclose()


async def test_a_refused_token_is_retried_soon_then_backs_off_and_recovers(
        redis, redis_url, namespace, sandbox_url, slack_api, clock):
    market = Market(sandbox_url)
    old_token = market.account()
    job_id = await publish_from_slack(market, old_token, redis, namespace)
    market.propose(job_id)
    # The token dies under the reader, as every pre-claim token does the moment a claim succeeds.
    async with httpx.AsyncClient() as http:
        revoked = await http.post(f"{sandbox_url}/api/agent/oauth/revoke", data={"token": old_token})
    assert revoked.status_code == 200
    stale = Worker(redis_url, namespace, sandbox_url, slack_api, old_token, clock)
    assert await stale.ledger.read(TEAM) == clock.now + 2  # soon: the stored token may just have been swapped
    assert await stale.ledger.read(TEAM) == clock.now + 4  # still refused: back off
    assert not slack_api.messages
    await stale.aclose()

    fresh_token = market.account()  # stands for the token the claim stored
    fresh = Worker(redis_url, namespace, sandbox_url, slack_api, fresh_token, clock)
    market.propose(job_id)
    await fresh.ledger.read(TEAM)
    assert not await redis.exists(f"{namespace}:{{ws:{TEAM}}}:ledger:refused")
    await fresh.aclose()
    market.close()


def fail_fetches(market: Market, proposal_id: str, status: int, times: int = 1, **extra) -> None:
    market.control("faults", {"path": f"/api/public/v1/proposals/{proposal_id}", "method": "GET", "status": status,
                              "times": times, **extra})


async def test_a_proposal_opentrain_will_not_serve_is_passed_over_not_retried_forever(
        redis, redis_url, namespace, sandbox_url, slack_api, clock):
    market = Market(sandbox_url)
    token = market.account()
    job_id = await publish_from_slack(market, token, redis, namespace)
    worker = Worker(redis_url, namespace, sandbox_url, slack_api, token, clock)
    *refused, served = market.propose(job_id, 4)
    # A bad request, a conflict, and a status the client knows no class for (as with a payload it cannot read).
    for proposal_id, status in zip(refused, (400, 409, 422), strict=True):  # three refused proposals, three statuses
        fail_fetches(market, proposal_id, status, times=100)

    await worker.scheduler.schedule(LEDGER_KIND, TEAM)
    await pump(worker, clock, lambda: shown(slack_api)[served])
    assert shown(slack_api) == Counter({served: 1})
    assert all(market.requests(f"/proposals/{p}") == 1 for p in refused)  # each asked once, then passed over
    await worker.aclose()
    market.close()


@pytest.mark.parametrize("status, extra, wait", [(429, {"retryAfterSeconds": 7}, 7), (503, {}, 30)])
async def test_a_failed_proposal_fetch_is_retried_when_opentrain_allows(
        redis, redis_url, namespace, sandbox_url, slack_api, clock, status, extra, wait):
    market = Market(sandbox_url)
    token = market.account()
    job_id = await publish_from_slack(market, token, redis, namespace)
    worker = Worker(redis_url, namespace, sandbox_url, slack_api, token, clock, poll_seconds=30)
    [proposal] = market.propose(job_id)
    fail_fetches(market, proposal, status, **extra)

    assert await worker.ledger.read(TEAM) == clock.now + wait  # Retry-After, or the poll interval; never "idle"
    clock.advance(wait)
    await worker.ledger.read(TEAM)
    await pump(worker, clock, lambda: shown(slack_api)[proposal])
    assert shown(slack_api) == Counter({proposal: 1})
    await worker.aclose()
    market.close()


async def test_a_read_stopped_by_its_page_bound_goes_on_at_once(
        redis, redis_url, namespace, sandbox_url, slack_api, clock, monkeypatch):
    monkeypatch.setattr(ledger_module, "PAGE_SIZE", 2)
    monkeypatch.setattr(ledger_module, "MAX_PAGES_PER_READ", 2)
    market = Market(sandbox_url)
    token = market.account()
    job_id = await publish_from_slack(market, token, redis, namespace)
    worker = Worker(redis_url, namespace, sandbox_url, slack_api, token, clock)
    proposals = market.propose(job_id, 6)

    assert await worker.ledger.read(TEAM) == clock.now  # 4 of the 6 events read: more is waiting
    assert await worker.ledger.read(TEAM) > clock.now  # the last 2: the ledger's end, back to the poll cadence
    await pump(worker, clock, lambda: all(shown(slack_api)[p] for p in proposals))
    await worker.aclose()
    market.close()


async def test_a_job_closed_from_slack_gets_no_new_cards_but_its_cards_still_follow(
        redis, redis_url, namespace, sandbox_url, slack_api, clock):
    market = Market(sandbox_url)
    token = market.account()
    job_id = await publish_from_slack(market, token, redis, namespace)
    worker = Worker(redis_url, namespace, sandbox_url, slack_api, token, clock)
    await worker.scheduler.schedule(LEDGER_KIND, TEAM)
    first = market.propose(job_id)
    await pump(worker, clock, lambda: shown(slack_api)[first[0]])
    card = slack_api.message(*await worker.outbox.location(TEAM, first[0]))

    await mark_closed(redis, namespace, job_id)
    late = market.propose(job_id)
    market.set_status(first[0], "SHORTLISTED")
    fetches = market.requests("/api/public/v1/proposals/")
    await pump(worker, clock, lambda: card.updates == 1)
    assert not shown(slack_api)[late[0]] and len(slack_api.messages) == 1
    assert market.requests("/api/public/v1/proposals/") == fetches + 1  # the status change only: no fetch for a card
    await worker.aclose()
    market.close()
