"""The composition root: the one place that builds the bot's objects from Settings, once per process.

`open_core` builds what every command shares: Redis, one httpx pool for OpenTrain, the tokenless OpenTrain client,
the SecretBox, Accounts, the Scheduler and the HiringEngine. A command only chooses what runs on top of it:

- `serve`: the Slack listener behind the web server (POST /slack/events, GET /healthz, GET /readyz,
  POST /opentrain/webhooks)
  and, unless SERVE_RUNS_WORKER=false, the background work;
- `socket`: the Slack listener over Socket Mode, and the background work likewise;
- `worker`: the background work alone;
- `rotate-keys`: re-encrypt every stored secret under the newest ENCRYPTION_KEY (bot/rotation.py) and exit;
- `shell`: the terminal conversation and claim polling. With no OpenTrain token and no OPENTRAIN_BASE_URL it plays
  against a sandbox started in-process, with its own throwaway Redis namespace.

The background work is claim polling (its outcome DMed in Slack) and the proposal cards: the ledger reader fills the
Slack outbox. Every item of it is leased in Redis by the scheduler, so any number of processes may run it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import httpx
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.accounts import Accounts
from bot.hiring.approvals import ApprovalTracker
from bot.hiring.authz import Authorizer, Directory, Everyone
from bot.hiring.board import JobBoard
from bot.hiring.contracts import ContractDesk
from bot.hiring.engine import HiringEngine
from bot.hiring.job_changes import JobChanges
from bot.hiring.limits import LimitSettings
from bot.hiring.proposals import ProposalDesk
from bot.hiring.talk import CandidateTalks
from bot.infra.metrics import GaugeReader
from bot.infra.scheduler import Scheduler
from bot.infra.secretbox import SecretBox
from bot.infra.settings import Settings
from bot.infra.storage import Redis, connect_from_settings, drop_namespace
from bot.ledger.money import MoneyLedger
from bot.ledger.reader import ProposalLedger, doorbell
from bot.ledger.webhooks import WebhookReceiver, WebhookStore, WebhookSubscriptions
from bot.opentrain.client import OpenTrainClient
from bot.opentrain.links import LinkPolicy
from bot.rotation import rotate_secrets
from bot.sandbox.server import RunningSandbox, start_sandbox
from bot.shell.lifecycle import build_lifecycle
from bot.shell.main import SHELL_USER, Shell, converse, greeting
from bot.slack.app import build_app, build_web_client, secret, socket_mode
from bot.slack.clients import SlackClients, WorkspaceScheduler
from bot.slack.dedupe import EventDeduper
from bot.slack.deps import SlackDeps
from bot.slack.dialogue import SlackDialogue
from bot.slack.digest import Digests
from bot.slack.directory import SlackDirectory
from bot.slack.inbox import SlackInbox
from bot.slack.installations import RedisInstallationStore, RedisOAuthStateStore
from bot.slack.money import SlackMoney
from bot.slack.observer import SlackClaimObserver
from bot.slack.outbox import Outbox, outbox_web_client
from bot.slack.registry import SlackRegistry
from bot.slack.relay import SlackRelay, SlackTalkFront
from bot.slack.reminders import Reminders
from bot.slack.subscriptions import Subscriptions
from bot.slack.uninstall import Uninstalls
from bot.slack.work import SlowWork
from bot.telemetry import redis_gauges
from bot.web import listening, metrics_application, web_application

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0
DEMO_CLAIM_INTERVAL_SECONDS = 1
SHELL_WORKSPACE = "shell"


@dataclass
class Core:
    settings: Settings
    redis: Redis
    http: httpx.AsyncClient  # OpenTrain's pool; every workspace's client shares it
    secretbox: SecretBox
    accounts: Accounts
    scheduler: Scheduler
    authorizer: Authorizer
    engine: HiringEngine
    approvals: ApprovalTracker  # every co-signed money request, followed to its end


# Who is who in the front end that runs (Slack's directory, or the shell's single user), given the Redis to cache in.
DirectoryFor = Callable[[Redis], Directory]


@contextlib.asynccontextmanager
async def open_core(settings: Settings, directory_for: DirectoryFor) -> AsyncIterator[Core]:
    namespace = settings.redis_namespace
    redis = connect_from_settings(settings)
    http = httpx.AsyncClient(timeout=settings.opentrain_timeout_seconds)
    try:
        opentrain = OpenTrainClient(settings.opentrain_url, http=http, timeout=settings.opentrain_timeout_seconds,
                                    app_url=settings.opentrain_app)
        app_token = settings.opentrain_api_token.get_secret_value() if settings.opentrain_api_token else None
        secretbox = SecretBox.from_settings(settings)
        accounts = Accounts(redis, namespace, opentrain, secretbox, app_token=app_token)
        # Installable (OAuth): each scheduled item acts for its workspace, and an uninstalled one's items end
        scheduler = (WorkspaceScheduler if settings.slack_oauth else Scheduler)(redis, namespace)
        authorizer = Authorizer(directory_for(redis), anyone_may_answer=settings.allow_anyone_to_answer)
        limits = LimitSettings(starts_per_hour=settings.hire_starts_per_hour,
                               open_drafts_per_user=settings.open_drafts_per_user,
                               publishes_per_user_per_day=settings.publishes_per_user_per_day)
        engine = HiringEngine(redis, namespace, accounts, scheduler, authorizer=authorizer, limits=limits,
                              idle_seconds=settings.conversation_idle_seconds)
        approvals = ApprovalTracker(redis, namespace, accounts, scheduler)
        yield Core(settings, redis, http, secretbox, accounts, scheduler, authorizer, engine, approvals)
    finally:
        await http.aclose()
        await redis.aclose()


@dataclass
class ProposalWork:
    """The proposal cards: the ledger reader and the Slack outbox it fills; candidate conversations in threads."""

    ledger: ProposalLedger
    outbox: Outbox
    money: SlackMoney  # contract cards and budget notices; draws each approval's state
    talks: CandidateTalks
    talk_front: SlackTalkFront


def proposal_work(core: Core, session: aiohttp.ClientSession, clients: SlackClients | None = None) -> ProposalWork:
    settings, namespace = core.settings, core.settings.redis_namespace
    clients = clients or SlackClients(build_web_client(settings, session=session))
    slack = clients.routed(outbox_web_client(settings, session))
    outbox = Outbox(core.redis, namespace, slack, core.scheduler,
                    proposals_channel=settings.proposals_channel, in_thread=settings.proposals_in_thread)
    talks = CandidateTalks(core.redis, namespace, core.accounts, proposal_desk(core), core.scheduler)
    public_url = str(settings.public_url) if settings.public_url else None
    subscriptions = WebhookSubscriptions(WebhookStore(core.redis, namespace, core.secretbox), core.accounts,
                                         public_url)
    money = SlackMoney(core.redis, namespace, clients.routed(outbox_web_client(settings, session)), core.accounts,
                       outbox)
    core.approvals.add_observer(money)
    ledger = ProposalLedger(core.redis, namespace, core.accounts, outbox,
                            poll_seconds=settings.opentrain_poll_seconds, subscriptions=subscriptions,
                            money=MoneyLedger(core.redis, namespace, core.approvals, money),
                            conversations=talks.ring)
    links = LinkPolicy(settings.opentrain_url, settings.opentrain_app)
    return ProposalWork(ledger, outbox, money, talks, SlackTalkFront(slack, links))


def proposal_desk(core: Core) -> ProposalDesk:
    return ProposalDesk(core.redis, core.settings.redis_namespace, core.accounts, core.authorizer,
                        tracker=core.approvals)


async def run_background(core: Core, work: ProposalWork) -> None:
    """Claim polling and proposal cards in this process; after a restart, every known ledger is read at once."""
    core.engine.register_workers(core.scheduler)
    work.ledger.register(core.scheduler)
    work.outbox.register(core.scheduler)
    core.approvals.register(core.scheduler)
    work.talks.register(work.talk_front)
    await work.ledger.resume(core.scheduler)


def slack_directory(settings: Settings, client: AsyncWebClient) -> DirectoryFor:
    return lambda redis: SlackDirectory(client, redis, settings.redis_namespace,
                                        hiring_managers=settings.hiring_manager_ids,
                                        account_admins=settings.account_admin_ids)


def slack_clients(settings: Settings, session: aiohttp.ClientSession) -> SlackClients:
    """The one place a Slack token is chosen: SLACK_BOT_TOKEN's, or (OAuth) each installed workspace's."""
    return SlackClients(build_web_client(settings, session=session), per_workspace=settings.slack_oauth,
                        client_id=settings.slack_client_id or "", client_secret=secret(settings.slack_client_secret))


def attach_installations(core: Core, clients: SlackClients) -> RedisInstallationStore | None:
    """OAuth mode: the Redis installation store, read by `clients` for every workspace's token."""
    if not clients.per_workspace:
        return None
    installations = RedisInstallationStore(core.redis, core.settings.redis_namespace, core.secretbox)
    clients.attach(installations)
    return installations


