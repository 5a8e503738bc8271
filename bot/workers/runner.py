"""`hirebot worker`: claim polling, ledger reads and the Slack outbox, with no Slack listener in the process.

`serve` runs the same work in-process through `proposal_work` (and mounts its webhook receiver); any number of
processes may run it at once, since every item of work is leased in Redis by the scheduler.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass

import aiohttp
import httpx

from bot.infra.secretbox import SecretBox
from bot.infra.settings import Settings
from bot.ledger.reader import LEDGER_KIND, ProposalLedger
from bot.ledger.webhooks import WebhookReceiver, WebhookStore, WebhookSubscriptions
from bot.infra.storage import connect_from_settings
from bot.slack.outbox import Outbox, outbox_web_client
from bot.infra.scheduler import Scheduler

log = logging.getLogger(__name__)

@dataclass
class ProposalWork:
    """Everything proposal notifications need in one process."""

    ledger: ProposalLedger
    outbox: Outbox
    receiver: WebhookReceiver
    scheduler: Scheduler
    redis: object
    namespace: str

    def register(self) -> None:
        self.ledger.register(self.scheduler)
        self.outbox.register(self.scheduler)

    async def resume(self) -> None:
        """After a restart: read every known ledger now and finish any half-sent lane."""
        await self.ledger.resume(self.scheduler)


def proposal_work(settings: Settings, redis, scheduler: Scheduler, accounts,
                  session: aiohttp.ClientSession | None = None) -> ProposalWork:
    namespace = settings.redis_namespace
    store = WebhookStore(redis, namespace, SecretBox.from_settings(settings))
    public_url = str(settings.public_url) if settings.public_url else None
    outbox = Outbox(redis, namespace, outbox_web_client(settings, session), scheduler,
                    proposals_channel=settings.proposals_channel, in_thread=settings.proposals_in_thread)
    ledger = ProposalLedger(redis, namespace, accounts, outbox, poll_seconds=settings.opentrain_poll_seconds,
                            subscriptions=WebhookSubscriptions(store, accounts, public_url))

    async def ring(workspace_id: str) -> None:
        await scheduler.schedule(LEDGER_KIND, workspace_id)

    return ProposalWork(ledger, outbox, WebhookReceiver(store, ring), scheduler, redis, namespace)


async def run_workers(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or SIGINT/SIGTERM when no event is given)."""
    from bot.hiring.engine import HiringEngine
    from bot.slack.app import build_web_client
    from bot.slack.observer import SlackClaimObserver

    stop = stop or _stop_on_signals()
    redis = connect_from_settings(settings)
    session = aiohttp.ClientSession()
    http = httpx.AsyncClient(timeout=settings.opentrain_timeout_seconds)
    try:
        scheduler = Scheduler(redis, settings.redis_namespace)
        engine = HiringEngine.from_settings(settings, redis, scheduler, http=http)
        engine.add_claim_observer(SlackClaimObserver(build_web_client(settings, session=session)))
        engine.register_workers(scheduler)
        work = proposal_work(settings, redis, scheduler, engine.accounts, session)
        work.register()
        await work.resume()
        log.info("hirebot worker running (claim polling, proposal notifications)")
        await scheduler.run_forever(stop)
    finally:
        await http.aclose()
        await session.close()
        await redis.aclose()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop
