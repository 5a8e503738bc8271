"""The web server of `hirebot serve`: POST /slack/events, GET /healthz, GET /readyz, GET /metrics and
POST /opentrain/webhooks on one port; and the small one of `worker` and `socket` on METRICS_PORT (GET /metrics,
GET /healthz).

`/healthz` is liveness: Redis answers (200) or not (503); it never calls OpenTrain, so a platform probing it every
few seconds costs OpenTrain nothing. `/readyz` is readiness: Redis, and whether OpenTrain answers, the OpenTrain
answer cached for `OPENTRAIN_CHECK_SECONDS` and shared by concurrent probes, so any number of probes costs at most
one OpenTrain request per interval. OpenTrain being down degrades the bot but does not stop it: `/readyz` reports
it and stays 200 while Redis answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from time import monotonic

import httpx
from aiohttp import web
from redis.exceptions import RedisError
from slack_bolt.async_app import AsyncApp

from bot.infra.metrics import GaugeReader
from bot.infra.storage import Redis
from bot.ledger.webhooks import WebhookReceiver
from bot.slack.app import events_endpoint, install_endpoints
from bot.telemetry import metrics_handler

HEALTH_TIMEOUT_SECONDS = 3.0
OPENTRAIN_CHECK_SECONDS = 30.0


def web_application(slack: AsyncApp, receiver: WebhookReceiver, redis: Redis, http: httpx.AsyncClient,
                    opentrain_url: str, *, signing_secret: str, gauges: GaugeReader | None = None,
                    opentrain_check_seconds: float = OPENTRAIN_CHECK_SECONDS) -> web.Application:
    opentrain = CachedCheck(lambda: opentrain_health(http, opentrain_url), opentrain_check_seconds)

    async def readyz(request: web.Request) -> web.Response:
        redis_state, opentrain_state = await asyncio.gather(redis_health(redis), opentrain.get())
        status = 200 if redis_state == "ok" else 503
        return web.json_response({"ok": status == 200, "redis": redis_state, "opentrain": opentrain_state},
                                 status=status)

    app = web.Application()
    app.router.add_post("/slack/events", events_endpoint(slack, signing_secret))
    for path, handler in install_endpoints(slack).items():  # OAuth mode: "Add to Slack"
        app.router.add_get(path, handler)
    app.router.add_get("/healthz", liveness(redis))
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_handler(gauges))
    receiver.mount(app)  # OpenTrain webhooks ring the ledger reader
    return app


def metrics_application(redis: Redis, gauges: GaugeReader | None) -> web.Application:
    """What a process without the Slack web server serves on METRICS_PORT: its metrics and its liveness."""
    app = web.Application()
    app.router.add_get("/healthz", liveness(redis))
    app.router.add_get("/metrics", metrics_handler(gauges))
    return app


def liveness(redis: Redis) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def healthz(request: web.Request) -> web.Response:
        redis_state = await redis_health(redis)  # without Redis no request can be served
        status = 200 if redis_state == "ok" else 503
        return web.json_response({"ok": status == 200, "redis": redis_state}, status=status)

    return healthz


class CachedCheck:
    """A health check whose answer is kept `seconds`; concurrent callers of an expired answer share one check."""

    def __init__(self, check: Callable[[], Awaitable[str]], seconds: float,
                 clock: Callable[[], float] | None = None):
        self._check = check
        self._seconds = seconds
        self._clock = clock
        self._lock = asyncio.Lock()
        self._answer: str | None = None
        self._checked_at = 0.0

    def _now(self) -> float:
        return self._clock() if self._clock else monotonic()  # looked up when called: tests move this clock

    def _fresh(self) -> bool:
        return self._answer is not None and self._now() - self._checked_at < self._seconds

    async def get(self) -> str:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():  # another caller may have checked while this one waited
                    self._answer = await self._check()
                    self._checked_at = self._now()
        assert self._answer is not None
        return self._answer


async def redis_health(redis: Redis) -> str:
    try:
        await asyncio.wait_for(redis.ping(), HEALTH_TIMEOUT_SECONDS)
        return "ok"
    except (TimeoutError, RedisError, OSError):
        return "unreachable"


async def opentrain_health(http: httpx.AsyncClient, opentrain_url: str) -> str:
    # Any HTTP answer below 500 (a tokenless 401 included) means OpenTrain is up and reachable.
    try:
        response = await http.get(f"{opentrain_url}/api/public/v1/auth/me", timeout=HEALTH_TIMEOUT_SECONDS)
    except httpx.HTTPError:
        return "unreachable"
    return "ok" if response.status_code < 500 else f"error {response.status_code}"


@contextlib.asynccontextmanager
async def listening(app: web.Application, host: str, port: int) -> AsyncIterator[str]:
    """Serve `app` in this event loop; yields its URL (port 0 picks a free port)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://{host}:{bound}"
    finally:
        await runner.cleanup()