def uninstalls_of(core: Core, installations: RedisInstallationStore | None) -> Uninstalls | None:
    if installations is None or not isinstance(core.scheduler, WorkspaceScheduler):
        return None
    uninstalls = Uninstalls(core.redis, core.settings.redis_namespace, installations, core.accounts,
                            core.scheduler, grace_seconds=core.settings.slack_uninstall_grace_seconds)
    uninstalls.register()
    return uninstalls


def slack_deps(core: Core, client: AsyncWebClient, cards: ProposalWork) -> SlackDeps:
    settings, namespace = core.settings, core.settings.redis_namespace
    registry = SlackRegistry(core.redis, namespace, ttl_seconds=settings.conversation_idle_seconds * 2)
    reminders = Reminders(registry, core.engine, client, core.scheduler,
                          question_after_seconds=settings.reminder_hours * 3600)
    board = JobBoard(core.redis, namespace, core.accounts, core.authorizer, core.approvals)
    work = SlowWork()
    return SlackDeps(
        settings=settings,
        client=client,
        deduper=EventDeduper(core.redis, namespace),
        registry=registry,
        dialogue=SlackDialogue(core.engine, registry, client, reminders),
        work=work,
        inbox=SlackInbox(core.scheduler, work),
        proposals=proposal_desk(core),
        outbox=cards.outbox,
        contracts=ContractDesk(core.redis, namespace, core.accounts, core.authorizer, core.approvals),
        money=cards.money,
        board=board,
        reminders=reminders,
        digests=Digests(core.redis, namespace, board, core.authorizer, client, core.scheduler,
                        hour_utc=settings.digest_hour_utc),
        subscriptions=Subscriptions(core.redis, namespace, board, core.authorizer, client),
        changes=JobChanges(core.redis, namespace, core.accounts, core.authorizer, core.engine),
        relay=SlackRelay(cards.talks, client),
    )


