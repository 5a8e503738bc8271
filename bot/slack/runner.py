"""`hirebot serve` (HTTP: POST /slack/events, GET /healthz) and `hirebot socket` (Socket Mode).

`SlackRuntime` is everything one process needs to answer Slack: Redis, the engine, the bolt app and, unless
SERVE_RUNS_WORKER=false, the background work (claim polling, proposal notifications; see bot/workers/runner.py).
OpenTrain webhooks are received here too. `serve_http` runs it behind an aiohttp server and is
what the tests start in-process; `run_http` / `run_socket` are the CLI entry points.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import httpx
from aiohttp import web
from redis.exceptions import RedisError
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.hiring.engine import HiringEngine
from bot.hiring.proposals import ProposalDesk
from bot.infra.settings import Settings
from bot.slack.app import build_app, build_web_client, secret
from bot.slack.dedupe import EventDeduper
from bot.slack.deps import SlackDeps
from bot.slack.dialogue import SlackDialogue
from bot.slack.inbox import SlackInbox
from bot.slack.observer import SlackClaimObserver
from bot.slack.registry import SlackRegistry
from bot.slack.work import SlowWork
from bot.infra.storage import connect_from_settings
from bot.workers.runner import proposal_work
from bot.infra.scheduler import Scheduler

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 3.0
DRAIN_SECONDS = 10.0


class SlackRuntime:
    """Open with `async with SlackRuntime(settings) as runtime:`; `runtime.app` is the bolt AsyncApp."""

    def __init__(self, settings: Settings, *, run_worker: bool | None = None):
        self.settings = settings
        self.run_worker = settings.serve_runs_worker if run_worker is None else run_worker
        self._stop = asyncio.Event()
        self._background: list[asyncio.Task] = []

    async def __aenter__(self) -> "SlackRuntime":
        settings = self.settings
        namespace = settings.redis_namespace
        self.redis = connect_from_settings(settings)
        self.session = aiohttp.ClientSession()  # one pool for every Slack Web API call of this process
        self.http = httpx.AsyncClient(timeout=settings.opentrain_timeout_seconds)
        self.client = build_web_client(settings, session=self.session)
        self.scheduler = Scheduler(self.redis, namespace)
        self.engine = HiringEngine.from_settings(settings, self.redis, self.scheduler, http=self.http)
        self.engine.add_claim_observer(SlackClaimObserver(self.client))
        self.proposal_work = proposal_work(settings, self.redis, self.scheduler, self.engine.accounts, self.session)
        registry = SlackRegistry(self.redis, namespace, ttl_seconds=settings.conversation_idle_seconds * 2)
        work = SlowWork()
        self.deps = SlackDeps(
            settings=settings,
            client=self.client,
            deduper=EventDeduper(self.redis, namespace),
            registry=registry,
            dialogue=SlackDialogue(self.engine, registry, self.client),
            work=work,
            inbox=SlackInbox(self.scheduler, work),
            proposals=ProposalDesk(self.redis, namespace, self.engine.accounts),
            outbox=self.proposal_work.outbox,
        )
        self.app = build_app(self.deps)
        # Slack answers left by a stopped process are always replayed by a Slack-facing process.
        self.deps.inbox.register(self.scheduler)
        if self.run_worker:
            await self._register_background_work()
        self._background.append(asyncio.create_task(self.scheduler.run_forever(self._stop), name="scheduler"))
        return self

    async def _register_background_work(self) -> None:
        """Claim polling and proposal notifications in this process; `hirebot worker` does the same when split off."""
        self.engine.register_workers(self.scheduler)
        self.proposal_work.register()
        await self.proposal_work.resume()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.deps.work.drain(timeout=DRAIN_SECONDS)
        self._stop.set()
        if self._background:
            await asyncio.wait(self._background, timeout=10)
        for task in self._background:
            task.cancel()
        await self.http.aclose()
        await self.session.close()
        await self.redis.aclose()

    async def health(self) -> dict[str, str]:
        return {"redis": await self._redis_health(), "opentrain": await self._opentrain_health()}

    async def _redis_health(self) -> str:
        try:
            await asyncio.wait_for(self.redis.ping(), HEALTH_TIMEOUT_SECONDS)
            return "ok"
        except (RedisError, OSError, asyncio.TimeoutError):
            return "unreachable"

    async def _opentrain_health(self) -> str:
        # Any HTTP answer below 500 (a tokenless 401 included) means OpenTrain is up and reachable.
        try:
            response = await self.http.get(f"{self.settings.opentrain_url}/api/public/v1/auth/me",
                                           timeout=HEALTH_TIMEOUT_SECONDS)
        except httpx.HTTPError:
            return "unreachable"
        return "ok" if response.status_code < 500 else f"error {response.status_code}"


def web_application(runtime: SlackRuntime) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await runtime.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def healthz(request: web.Request) -> web.Response:
        checks = await runtime.health()
        # Without Redis no request can be served; OpenTrain being down degrades but does not stop the bot.
        status = 200 if checks["redis"] == "ok" else 503
        return web.json_response({"ok": status == 200, **checks}, status=status)

    app = web.Application()
    app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    runtime.proposal_work.receiver.mount(app)  # OpenTrain webhooks ring the ledger reader
    return app


@dataclass
class RunningServer:
    url: str
    runtime: SlackRuntime


@contextlib.asynccontextmanager
async def serve_http(
    settings: Settings, *, host: str = "127.0.0.1", port: int | None = None, run_worker: bool | None = None
) -> AsyncIterator[RunningServer]:
    """The HTTP app in this event loop; port 0 picks a free one (tests), None uses PORT."""
    async with SlackRuntime(settings, run_worker=run_worker) as runtime:
        runner = web.AppRunner(web_application(runtime), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, settings.port if port is None else port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            yield RunningServer(url=f"http://{host}:{bound}", runtime=runtime)
        finally:
            await runner.cleanup()


@contextlib.asynccontextmanager
async def serve_socket_mode(settings: Settings, *, run_worker: bool | None = None) -> AsyncIterator[SlackRuntime]:
    """The same app over Socket Mode: connects with SLACK_APP_TOKEN via apps.connections.open."""
    app_token = secret(settings.slack_app_token)
    if not app_token:
        raise SystemExit("hirebot: SLACK_APP_TOKEN is required for socket mode")
    async with SlackRuntime(settings, run_worker=run_worker) as runtime:
        connections = build_web_client(settings, token=app_token, session=runtime.session)
        handler = AsyncSocketModeHandler(runtime.app, app_token, web_client=connections)
        await handler.connect_async()
        try:
            yield runtime
        finally:
            await handler.close_async()


async def run_http(settings: Settings) -> None:
    async with serve_http(settings, host="0.0.0.0") as server:
        log.info("hirebot listening on port %s (POST /slack/events, GET /healthz)", settings.port)
        await _until_stopped()
        log.info("hirebot stopping (%s)", server.url)


async def run_socket(settings: Settings) -> None:
    async with serve_socket_mode(settings):
        log.info("hirebot connected over Socket Mode")
        await _until_stopped()


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
