"""The whole story over real HTTP (one app, then two `serve` instances taking turns) and over Socket Mode; and the
lifetime of every Redis key the story writes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx

from bot.app import serve_http, serve_socket_mode
from bot.infra.storage import key
from tests.slack.conftest import APP_TOKEN, BOT_TOKEN, REQUESTER, HttpSlack, Person, SocketSlack
from tests.slack.story import run_story
from tests.support.socket_mode import SocketModeServer

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


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


def keys_that_live_forever(namespace: str) -> list[re.Pattern[str]]:
    """The keys docs/architecture.md ("Keys and their lifetimes") lists with the lifetime **none**, as patterns."""
    section = ARCHITECTURE.read_text().split("## Keys and their lifetimes", 1)[1].split("\n## ", 1)[0]
    patterns = []
    for row in section.splitlines():
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[2].startswith("**none**"):
            for name in re.findall(r"`([^`]+)`", cells[0]):
                pattern = re.escape(name).replace(re.escape("{ns}"), re.escape(namespace))
                pattern = re.sub(r"\\\{conversation\\\}", ".+", pattern)
                patterns.append(re.compile(re.sub(r"\\\{[a-z]+\\\}", "[^:]+", pattern) + "$"))
    assert len(patterns) >= 10, patterns
    return patterns


async def test_every_key_the_story_writes_has_a_ttl_or_is_documented_to_live_forever(
        make_settings, slack_api, sandbox_url, redis, namespace):
    settings = make_settings(opentrain_poll_seconds=0.2)
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        await run_story(Person(REQUESTER, HttpSlack([server.url], http), slack_api), slack_api, sandbox_url)
        # Proposals too: the ledger, the outbox's queue, post and card records, then a status change edits a card.
        jobs = [str(k) async for k in redis.scan_iter(match=key(namespace, "jobs", "job*"))]
        job_id = jobs[0].rsplit(":", 1)[1].rstrip("}")
        proposals = (await http.post(f"{sandbox_url}/_sandbox/jobs/{job_id}/proposals", json={"count": 3})).json()
        posted = await _posted_records(redis, namespace, 3)
        proposal_id = posted[0].rsplit(":", 1)[1]
        (await http.post(f"{sandbox_url}/_sandbox/proposals/{proposal_id}/status",
                         json={"status": "SHORTLISTED"})).raise_for_status()
        await asyncio.sleep(1.0)  # the status change is read and the card edited
        assert proposals
    forever = keys_that_live_forever(namespace)
    never_forever = [key(namespace, "jobs", "job_1"), key(namespace, "conv", "3", "ws", "T1", "conv", "C1:1.2"),
                     key(namespace, "ws", "T1", "proposal", "p1")]
    assert not [k for k in never_forever if any(p.match(k) for p in forever)]
    assert any(p.match(key(namespace, "ws", "T1", "ledger", "cursor")) for p in forever)
    lifetimes = {str(k): await redis.ttl(k) async for k in redis.scan_iter(match=f"{namespace}:*", count=500)}
    undocumented = sorted(k for k, ttl in lifetimes.items() if ttl == -1 and not any(p.match(k) for p in forever))
    assert undocumented == [], f"keys without a TTL that docs/architecture.md does not list as living forever: " \
                               f"{undocumented}"
    untagged = sorted(k for k in lifetimes if not re.match(rf"{re.escape(namespace)}:\{{[^{{}}]+\}}", k))
    assert untagged == [], "every key carries a hash tag right after the namespace (Redis Cluster slots)"
    for kind in ("jobs:job", ":proposal:", ":outbox:post:", ":slack:conv:", ":conv:", ":account"):
        assert any(kind in k for k in lifetimes), (kind, sorted(lifetimes))  # the story reached every kind of key


async def _posted_records(redis, namespace: str, count: int, timeout: float = 30.0) -> list[str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        records = [str(k) async for k in redis.scan_iter(match=key(namespace, "ws", "*", "proposal", "*"))]
        states = [await redis.hget(k, "state") for k in records]
        if len(records) >= count and all(state == "posted" for state in states):
            return sorted(records)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"proposal cards not posted: {list(zip(records, states, strict=True))}")
        await asyncio.sleep(0.1)