class SlackRuntime:
    """Everything one process needs to answer Slack: `async with SlackRuntime(settings) as runtime:`.

    The scheduler runs in the background: Slack steps left by a stopped process are always replayed here, and claim
    polling and proposal cards too unless `run_worker` (default SERVE_RUNS_WORKER) is False.
    """

    def __init__(self, settings: Settings, *, run_worker: bool | None = None):
        self.settings = settings
        self.run_worker = settings.serve_runs_worker if run_worker is None else run_worker
        self._stop = asyncio.Event()
        self._resources = contextlib.AsyncExitStack()

    async def __aenter__(self) -> SlackRuntime:
        try:
            await self._start()
        except BaseException:
            await self._resources.aclose()
            raise
        return self

    async def _start(self) -> None:
        # One pool for every Slack Web API call of this process.
        self.session = await self._resources.enter_async_context(aiohttp.ClientSession())
        self.clients = slack_clients(self.settings, self.session)
        client = self.clients.routed()
        self.core = await self._resources.enter_async_context(
            open_core(self.settings, slack_directory(self.settings, client)))
        installations = attach_installations(self.core, self.clients)
        self.core.engine.add_claim_observer(SlackClaimObserver(client))
        self.work = proposal_work(self.core, self.session, self.clients)
        self.deps = slack_deps(self.core, client, self.work)
        self.deps.clients = self.clients
        self.deps.uninstalls = uninstalls_of(self.core, installations)
        states = RedisOAuthStateStore(self.core.redis, self.settings.redis_namespace) if installations else None
        self.app: AsyncApp = build_app(self.deps, installations=installations, states=states)
        self.deps.inbox.register(self.core.scheduler)
        self.deps.reminders.register(self.core.scheduler)
        self.deps.digests.register(self.core.scheduler)
        if self.run_worker:
            await run_background(self.core, self.work)
        self._scheduler = asyncio.create_task(self.core.scheduler.run_forever(self._stop), name="scheduler")

    @property
    def redis(self) -> Redis:
        return self.core.redis

    async def __aexit__(self, *exc_info: object) -> None:
        await self.deps.work.drain(timeout=DRAIN_SECONDS)
        self._stop.set()
        await asyncio.wait([self._scheduler], timeout=10)
        self._scheduler.cancel()
        await self._resources.aclose()


