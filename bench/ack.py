"""Ack latency of hirebot against a bare bolt app that only acks, side by side in one run.

Both apps run as their own processes (`python -m bot serve` and bench/bare_app.py) behind the same kind of server,
as do the OpenTrain sandbox and the Slack Web API stand-in, so nothing but the load generator shares this process.
This process plays Slack: it signs requests exactly as Slack does and times each one from send to HTTP response
(the ack). The OpenTrain sandbox adds 300 ms to every OpenTrain call (`POST /_sandbox/config {"latencyMs": 300}`);
a last pass runs hirebot with 0 ms to show the ack does not depend on OpenTrain's latency.

For each level (concurrent conversations): N `/hire` commands at once, then, once each conversation asked its first
question, N thread answers at once. Levels with few conversations repeat rounds to collect enough samples.

Run: .venv/bin/python bench/ack.py [--levels 1,50,200] [--samples 200]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import slack_signing as signing  # noqa: E402
from tests.support.redis_server import test_redis_url  # noqa: E402

SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"
DESCRIPTION = "We need 10 annotators for 50,000 dashcam images, $18/hour, English"
OPENTRAIN_LATENCY_MS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class App:
    name: str
    url: str
    acks: dict[str, list[float]] = field(default_factory=lambda: {"/hire": [], "thread answer": []})


def wait_until_up(url: str, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"{name} did not start")


def start_process(name: str, command: list[str], env: dict[str, str], url: str, probe: str) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    wait_until_up(url + probe, process, name)
    return process


class StandIn:
    """The Slack Web API stand-in in its own process, inspected over HTTP."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"{self.base}/api/"

    async def messages(self, http: aiohttp.ClientSession) -> list[dict]:
        async with http.get(f"{self.base}/_stand_in/messages") as response:
            return await response.json()

    def response_url(self, hook: str) -> str:
        return f"{self.base}/response/{hook}"


async def timed_post(session: aiohttp.ClientSession, url: str, body: str, content_type: str) -> float:
    headers = signing.signed_headers(SECRET, body, content_type)
    started = time.perf_counter()
    async with session.post(f"{url}/slack/events", data=body.encode(), headers=headers) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"ack failed with {response.status}")
    return (time.perf_counter() - started) * 1000


async def wait_for_questions(api: StandIn, http: aiohttp.ClientSession, channels: list[str],
                             timeout: float = 120) -> None:
    """Until every conversation posted its first question (or the timeout: answers are timed regardless)."""
    deadline = time.monotonic() + timeout
    pending = set(channels)
    while pending and time.monotonic() < deadline:
        pending -= {m["channel"] for m in await api.messages(http) if m["thread_ts"] and "(1 of" in m["text"]}
        await asyncio.sleep(0.1)


async def find_roots(api: StandIn, http: aiohttp.ClientSession, channels: list[str],
                     timeout: float = 60) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        roots = {m["channel"]: m["ts"] for m in await api.messages(http) if m["thread_ts"] is None}
        if all(c in roots for c in channels):
            return {c: roots[c] for c in channels}
        await asyncio.sleep(0.1)
    raise SystemExit("root messages missing: is the app posting?")


async def run_round(app: App, session: aiohttp.ClientSession, api: StandIn, n: int, tag: str,
                    talks: bool) -> None:
    """N conversations at once: `/hire` each, then one thread answer each. `talks`: the app posts (hirebot)."""
    channels = [f"C{tag}{i}" for i in range(n)]
    commands = [signing.slash_command_body(DESCRIPTION, user_id=f"U{i}", channel_id=c, trigger_id=f"{tag}-{i}",
                                           response_url=api.response_url(f"{tag}-{i}"))
                for i, c in enumerate(channels)]
    app.acks["/hire"] += await asyncio.gather(*(timed_post(session, app.url, b, signing.FORM) for b in commands))
    if talks:
        roots = await find_roots(api, session, channels)
        await wait_for_questions(api, session, channels)
    else:
        roots = {c: "1700000000.000001" for c in channels}
    answers = [signing.message_event_body(event_id=f"Ev{tag}{i}", user_id=f"U{i}", channel_id=c, text="3",
                                          ts=f"1800000000.{i:06d}", thread_ts=roots[c])
               for i, c in enumerate(channels)]
    app.acks["thread answer"] += await asyncio.gather(
        *(timed_post(session, app.url, b, signing.JSON) for b in answers))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def measure(apps: list[App], api: StandIn, level: int, samples: int, label: str) -> list[dict]:
    rounds = max(1, math.ceil(samples / level))
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        for app in apps:
            app.acks = {"/hire": [], "thread answer": []}
        for r in range(rounds):
            for app in apps:  # interleaved: both apps see the same conditions
                await run_round(app, session, api, level, f"{label}{app.name[0]}{level}r{r}x",
                                talks=app.name.startswith("hirebot"))
    rows = []
    for kind in ("/hire", "thread answer"):
        row = {"level": level, "kind": kind, "opentrain_ms": label}
        for app in apps:
            values = app.acks[kind]
            row[app.name] = (statistics.median(values), percentile(values, 0.99), len(values))
        rows.append(row)
    return rows


def print_table(rows: list[dict], names: list[str]) -> None:
    head = "| conversations | request | OpenTrain latency | " + " | ".join(
        f"{n} p50 / p99 (ms)" for n in names) + " | p99 ratio |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for row in rows:
        cells = [f"{row[n][0]:.1f} / {row[n][1]:.1f}" if n in row else "–" for n in names]
        ratio = f"{row[names[1]][1] / row[names[0]][1]:.2f}" if all(n in row for n in names[:2]) else "–"
        print(f"| {row['level']} | {row['kind']} | {row['opentrain_ms']} ms | " + " | ".join(cells) + f" | {ratio} |")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="1,50,200")
    parser.add_argument("--samples", type=int, default=200, help="acks per level and request kind")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    sandbox_port, stand_in_port, bare_port, our_port = (free_port() for _ in range(4))
    sandbox_url, api = f"http://127.0.0.1:{sandbox_port}", StandIn(stand_in_port)
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as data:
        env = {
            "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": api.url,
            "REDIS_URL": test_redis_url(), "REDIS_NAMESPACE": namespace, "OPENTRAIN_BASE_URL": sandbox_url,
            "ENCRYPTION_KEY": Fernet.generate_key().decode(), "DATA_DIR": data, "LOG_LEVEL": "ERROR",
        }
        try:
            processes.append(start_process("sandbox", [sys.executable, "-m", "bot", "sandbox", "--port",
                                                       str(sandbox_port)], env, sandbox_url, "/_sandbox/config"))
            processes.append(start_process("stand-in", [sys.executable, "-m", "tests.support.slack_api",
                                                        str(stand_in_port)], env, api.base, "/_stand_in/messages"))
            set_latency(sandbox_url, OPENTRAIN_LATENCY_MS)
            bare_url, our_url = f"http://127.0.0.1:{bare_port}", f"http://127.0.0.1:{our_port}"
            processes.append(start_process("bare bolt", [sys.executable, "bench/bare_app.py", str(bare_port)], env,
                                           bare_url, "/healthz"))
            processes.append(start_process("hirebot", [sys.executable, "-m", "bot", "serve"],
                                           {**env, "PORT": str(our_port)}, our_url, "/healthz"))
            bare, ours = App("bare bolt", bare_url), App("hirebot", our_url)
            rows = []
            for level in levels:
                rows += await measure([bare, ours], api, level, args.samples, str(OPENTRAIN_LATENCY_MS))
            set_latency(sandbox_url, 0)
            for level in levels:
                rows += await measure([ours], api, level, args.samples, "0")
        finally:
            for process in reversed(processes):  # the apps first, while the services they finish work with are up
                process.terminate()
                process.wait(timeout=60)
    print_table(rows, [bare.name, ours.name])
    await cleanup(namespace)


def set_latency(sandbox_url: str, latency_ms: int) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/config", json={"latencyMs": latency_ms}, timeout=5).raise_for_status()


async def cleanup(namespace: str) -> None:
    from bot.infra.storage import connect

    redis = connect(test_redis_url())
    keys = [k async for k in redis.scan_iter(match=f"{namespace}:*", count=1000)]
    for start in range(0, len(keys), 500):
        await redis.delete(*keys[start:start + 500])
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
