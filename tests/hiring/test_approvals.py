"""The approval tracker over a real Redis and the sandbox: an approval's end is shown once, however many processes
notice it at once, and shown after all by the next notice when the process that took it died before showing it."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.fernet import Fernet

from bot.hiring.accounts import Accounts
from bot.hiring.approvals import APPROVAL_EXPIRY_KIND, SHOW_LEASE_MS, ApprovalTracker, TrackedApproval
from bot.infra.scheduler import Scheduler
from bot.infra.secretbox import SecretBox
from bot.opentrain.client import OpenTrainClient
from tests.support.clock import HandClock
from tests.support.market import Market

TEAM = "T1"


class Recording:
    def __init__(self, fail_first: bool = False) -> None:
        self.seen: list[TrackedApproval] = []
        self._fail_first = fail_first

    async def approval_changed(self, approval: TrackedApproval) -> None:
        if self._fail_first and not approval.pending:
            self._fail_first = False
            raise RuntimeError("the process died while showing it")
        self.seen.append(approval)

    def ends(self) -> list[str]:
        return [a.status for a in self.seen if not a.pending]


def tracker(redis, namespace, sandbox_url, token, observer, clock=None) -> ApprovalTracker:
    accounts = Accounts(redis, namespace, OpenTrainClient(sandbox_url), SecretBox(Fernet.generate_key()),
                        app_token=token)
    made = ApprovalTracker(redis, namespace, accounts, Scheduler(redis, namespace), **({"clock": clock}
                                                                                         if clock else {}))
    made.add_observer(observer)
    return made


async def a_hire_request(market: Market, token: str) -> str:
    job_id, _ = market.publish_job(token)
    [proposal_id] = market.propose(job_id)
    async with OpenTrainClient(market.url, token) as client:
        return (await client.request_hire(proposal_id, "First batch", 100, "2026-12-31")).approval.id


async def test_an_end_noticed_by_several_processes_at_once_is_shown_once(redis, namespace, sandbox_url):
    market = Market(sandbox_url)
    token = market.account()
    observers = [Recording() for _ in range(4)]
    trackers = [tracker(redis, namespace, sandbox_url, token, o) for o in observers]
    approval_id = await a_hire_request(market, token)
    async with OpenTrainClient(sandbox_url, token) as client:
        await trackers[0].track(TEAM, await client.get_approval(approval_id), "UREQ", {"card": "proposal"})
        market.control(f"approvals/{approval_id}/resolve", {"decision": "decline"})
        ended = await client.get_approval(approval_id)
    await asyncio.gather(*(t.end(TEAM, ended) for t in trackers), *(t.refresh(TEAM, approval_id) for t in trackers))
    assert sum(len(o.ends()) for o in observers) == 1
    assert (await trackers[1].load(TEAM, approval_id)).status == "declined"
    market.close()


async def test_an_end_whose_showing_failed_is_shown_by_the_next_notice_at_once(redis, namespace, sandbox_url):
    market = Market(sandbox_url)
    token = market.account()
    now = [1000.0]
    failing, next_notice = Recording(fail_first=True), Recording()
    first = tracker(redis, namespace, sandbox_url, token, failing, clock=lambda: now[0])
    second = tracker(redis, namespace, sandbox_url, token, next_notice, clock=lambda: now[0])
    approval_id = await a_hire_request(market, token)
    async with OpenTrainClient(sandbox_url, token) as client:
        await first.track(TEAM, await client.get_approval(approval_id), "UREQ", {})
    market.control(f"approvals/{approval_id}/resolve", {"decision": "confirm"})
    with pytest.raises(RuntimeError):
        await first.refresh(TEAM, approval_id)  # an observer failed while showing it: the event is read again
    await second.refresh(TEAM, approval_id)  # within the 30 s the show lease would have lasted
    await second.refresh(TEAM, approval_id)
    assert next_notice.ends() == ["confirmed"] and failing.ends() == []
    market.close()


class Stuck(Recording):
    """An observer whose process stops while showing an end (it never returns, never fails)."""

    def __init__(self) -> None:
        super().__init__()
        self.showing = asyncio.Event()

    async def approval_changed(self, approval: TrackedApproval) -> None:
        if not approval.pending:
            self.showing.set()
            await asyncio.Event().wait()
        self.seen.append(approval)


async def test_a_notice_during_anothers_show_is_checked_again_after_its_lease(redis, namespace, sandbox_url):
    market = Market(sandbox_url)
    token = market.account()
    clock = HandClock(1000.0)
    stuck, watching = Stuck(), Recording()
    first = tracker(redis, namespace, sandbox_url, token, stuck, clock=clock)
    second = tracker(redis, namespace, sandbox_url, token, watching, clock=clock)
    scheduler = Scheduler(redis, namespace, clock=clock)
    second.register(scheduler)
    approval_id = await a_hire_request(market, token)
    async with OpenTrainClient(sandbox_url, token) as client:
        await first.track(TEAM, await client.get_approval(approval_id), "UREQ", {})
    market.control(f"approvals/{approval_id}/resolve", {"decision": "confirm"})
    dying = asyncio.create_task(first.refresh(TEAM, approval_id))
    await stuck.showing.wait()
    await second.refresh(TEAM, approval_id)  # the ledger's re-read: the cursor moves past it
    assert watching.ends() == []
    item = f"{TEAM}:{approval_id}"
    assert await scheduler.due_at(APPROVAL_EXPIRY_KIND, item) <= clock() + SHOW_LEASE_MS / 1000 + 1  # not 72 h
    clock.advance(SHOW_LEASE_MS / 1000 + 1)
    await scheduler.run_once()
    assert watching.ends() == ["confirmed"]
    dying.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dying
    market.close()


async def test_an_approval_nobody_tracked_is_left_alone(redis, namespace, sandbox_url):
    market = Market(sandbox_url)
    token = market.account()
    observer = Recording()
    approval_id = await a_hire_request(market, token)  # asked for by another tool on the same account
    assert await tracker(redis, namespace, sandbox_url, token, observer).refresh(TEAM, approval_id) is None
    assert observer.seen == [] and market.requests(f"/approvals/{approval_id}") == 0
    market.close()


async def test_pending_lists_what_waits_for_a_human_until_it_ends(redis, namespace, sandbox_url):
    market = Market(sandbox_url)
    token = market.account()
    watching = tracker(redis, namespace, sandbox_url, token, Recording())
    first, second = await a_hire_request(market, token), await a_hire_request(market, token)
    async with OpenTrainClient(sandbox_url, token) as client:
        for approval_id in (first, second):
            await watching.track(TEAM, await client.get_approval(approval_id), "UREQ", {})
        assert [a.approval_id for a in await watching.pending(TEAM)] == [second, first]  # newest first
        market.control(f"approvals/{first}/resolve", {"decision": "confirm"})
        assert await watching.end(TEAM, await client.get_approval(first))
    assert [a.approval_id for a in await watching.pending(TEAM)] == [second]
    assert await watching.pending("T-other") == []
    market.close()
