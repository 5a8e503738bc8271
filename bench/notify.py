"""Proposal notifications at scale: the /updates ledger against naive per-job polling, side by side in one run.

One OpenTrain account (the sandbox, on its own thread) holds JOBS open jobs published "from Slack" (registered the
way the engine does, spread over CHANNELS channels). Proposals then arrive at a steady RATE on random jobs for
DURATION seconds, once per phase:

- ledger (poll): hirebot's worker, reading `GET /updates` every INTERVAL seconds, posting cards to the Slack stand-in;
- ledger (webhook): the same worker with a webhook subscription ringing the doorbell (and polling as a safety net);
- naive: every INTERVAL seconds, `GET /jobs/{id}/proposals` for each job, a card for every unseen proposal.

For each phase: OpenTrain requests per minute (counted on the client side, per phase) and the delay from a proposal's
creation to its card (the Slack stand-in's receipt of chat.postMessage; for naive polling, the moment a poll sees
it, so its figure is a lower bound).

Run: .venv/bin/python bench/notify.py [--jobs 1000] [--interval 30] [--rate 1] [--duration 180]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiohttp import web
from cryptography.fernet import Fernet
from slack_sdk.web.async_client import AsyncWebClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.hiring.accounts import Accounts  # noqa: E402
from bot.hiring.jobs import LEDGER_KIND  # noqa: E402
from bot.infra.scheduler import Scheduler  # noqa: E402
from bot.infra.secretbox import SecretBox  # noqa: E402
from bot.infra.storage import connect  # noqa: E402
from bot.ledger.reader import ProposalLedger  # noqa: E402
from bot.ledger.webhooks import WebhookReceiver, WebhookStore, WebhookSubscriptions  # noqa: E402
from bot.opentrain.client import OpenTrainClient  # noqa: E402
from bot.sandbox.server import SandboxThread  # noqa: E402
from bot.slack.outbox import Outbox  # noqa: E402
from tests.support.market import READY_FIELDS, seed_job  # noqa: E402
from tests.support.redis_server import test_redis_url  # noqa: E402
from tests.support.slack_api import SlackApiStandIn, StandInThread  # noqa: E402

TEAM = "TBENCH"
CHANNELS = 50
NAIVE_CONCURRENCY = 20
API = "/api/public/v1"


def proposals_in(args: dict) -> set[str]:
    """The proposals a chat.postMessage shows (a card or a digest)."""
    return set(re.findall(r"prop_[0-9a-f]+", json.dumps(args.get("blocks") or [])))


class TimedSlack(SlackApiStandIn):
    """The Slack stand-in, noting when each thing a post shows (`shown_in`: ids from its arguments) was first posted,
    and how many times."""

    def __init__(self, shown_in: Callable[[dict], set[str]] = proposals_in) -> None:
        super().__init__(team_id=TEAM)
        self._shown_in = shown_in
        self.carded_at: dict[str, float] = {}
        self.posts: dict[str, int] = {}
        self._lock = threading.Lock()

    def _api_chat_postMessage(self, args):
        answer = super()._api_chat_postMessage(args)
        now = time.time()
        with self._lock:
            for shown in self._shown_in(args):
                self.carded_at.setdefault(shown, now)
                self.posts[shown] = self.posts.get(shown, 0) + 1
        return answer


@dataclass
class Phase:
    name: str
    requests: int = 0
    started: float = 0.0
    stopped: float = 0.0
    created_at: dict[str, float] = field(default_factory=dict)
    seen_at: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self.requests, self.started = 0, time.monotonic()

    def stop(self) -> None:
        self.stopped = time.monotonic()

    @property
    def per_minute(self) -> float:
        return self.requests / ((self.stopped - self.started) / 60)

    async def count(self, request: httpx.Request) -> None:
        """An httpx request hook: every OpenTrain request this phase's client sends."""
        if "/_sandbox/" not in request.url.path:
            self.requests += 1


async def publish_jobs(sandbox_url: str, token: str, count: int) -> list[tuple[str, str]]:
    auth = {"authorization": f"Bearer {token}"}
    limit = asyncio.Semaphore(NAIVE_CONCURRENCY)
    async with httpx.AsyncClient(base_url=sandbox_url, headers=auth, timeout=30) as http:
        async def one() -> tuple[str, str]:
            async with limit:
                job_id = (await http.post(f"{API}/job-drafts", json={"rawJobDescription": "Bench job"})).json()["jobId"]
                (await http.patch(f"{API}/job-drafts/{job_id}", json=READY_FIELDS)).raise_for_status()
                published = await http.post(f"{API}/jobs/{job_id}/publish")
                published.raise_for_status()
                return job_id, published.json()["jobUrl"]
        return list(await asyncio.gather(*(one() for _ in range(count))))