@dataclass
class RunningServer:
    url: str
    runtime: SlackRuntime


@contextlib.asynccontextmanager
async def serve_http(settings: Settings, *, host: str = "127.0.0.1", port: int | None = None,
                     run_worker: bool | None = None) -> AsyncIterator[RunningServer]:
    """The HTTP app in this event loop; port 0 picks a free one (tests), None uses PORT."""
    async with SlackRuntime(settings, run_worker=run_worker) as runtime:
        core = runtime.core
        receiver = WebhookReceiver(WebhookStore(core.redis, settings.redis_namespace, core.secretbox),
                                   doorbell(core.scheduler))
        app = web_application(runtime.app, receiver, core.redis, core.http, settings.opentrain_url,
                              signing_secret=secret(settings.slack_signing_secret),
                              gauges=gauges_of(core, runtime.work.outbox))
        async with listening(app, host, settings.port if port is None else port) as url:
            yield RunningServer(url=url, runtime=runtime)


@contextlib.asynccontextmanager
async def serve_socket_mode(settings: Settings, *, run_worker: bool | None = None) -> AsyncIterator[SlackRuntime]:
    """The same app over Socket Mode: connects with SLACK_APP_TOKEN via apps.connections.open."""
    app_token = secret(settings.slack_app_token)
    if not app_token:
        raise SystemExit("hirebot: SLACK_APP_TOKEN is required for socket mode")
    async with SlackRuntime(settings, run_worker=run_worker) as runtime:
        handler = socket_mode(runtime.app, app_token, settings, runtime.session)
        await handler.connect_async()
        try:
            yield runtime
        finally:
            await handler.close_async()


async def run_http(settings: Settings) -> None:
    async with serve_http(settings, host="0.0.0.0") as server:
        log.info("hirebot listening on port %s (POST /slack/events, GET /healthz, GET /readyz, GET /metrics)",
                 settings.port)
        await stop_on_signals().wait()
        log.info("hirebot stopping (%s)", server.url)


async def run_socket(settings: Settings) -> None:
    async with serve_socket_mode(settings) as runtime, serving_metrics(runtime.core, runtime.work.outbox):
        log.info("hirebot connected over Socket Mode")
        await stop_on_signals().wait()


async def run_worker(settings: Settings) -> None:
    """Background work only, with no Slack listener in the process; runs until SIGINT/SIGTERM."""
    stop = stop_on_signals()
    async with aiohttp.ClientSession() as session:
        clients = slack_clients(settings, session)
        client = clients.routed()
        async with open_core(settings, slack_directory(settings, client)) as core:
            uninstalls_of(core, attach_installations(core, clients))  # its clean-ups run in workers too
            work = proposal_work(core, session, clients)
            async with serving_metrics(core, work.outbox):
                await _work_in_background(core, client, work, stop)


def gauges_of(core: Core, outbox: Outbox) -> GaugeReader:
    return redis_gauges(core.redis, core.settings.redis_namespace, core.scheduler, outbox)


