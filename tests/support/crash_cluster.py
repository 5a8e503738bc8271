"""Real processes killed mid-call: two (or `serves`) `python -m bot serve` and one or more `python -m bot worker`,
the sandbox (with latency, so OpenTrain calls are in flight) and the Slack stand-in on threads of their own.

Shared by `tests/slack/test_crash_recovery.py`, `bench/recovery.py` and `bench/scale.py`. Conversations are driven by
signed Slack requests the way a requester would: `/hire`, then each question answered by typing; an answer that shows
no progress for a few seconds is typed again (what people do when the bot seems stuck). `kill_a_call_holder` SIGKILLs
the serve process whose pid is in a pending call's lease (see `steps.lease_token`) and starts a new one on the same
port.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import httpx
import redis.asyncio as aioredis
from cryptography.fernet import Fernet

from bot.sandbox.server import SandboxThread
from tests.support import slack_signing as signing
from tests.support.slack_api import PostedMessage, SlackApiStandIn, StandInThread

ROOT = Path(__file__).resolve().parents[2]
TEAM = "TCRASH"
REQUESTER = "UCRASH"
SIGNING_SECRET = "crash-signing-secret"
BOT_TOKEN = "xoxb-crash-bot-token"
DESCRIPTION = "We need 10 annotators for 50,000 dashcam images, $18/hour, English"
LABELS = ["Bounding box", "Polygon", "Keypoints", "Segmentation mask"]
LEVELS = {"1": "Expert", "2": "Entry level", "3": "Intermediate", "4": "Any experience level"}
RETYPE_AFTER = 3.0  # an answer with no visible progress this long is typed again
STUCK_SECONDS = 15.0  # the issue's bound: no conversation waits longer than this for its next step


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def text_of(message: PostedMessage) -> str:
    return message.text + " " + json.dumps(message.blocks)


@dataclass
class Process:
    role: str
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Conversation:
    index: int
    channel: str
    label: str
    level: str  # the number typed
    root: PostedMessage | None = None
    longest_wait: float = 0.0
    retyped: int = 0
    review: PostedMessage | None = None
    started: bool = False
    steps_seen: int = 0  # of its three: the first question, the second, the review card
    team: str = TEAM  # the Slack workspace its requests come from

    @property
    def done(self) -> bool:
        return self.review is not None


class Cluster:
    def __init__(self, redis_url: str, workdir: Path, *, latency_ms: int = 400, seed: int = 7, workers: int = 1,
                 serves: int = 2, app_token: bool = True, env: dict[str, str] | None = None):
        self.redis_url = redis_url
        self.workdir = workdir
        self.namespace = f"crash-{uuid.uuid4().hex[:8]}"
        self.latency_ms = latency_ms
        self.random = random.Random(seed)
        self.serve_count = serves
        self.app_token = app_token  # False: no OPENTRAIN_API_TOKEN, each workspace registers its own agent account
        self.serves: list[Process] = []
        self.ack_seconds: list[float] = []  # send to HTTP response of every Slack request a serve process took
        self.worker: Process | None = None
        self.extra_workers = [Process("worker", 0, workdir / f"worker{n}.log") for n in range(1, workers)]
        self._env_overrides = env or {}
        self.kills: list[tuple[float, int]] = []  # (when, pid)
        self._hit: dict[str, float] = {}  # lease key -> when a kill hit its conversation
        self._ids = itertools.count(1)
        self._sandbox = SandboxThread()
        self._stand_in_thread = StandInThread(SlackApiStandIn(team_id=TEAM))
        self.api: SlackApiStandIn
        self.redis: aioredis.Redis
        self.http: httpx.AsyncClient

    # ---- lifecycle

    async def __aenter__(self) -> Self:
        self._sandbox.__enter__()
        self.api = self._stand_in_thread.__enter__()
        self.api.add_user(REQUESTER, "crash@example.com", "Casey Crash")
        self.http = httpx.AsyncClient(timeout=10)
        sandbox = self._sandbox.url
        (await self.http.post(f"{sandbox}/_sandbox/config", json={"latencyMs": self.latency_ms})).raise_for_status()
        token = (await self.http.post(f"{sandbox}/_sandbox/tokens", json={})).json()["token"]
        self.redis = aioredis.from_url(self.redis_url, decode_responses=True)
        self.env = {
            **os.environ, "REDIS_URL": self.redis_url, "REDIS_NAMESPACE": self.namespace,
            "ENCRYPTION_KEY": Fernet.generate_key().decode(), "OPENTRAIN_BASE_URL": sandbox,
            "OPENTRAIN_API_TOKEN": token, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.api.url, "DATA_DIR": str(self.workdir), "SERVE_RUNS_WORKER": "false",
            "PYTHONUNBUFFERED": "1",
            # One person drives every conversation here: lift the per-person limits past the test's load.
            "HIRE_STARTS_PER_HOUR": "1000", "OPEN_DRAFTS_PER_USER": "1000",
            **self._env_overrides,
        }
        if not self.app_token:
            del self.env["OPENTRAIN_API_TOKEN"]
        self.serves = [Process("serve", free_port(), self.workdir / f"serve{n}.log") for n in range(self.serve_count)]
        self.worker = Process("worker", 0, self.workdir / "worker.log")
        for process in [*self.serves, self.worker, *self.extra_workers]:
            self._start(process)
        try:
            await asyncio.gather(*(self._until_healthy(process) for process in self.serves))
        except BaseException:
            await self.__aexit__(None, None, None)  # nothing left running when start-up fails
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for process in [*self.serves, *([self.worker] if self.worker else []), *self.extra_workers]:
            if process.proc and process.proc.poll() is None:
                process.proc.kill()
                process.proc.wait(timeout=10)
        await self.http.aclose()
        async for found in self.redis.scan_iter(f"{self.namespace}:*", count=1000):
            await self.redis.delete(found)
        await self.redis.aclose()
        self._stand_in_thread.__exit__(None, None, None)
        self._sandbox.__exit__(None, None, None)

    def _start(self, process: Process) -> None:
        env = {**self.env, "PORT": str(process.port)} if process.role == "serve" else self.env
        with open(process.log_path, "ab") as log:
            process.proc = subprocess.Popen([sys.executable, "-m", "bot", process.role], cwd=ROOT, env=env,
                                            stdout=subprocess.DEVNULL, stderr=log)

    async def _until_healthy(self, process: Process, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if (await self.http.get(f"{process.url}/healthz", timeout=1)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            exited = process.proc is None or process.proc.poll() is not None
            assert not exited, f"{process.role} exited; see {process.log_path}"
            await asyncio.sleep(0.1)
        raise AssertionError(f"{process.role} on {process.port} never became healthy")

    # ---- killing

    async def call_holders(self) -> dict[int, set[str]]:
        """Serve processes holding a pending OpenTrain call's lease right now: pid -> the conversations' keys."""
        held: dict[int, set[str]] = {}
        ours = {p.proc.pid for p in self.serves if p.proc}
        async for lease in self.redis.scan_iter(f"{self.namespace}:{{conv:*:lease", count=1000):
            token = await self.redis.get(lease)
            pid = token.split(":")[0] if token else ""
            if pid.isdigit() and int(pid) in ours:
                held.setdefault(int(pid), set()).add(lease)
        return held

    async def kill_a_call_holder(self, timeout: float = 5.0, spare: float = STUCK_SECONDS) -> int | None:
        """SIGKILL a serve process while it holds a call (waiting up to `timeout` for one to), then start another on
        the same port. A process holding a call of a conversation hit less than `spare` seconds ago is spared (two
        kills in a row on one conversation are two lease periods: a test of patience, not of recovery). Returns the
        killed pid, or None when no call was in flight."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            recent = {lease for lease, when in self._hit.items() if now - when < spare}
            holders = [pid for pid, leases in (await self.call_holders()).items() if not leases & recent]
            if holders:
                break
            if now > deadline:
                return None
            await asyncio.sleep(0.02)
        await asyncio.sleep(self.random.uniform(0, self.latency_ms / 2000))  # a random point within the call
        pid = self.random.choice(sorted(holders))
        victim = next(p for p in self.serves if p.proc and p.proc.pid == pid)
        assert victim.proc is not None
        held = (await self.call_holders()).get(pid, set())
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(timeout=10)
        self.kills.append((time.time(), pid))
        self._hit.update({lease: time.monotonic() for lease in held})
        self._start(victim)
        await self._until_healthy(victim)
        return pid

    def kill_a_worker(self) -> int:
        """SIGKILL one of the worker processes, chosen at random, and start another in its place; the killed pid."""
        victim = self.random.choice([p for p in [self.worker, *self.extra_workers] if p and p.proc])
        assert victim.proc is not None
        pid = victim.proc.pid
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(timeout=10)
        self.kills.append((time.time(), pid))
        self._start(victim)
        return pid

    # ---- Slack's side

    async def _deliver(self, via: int, raw_body: str, content_type: str) -> None:
        """Deliver to serve `via`; while it is down (being restarted), to the other one, as Slack's retry would."""
        for attempt in range(40):
            target = self.serves[(via + attempt) % len(self.serves)]
            try:
                headers = signing.signed_headers(SIGNING_SECRET, raw_body, content_type)
                if attempt:
                    headers["X-Slack-Retry-Num"] = str(attempt)
                    headers["X-Slack-Retry-Reason"] = "http_error"
                response = await self.http.post(f"{target.url}/slack/events", content=raw_body, headers=headers)
                if response.status_code == 200:
                    self.ack_seconds.append(response.elapsed.total_seconds())
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.25)
        raise AssertionError("no serve process took a Slack request for 10 s")

    async def hire(self, conversation: Conversation, via: int) -> None:
        n = next(self._ids)
        body = signing.slash_command_body(DESCRIPTION, user_id=REQUESTER, channel_id=conversation.channel,
                                          team_id=conversation.team, response_url=self.api.response_url(str(n)),
                                          trigger_id=f"trig-{n}-{self.namespace}")
        await self._deliver(via, body, signing.FORM)

    async def type(self, conversation: Conversation, text: str, via: int) -> None:
        assert conversation.root is not None
        n = next(self._ids)
        ts = f"{time.time():.6f}"
        body = signing.message_event_body(event_id=f"Ev{self.namespace}{n}", user_id=REQUESTER,
                                          channel_id=conversation.channel, text=text, ts=ts,
                                          thread_ts=conversation.root.ts, team_id=conversation.team)
        await self._deliver(via, body, signing.JSON)

    # ---- what the requester sees

    def messages(self) -> list[PostedMessage]:
        for _ in range(100):  # the stand-in's thread may add one while we copy
            try:
                return list(self.api.messages.values())
            except RuntimeError:
                continue
        raise AssertionError("could not read the stand-in's messages")

    def thread(self, conversation: Conversation) -> list[PostedMessage]:
        root = conversation.root
        assert root is not None
        return [m for m in self.messages() if m.channel == root.channel and m.thread_ts == root.ts]

    def seen(self, conversation: Conversation, marker: str) -> PostedMessage | None:
        found = [m for m in self.thread(conversation) if marker in text_of(m)]
        return found[-1] if found else None

    async def _until(self, conversation: Conversation, marker: str, retype: str | None, via: int) -> float:
        """Wait for `marker` in the thread; type `retype` again if nothing shows for RETYPE_AFTER. Returns the wait."""
        started = time.monotonic()
        retyped_at = started
        while not self.seen(conversation, marker):
            waited = time.monotonic() - started
            if waited > STUCK_SECONDS + 5:
                raise AssertionError(f"conversation {conversation.index} stuck waiting for {marker!r}: "
                                     f"{[m.text for m in self.thread(conversation)]}")
            if retype is not None and time.monotonic() - retyped_at > RETYPE_AFTER:
                retyped_at = time.monotonic()
                conversation.retyped += 1
                await self.type(conversation, retype, via + 1)
            await asyncio.sleep(0.05)
        return time.monotonic() - started

    async def converse(self, conversation: Conversation) -> None:
        """`/hire`, both questions answered (retyping when stuck), up to the review card."""
        via = conversation.index % len(self.serves)
        started = time.monotonic()
        conversation.started = True
        await self.hire(conversation, via)
        while conversation.root is None:
            roots = [m for m in self.messages() if m.channel == conversation.channel and m.thread_ts is None]
            conversation.root = roots[0] if roots else None
            if time.monotonic() - started > STUCK_SECONDS + 5:
                raise AssertionError(f"conversation {conversation.index}: no root message")
            await asyncio.sleep(0.05)
        steps = [("(1 of", None), ("(2 of", conversation.label), ("Review your job", conversation.level)]
        for number, (marker, typed) in enumerate(steps):
            if typed is not None:
                await self.type(conversation, typed, via + number)
            waited = await self._until(conversation, marker, typed, via + number)
            if number == 0:
                waited = time.monotonic() - started  # from the /hire to its first question
            conversation.longest_wait = max(conversation.longest_wait, waited)
            conversation.steps_seen = number + 1
        conversation.review = self.seen(conversation, "Review your job")

    def review_values(self, conversation: Conversation) -> dict[str, str]:
        """Label -> shown value, from the review card's blocks."""
        assert conversation.review is not None
        found: dict[str, str] = {}
        for block in conversation.review.blocks:
            texts = [block.get("text", {}).get("text", "")] + [f.get("text", "") for f in block.get("fields", [])]
            for text in texts:
                for line in text.splitlines():
                    if match := re.match(r"^\*(.+?)\*: (.*)$", line.strip()):
                        found[match.group(1)] = match.group(2)
        return found


async def until_recovered(talks: list[Conversation], before: dict[int, int], timeout: float = 30.0) -> None:
    """Until every conversation that was mid-step at a kill (`before`: index -> steps seen) took its next step: a
    conversation gets one kill per step, so the stuck bound measures recovery, not two lease periods in a row."""
    deadline = time.monotonic() + timeout
    while any(not t.done and t.steps_seen <= before[t.index] for t in talks if t.index in before):
        if time.monotonic() > deadline:
            return  # the conversations' own bounds report it
        await asyncio.sleep(0.05)


def in_flight(talks: list[Conversation]) -> dict[int, int]:
    return {t.index: t.steps_seen for t in talks if t.started and not t.done}


def conversations(count: int, rng: random.Random) -> list[Conversation]:
    return [Conversation(index, f"CCRASH{index}", rng.choice(LABELS), rng.choice(sorted(LEVELS)))
            for index in range(count)]

