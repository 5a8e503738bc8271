"""The web server of `hirebot serve`: POST /slack/events, GET /healthz and POST /opentrain/webhooks on one port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from aiohttp import web
from redis.exceptions import RedisError
from slack_bolt.async_app import AsyncApp

from bot.infra.storage import Redis
from bot.ledger.webhooks import WebhookReceiver
from bot.slack.app import events_endpoint

HEALTH_TIMEOUT_SECONDS = 3.0


def web_application(slack: AsyncApp, receiver: WebhookReceiver, redis: Redis, http: httpx.AsyncClient,
                    opentrain_url: str) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        checks = {"redis": await redis_health(redis), "opentrain": await opentrain_health(http, opentrain_url)}
        # Without Redis no request can be served; OpenTrain being down degrades but does not stop the bot.
        status = 200 if checks["redis"] == "ok" else 503
        return web.json_response({"ok": status == 200, **checks}, status=status)

    app = web.Application()
    app.router.add_post("/slack/events", events_endpoint(slack))
    app.router.add_get("/healthz", healthz)
    receiver.mount(app)  # OpenTrain webhooks ring the ledger reader
    return app


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