@contextlib.asynccontextmanager
async def serving_metrics(core: Core, outbox: Outbox, *, host: str = "0.0.0.0",
                          port: int | None = None) -> AsyncIterator[str | None]:
    """GET /metrics and GET /healthz on METRICS_PORT (or `port`; 0 picks a free one) for a process with no Slack web
    server; yields the URL, or None when no port is set."""
    port = core.settings.metrics_port if port is None else port
    if port is None:
        yield None
        return
    async with listening(metrics_application(core.redis, gauges_of(core, outbox)), host, port) as url:
        log.info("metrics on port %s (GET /metrics, GET /healthz)", url.rsplit(":", 1)[1])
        yield url


async def _work_in_background(core: Core, client: AsyncWebClient, work: ProposalWork, stop: asyncio.Event) -> None:
    core.engine.add_claim_observer(SlackClaimObserver(client))
    await run_background(core, work)
    log.info("hirebot worker running (claim polling, proposal notifications)")
    await core.scheduler.run_forever(stop)


async def run_rotate_keys(settings: Settings) -> None:
    """Re-seal every stored secret under the newest key; prints one line. Exit 1 if some secret no key opens."""
    redis = connect_from_settings(settings)
    try:
        report = await rotate_secrets(redis, settings.redis_namespace, SecretBox.from_settings(settings))
    finally:
        await redis.aclose()
    print(report.line(), flush=True)
    if report.undecryptable:
        raise SystemExit(1)


def uses_sandbox(settings: Settings) -> bool:
    """Nothing says which OpenTrain to use: the demo plays against its own sandbox."""
    return settings.opentrain_api_token is None and "opentrain_base_url" not in settings.model_fields_set


async def run_shell(settings: Settings) -> None:
    sandbox = await start_demo_sandbox() if uses_sandbox(settings) else None
    try:
        if sandbox:
            # A fresh sandbox knows nothing of earlier runs, so a sandbox run keeps its Redis data apart and drops it.
            settings = settings.model_copy(update={
                "opentrain_base_url": sandbox.url,
                "redis_namespace": f"{settings.redis_namespace}-sandbox-{uuid.uuid4().hex[:8]}"})
        print(greeting(settings.opentrain_url, sandbox.url if sandbox else None))
        async with open_core(settings, lambda _: Everyone()) as core:  # the shell's one user holds every role
            await _converse_in_shell(core, sandbox)
    finally:
        if sandbox:
            await sandbox.close()


async def _converse_in_shell(core: Core, sandbox: RunningSandbox | None) -> None:
    namespace = core.settings.redis_namespace
    core.engine.register_workers(core.scheduler)
    sandbox_url = sandbox.url if sandbox else None

    def emit(text: str) -> None:
        print(text, flush=True)

    # After the claim: proposals, candidate conversations, hires and contracts, worked by this process's scheduler.
    lifecycle = build_lifecycle(core.redis, namespace, SHELL_WORKSPACE, accounts=core.accounts,
                                authorizer=core.authorizer, scheduler=core.scheduler, tracker=core.approvals,
                                user_id=SHELL_USER, emit=emit, sandbox_url=sandbox_url)
    shell = Shell(core.engine, core.redis, namespace, SHELL_WORKSPACE, sandbox_url=sandbox_url, emit=emit,
                  lifecycle=lifecycle)
    stop = asyncio.Event()
    polling = asyncio.create_task(core.scheduler.run_forever(stop, idle_sleep=0.2))
    try:
        await converse(shell)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        if sandbox:
            await drop_namespace(core.redis, namespace)


async def start_demo_sandbox() -> RunningSandbox:
    """The OpenTrain simulator in this process, with a claim interval short enough to watch."""
    sandbox = await start_sandbox()
    async with httpx.AsyncClient(timeout=10) as http:
        (await http.post(f"{sandbox.url}/_sandbox/config",
                         json={"claimIntervalSeconds": DEMO_CLAIM_INTERVAL_SECONDS})).raise_for_status()
    return sandbox


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop
