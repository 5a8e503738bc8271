"""`python -m bot shell`: the hiring conversation in the terminal, over the same engine Slack uses.

With no OpenTrain token and no OPENTRAIN_BASE_URL it starts the sandbox in-process (short claim interval) and talks
to it; otherwise it talks to the configured API. It reads a terminal or a pipe; at the end of piped input it waits a
bounded time for a claim still being polled, so a scripted run ends with the claim's outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import Callable

import httpx

from bot.hiring.engine import ConversationRef, HiringEngine
from bot.hiring.views import ClaimInstructions, Reply
from bot.shell.render import render
from bot.infra.storage import connect_from_settings, key
from bot.infra.scheduler import Scheduler

DEMO_CLAIM_INTERVAL_SECONDS = 1
END_OF_INPUT_WAIT_SECONDS = 30.0
SHELL_USER = "shell-user"

SHELL_HELP = """Shell commands:
  /hire <description>   start a hiring conversation, e.g. /hire We need 10 annotators for 50,000 dashcam images, $18/hour, English
  :confirm-claim        (sandbox) play the human: confirm the claim code shown in the DM
  :quit                 leave
Anything else is your answer in the current conversation (help, status, back, cancel, publish, edit <field>,
confirm <field>, retry, restart)."""


class ShellObserver:
    """Prints claim changes that arrive from the background poller, as Slack would DM them."""

    def __init__(self, emit: Callable[[str], None]):
        self._emit = emit
        self.last: ClaimInstructions | None = None

    async def claim_changed(self, ref: ConversationRef, claim: ClaimInstructions, surface: dict) -> None:
        self.last = claim
        self._emit(render(claim))


class Shell:
    def __init__(self, engine: HiringEngine, redis, namespace: str, workspace_id: str, *,
                 sandbox_url: str | None = None, emit: Callable[[str], None] = print):
        self._engine = engine
        self._redis = redis
        self._namespace = namespace
        self._workspace = workspace_id
        self._sandbox_url = sandbox_url
        self._emit = emit
        self._ref: ConversationRef | None = None
        self.observer = ShellObserver(emit)
        engine.add_claim_observer(self.observer)

    async def handle_line(self, line: str) -> bool:
        """Act on one input line; False means the user asked to leave."""
        text = line.strip()
        if not text:
            return True
        if text == ":quit":
            return False
        if text in ("help", ":help"):
            self._emit(SHELL_HELP)
        if text.startswith("/hire"):
            await self._hire(text[len("/hire"):].strip())
        elif text == ":confirm-claim":
            await self._confirm_claim()
        elif self._ref is None:
            if text not in ("help", ":help"):
                self._emit("Start with `/hire <description>` (type `help` for commands).")
        else:
            self._show(await self._engine.handle(self._ref, SHELL_USER, uuid.uuid4().hex, text))
        return True

    async def _hire(self, description: str) -> None:
        number = await self._redis.incr(key(self._namespace, "shell", self._workspace, "conversations"))
        self._ref = ConversationRef(self._workspace, f"shell:{number}")
        self._show(await self._engine.start(self._ref, SHELL_USER, uuid.uuid4().hex, description))

    async def _confirm_claim(self) -> None:
        claim = await self._engine.claims.current(self._workspace)
        if self._sandbox_url is None:
            self._emit("! `:confirm-claim` only works against the sandbox; open the link in a browser instead.")
        elif claim is None or claim.state != "waiting":
            self._emit("! There is no claim waiting for confirmation.")
        else:
            async with httpx.AsyncClient(timeout=10) as http:
                answer = await http.post(f"{self._sandbox_url}/_sandbox/claims/confirm",
                                         json={"user_code": claim.user_code, "email": claim.email})
            self._emit(f"(sandbox) {claim.email} confirmed code {claim.user_code}" if answer.is_success
                       else f"! The sandbox refused: {answer.json().get('error')}")

    def _show(self, reply: Reply) -> None:
        for view in reply.views:
            self._emit(render(view))

    async def wait_for_claim(self, timeout: float = END_OF_INPUT_WAIT_SECONDS) -> None:
        """At end of input: let a claim that is still being polled reach its outcome (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            claim = await self._engine.claims.current(self._workspace)
            if claim is None or claim.state != "waiting":
                return
            await asyncio.sleep(0.2)
        self._emit("(stopped waiting for the claim; it continues the next time the bot runs)")


async def read_lines(echo: bool):
    loop = asyncio.get_running_loop()
    while True:
        if not echo:
            print("you> ", end="", flush=True)
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        if echo:
            print(f"you> {line.rstrip()}", flush=True)
        yield line


def uses_sandbox(settings) -> bool:
    return settings.opentrain_api_token is None and "opentrain_base_url" not in settings.model_fields_set


async def run_shell(settings) -> None:
    sandbox = None
    if uses_sandbox(settings):
        from bot.sandbox.server import start_sandbox

        sandbox = await start_sandbox()
        async with httpx.AsyncClient(timeout=10) as http:
            (await http.post(f"{sandbox.url}/_sandbox/config",
                             json={"claimIntervalSeconds": DEMO_CLAIM_INTERVAL_SECONDS})).raise_for_status()
        settings = settings.model_copy(update={"opentrain_base_url": sandbox.url})
        print(f"hirebot shell on the OpenTrain sandbox at {sandbox.url} (type `help`)")
    else:
        print(f"hirebot shell on {settings.opentrain_url} (type `help`)")
    if sandbox:
        # A fresh sandbox knows nothing of earlier runs, so a sandbox run keeps its Redis data apart and drops it.
        settings = settings.model_copy(update={"redis_namespace": f"{settings.redis_namespace}-sandbox-{uuid.uuid4().hex[:8]}"})
    namespace = settings.redis_namespace
    redis = connect_from_settings(settings)
    scheduler = Scheduler(redis, namespace)
    engine = HiringEngine.from_settings(settings, redis, scheduler)
    engine.register_workers(scheduler)
    shell = Shell(engine, redis, namespace, "shell", sandbox_url=sandbox.url if sandbox else None,
                  emit=lambda text: print(text, flush=True))
    stop = asyncio.Event()
    worker = asyncio.create_task(scheduler.run_forever(stop, idle_sleep=0.2))
    try:
        async for line in read_lines(echo=not sys.stdin.isatty()):
            if not await shell.handle_line(line):
                break
        else:
            await shell.wait_for_claim()
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await engine.accounts.aclose()
        if sandbox:
            await drop_namespace(redis, namespace)
            await sandbox.close()
        await redis.aclose()


async def drop_namespace(redis, namespace: str) -> None:
    keys = [k async for k in redis.scan_iter(match=f"{namespace}:*", count=500)]
    if keys:
        await redis.delete(*keys)