async def arrive(sandbox_url: str, jobs: list[str], rate: float, duration: float, phase: Phase) -> None:
    """Proposals on random jobs at a steady rate; the creation time of each is noted."""
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as control:
        started = time.monotonic()
        sent = 0
        while time.monotonic() - started < duration:
            created = (await control.post(f"/_sandbox/jobs/{random.choice(jobs)}/proposals", json={"count": 1})).json()
            phase.created_at[created["proposals"][0]["id"]] = time.time()
            sent += 1
            await asyncio.sleep(max(0.0, started + sent / rate - time.monotonic()))


async def run_ledger(args, sandbox_url: str, slack: TimedSlack, token: str, jobs: list[str], phase: Phase,
                     webhook: bool) -> None:
    redis = connect(test_redis_url())
    namespace = f"bench-notify-{uuid.uuid4().hex[:8]}"
    for index, job_id in enumerate(jobs):
        await seed_job(redis, namespace, job_id=job_id, job_url=f"https://app.opentrain.ai/jobs/{job_id}",
                       workspace_id=TEAM, channel=f"CB{index % CHANNELS}", root_ts=f"1700000000.{index:06d}")
    parts = await worker_parts(redis, namespace, sandbox_url, slack.url, token, phase, webhook)
    scheduler = parts.scheduler
    outbox = Outbox(redis, namespace, parts.slack, scheduler)
    ledger = ProposalLedger(redis, namespace, parts.accounts, outbox, poll_seconds=args.interval,
                            subscriptions=parts.subscriptions)
    ledger.register(scheduler)
    outbox.register(scheduler)
    # Start at the current end of the feed, as a bot that has been running would be.
    await redis.set(f"{namespace}:{{ws:{TEAM}}}:ledger:cursor", await feed_end(sandbox_url, token))
    await scheduler.schedule(LEDGER_KIND, TEAM)
    stop = asyncio.Event()
    worker = asyncio.create_task(scheduler.run_forever(stop, idle_sleep=0.1))
    phase.start()
    await arrive(sandbox_url, jobs, args.rate, args.duration, phase)
    await drain(lambda: set(phase.created_at) <= set(slack.carded_at), args.interval * 2 + 30)
    stop.set()
    await worker
    phase.stop()
    phase.seen_at = {p: slack.carded_at[p] for p in phase.created_at if p in slack.carded_at}
    await parts.aclose()
    await redis.aclose()


@dataclass
class WorkerParts:
    """What a benchmark's in-process worker is made of: an OpenTrain client counting the phase's requests, the
    workspace's account, a scheduler, a Slack client, and (webhook mode) the doorbell's receiver."""

    http: httpx.AsyncClient
    opentrain: OpenTrainClient
    accounts: Accounts
    scheduler: Scheduler
    slack: AsyncWebClient
    subscriptions: WebhookSubscriptions | None
    receiver: web.AppRunner | None

    async def aclose(self) -> None:
        if self.receiver is not None:
            await self.receiver.cleanup()
        await self.opentrain.aclose()
        await self.http.aclose()


async def worker_parts(redis, namespace: str, sandbox_url: str, slack_url: str, token: str, phase: Phase,
                       webhook: bool) -> WorkerParts:
    http = httpx.AsyncClient(timeout=30, event_hooks={"request": [phase.count]})
    opentrain = OpenTrainClient(sandbox_url, http=http)
    box = SecretBox(Fernet.generate_key())
    accounts = Accounts(redis, namespace, opentrain, box, app_token=token)
    scheduler = Scheduler(redis, namespace)
    store = WebhookStore(redis, namespace, box)
    receiver, subscriptions = await doorbell(store, accounts, scheduler) if webhook else (None, None)
    slack = AsyncWebClient(token="xoxb-bench", base_url=slack_url, retry_handlers=[])
    return WorkerParts(http, opentrain, accounts, scheduler, slack, subscriptions, receiver)


async def doorbell(store: WebhookStore, accounts: Accounts,
                   scheduler: Scheduler) -> tuple[web.AppRunner, WebhookSubscriptions]:
    """A local webhook receiver ringing the ledger, and the subscriptions that point OpenTrain at it."""
    app = web.Application()
    WebhookReceiver(store, lambda ws: scheduler.schedule(LEDGER_KIND, ws)).mount(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    public_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    return runner, WebhookSubscriptions(store, accounts, public_url)


async def feed_end(sandbox_url: str, token: str) -> str:
    async with httpx.AsyncClient(base_url=sandbox_url, headers={"authorization": f"Bearer {token}"}) as http:
        cursor = None
        while True:
            page = (await http.get(f"{API}/updates", params={"limit": 200, **({"cursor": cursor} if cursor else {})})
                    ).json()
            cursor = page["nextCursor"] or cursor or "0"
            if not page["hasMore"]:
                return cursor


async def run_naive(args, sandbox_url: str, token: str, jobs: list[str], phase: Phase) -> None:
    seen: set[str] = set()
    limit = asyncio.Semaphore(NAIVE_CONCURRENCY)
    http = httpx.AsyncClient(base_url=sandbox_url, headers={"authorization": f"Bearer {token}"}, timeout=30,
                             event_hooks={"request": [phase.count]})

    async def poll(job_id: str, first: bool) -> None:
        async with limit:
            page = (await http.get(f"{API}/jobs/{job_id}/proposals", params={"limit": 100})).json()
        for proposal in page.get("proposals", []):
            if proposal["id"] not in seen:
                seen.add(proposal["id"])
                if not first:
                    phase.seen_at.setdefault(proposal["id"], time.time())

    async def sweep_forever(stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            await asyncio.gather(*(poll(job_id, False) for job_id in jobs))
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, args.interval - (time.monotonic() - started)))
            except TimeoutError:
                pass

    stop = asyncio.Event()
    await asyncio.gather(*(poll(job_id, True) for job_id in jobs))  # what existed before the phase
    phase.start()
    sweeper = asyncio.create_task(sweep_forever(stop))
    await arrive(sandbox_url, jobs, args.rate, args.duration, phase)
    await drain(lambda: set(phase.created_at) <= set(phase.seen_at), args.interval * 2 + 30)
    stop.set()
    await sweeper
    phase.stop()
    await http.aclose()


async def drain(done, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    # The condition changes on other threads (the Slack stand-in, the sandbox): no asyncio.Event to wait on.
    while not done() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)


def report(phases: list[Phase], args) -> None:
    print(f"\n{args.jobs} open jobs, proposals at {args.rate}/s for {args.duration:.0f} s, "
          f"interval {args.interval:.0f} s")
    print(f"{'approach':<18} {'OpenTrain req/min':>17} {'cards':>7} {'delay p50':>10} {'p95':>8} {'max':>8}")
    for phase in phases:
        delays = sorted(phase.seen_at[p] - phase.created_at[p] for p in phase.created_at if p in phase.seen_at)
        if delays:
            p95 = delays[min(len(delays) - 1, int(0.95 * len(delays)))]
            figures = f"{statistics.median(delays):>9.1f}s {p95:>7.1f}s {delays[-1]:>7.1f}s"
        else:
            figures = "—"
        print(f"{phase.name:<18} {phase.per_minute:>17.0f} {len(delays):>3}/{len(phase.created_at):<3} {figures}")


async def main(args) -> None:
    with SandboxThread() as sandbox, StandInThread(TimedSlack()) as slack:
        async with httpx.AsyncClient(base_url=sandbox.url) as control:
            (await control.post("/_sandbox/config", json={"publishLimitClaimed": 100_000})).raise_for_status()
            token = (await control.post("/_sandbox/tokens", json={})).json()["token"]
        print(f"publishing {args.jobs} jobs…", flush=True)
        jobs = [job_id for job_id, _ in await publish_jobs(sandbox.url, token, args.jobs)]
        phases = [Phase("ledger (poll)"), Phase("ledger (webhook)"), Phase("naive per-job poll")]
        for phase, webhook in ((phases[0], False), (phases[1], True)):
            print(f"phase: {phase.name}", flush=True)
            await run_ledger(args, sandbox.url, slack, token, jobs, phase, webhook)
        print(f"phase: {phases[2].name}", flush=True)
        await run_naive(args, sandbox.url, token, jobs, phases[2])
        report(phases, args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=30.0, help="poll interval, seconds (both approaches)")
    parser.add_argument("--rate", type=float, default=1.0, help="proposals per second")
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of arrivals per phase")
    asyncio.run(main(parser.parse_args()))
