"""The whole story over real HTTP (one app, then two `serve` instances taking turns) and over Socket Mode."""

from __future__ import annotations

import httpx

from bot.app import serve_http, serve_socket_mode
from tests.slack.conftest import APP_TOKEN, BOT_TOKEN, REQUESTER, HttpSlack, Person, SocketSlack
from tests.slack.story import run_story
from tests.support.socket_mode import SocketModeServer


async def test_hire_to_claimed_account_over_http(make_settings, slack_api, sandbox_url):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        health = await http.get(f"{server.url}/healthz")
        assert health.status_code == 200 and health.json() == {"ok": True, "redis": "ok"}
        ready = await http.get(f"{server.url}/readyz")
        assert ready.status_code == 200 and ready.json() == {"ok": True, "redis": "ok", "opentrain": "ok"}
        await run_story(Person(REQUESTER, HttpSlack([server.url], http), slack_api), slack_api, sandbox_url)


async def test_two_serve_instances_share_one_conversation(make_settings, slack_api, sandbox_url):
    settings = make_settings()
    async with (
        serve_http(settings, port=0) as first,
        serve_http(settings, port=0) as second,
        httpx.AsyncClient(timeout=10) as http,
    ):
        # Every request goes to the other instance than the one before: answers alternate between them.
        slack = HttpSlack([first.url, second.url], http)
        await run_story(Person(REQUESTER, slack, slack_api), slack_api, sandbox_url)


async def test_hire_to_claimed_account_over_socket_mode(make_settings, slack_api, sandbox_url):
    async with SocketModeServer() as socket_server:
        slack_api.socket_url = socket_server.url
        async with serve_socket_mode(make_settings()):
            await run_story(Person(REQUESTER, SocketSlack(socket_server), slack_api), slack_api, sandbox_url)
        assert {c.token for c in slack_api.calls_to("apps.connections.open")} == {APP_TOKEN}
        assert {c.token for c in slack_api.calls_to("chat.postMessage")} == {BOT_TOKEN}
