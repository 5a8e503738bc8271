"""The baseline for bench/ack.py: a bolt AsyncApp that only acks, served exactly like hirebot's (aiohttp,
POST /slack/events, same signing secret and Web API client). Run: python bench/bare_app.py PORT"""

from __future__ import annotations

import os
import sys

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def bare_app() -> AsyncApp:
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client)

    @app.command("/hire")
    async def hire(ack) -> None:
        await ack()

    @app.event("message")
    async def message() -> None:  # events are acked by bolt before the listener runs
        return None

    return app


def main(port: int) -> None:
    app = bare_app()

    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    server = web.Application()
    server.router.add_post("/slack/events", slack_events)
    server.router.add_get("/healthz", healthz)
    web.run_app(server, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
