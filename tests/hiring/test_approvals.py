"""The approval tracker over a real Redis and the sandbox: an approval's end is shown once, however many processes
notice it at once, and shown after all by the next notice when the process that took it died before showing it."""

from __future__ import annotations

import asyncio

from cryptography.fernet import Fernet

from bot.hiring.accounts import Accounts
from bot.hiring.approvals import ApprovalTracker, TrackedApproval
from bot.infra.scheduler import Scheduler
from bot.infra.secretbox import SecretBox
from bot.opentrain.client import OpenTrainClient
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


async def test_an_end_a_dead_process_took_is_shown_by_the_next_notice(redis, namespace, sandbox_url):
    market = Market(sandbox_url)
    token = market.account()
    now = [1000.0]
    dying, taking_over = Recording(fail_first=True), Recording()
    first = tracker(redis, namespace, sandbox_url, token, dying, clock=lambda: now[0])
    second = tracker(redis, namespace, sandbox_url, token, taking_over, clock=lambda: now[0])
    approval_id = await a_hire_request(market, token)
    async with OpenTrainClient(sandbox_url, token) as client:
        await first.track(TEAM, await client.get_approval(approval_id), "UREQ", {})
    market.control(f"approvals/{approval_id}/resolve", {"decision": "confirm"})
    try:
        await first.refresh(TEAM, approval_id)
    except RuntimeError:
        pass
    assert await second.refresh(TEAM, approval_id) is not None and taking_over.ends() == []  # its lease still lives
    now[0] += 31  # the dead process's lease lapses
    await second.refresh(TEAM, approval_id)
    await second.refresh(TEAM, approval_id)
    assert taking_over.ends() == ["confirmed"] and dying.ends() == []
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
