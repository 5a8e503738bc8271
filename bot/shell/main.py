"""`python -m bot shell`: the hiring conversation in the terminal, over the same engine Slack uses.

The composition root (`bot.app`) builds the engine and chooses the OpenTrain it talks to (a sandbox in-process when
nothing else is configured); this is the terminal side. It reads a terminal or a pipe; at the end of piped input it
waits a bounded time for a claim still being polled, so a scripted run ends with the claim's outcome.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable

import httpx

from bot.hiring.engine import ConversationRef, HiringEngine
from bot.hiring.views import ClaimInstructions, Published, Reply
from bot.infra.storage import Redis, key
from bot.shell.lifecycle import LIFECYCLE_HELP, Lifecycle
from bot.shell.render import render

END_OF_INPUT_WAIT_SECONDS = 30.0
SHELL_USER = "shell-user"

SHELL_HELP = """Shell commands:
  /hire <description>   start a hiring conversation, e.g. /hire We need 10 annotators for 50,000 dashcam images, \
$18/hour, English
  :confirm-claim        (sandbox) play the human: confirm the claim code shown in the DM
  :quit                 leave
Anything else is your answer in the current conversation (help, status, back, cancel, publish, edit <field>,
confirm <field>, retry, restart).
""" + LIFECYCLE_HELP


class ShellObserver:
    """Prints claim changes that arrive from the background poller, as Slack would DM them."""

    def __init__(self, emit: Callable[[str], None]):
        self._emit = emit
        self.last: ClaimInstructions | None = None

    async def claim_changed(self, ref: ConversationRef, claim: ClaimInstructions, surface: dict) -> None:
        self.last = claim
        self._emit(render(claim))


class Shell:
    def __init__(self, engine: HiringEngine, redis: Redis, namespace: str, workspace_id: str, *,
                 sandbox_url: str | None = None, emit: Callable[[str], None] = print,
                 lifecycle: Lifecycle | None = None):
        self._engine = engine
        self._redis = redis
        self._namespace = namespace
        self._workspace = workspace_id
        self._sandbox_url = sandbox_url
        self._emit = emit
        self._ref: ConversationRef | None = None
        self._lifecycle = lifecycle  # proposals, candidates, hires, contracts: after the claim
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
        if self._lifecycle is not None and await self._lifecycle.handle(text):
            return True
        if text.startswith("/hire"):
            await self._hire(text[len("/hire"):].strip())
        elif text == ":confirm-claim":
            await self._confirm_claim()
        elif self._ref is None:
            if text not in ("help", ":help"):
                self._emit("Start with `/hire <description>` (type `help` for commands).")
        else:
            # The terminal is private to its one user, like a Slack DM.
            self._show(await self._engine.handle(self._ref, SHELL_USER, uuid.uuid4().hex, text, private=True,
                                                 sent_at=time.time()))
        return True

    async def _hire(self, description: str) -> None:
        # No TTL: numbers the shell's conversations (`shell:<n>`); restarting from 1 could land on a live one.
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
            if not answer.is_success:
                self._emit(f"! The sandbox refused: {answer.json().get('error')}")
                return
            self._emit(f"(sandbox) {claim.email} confirmed code {claim.user_code}")
            await self.wait_for_claim()  # the claimed account's answer shows before the next line is read

    def _show(self, reply: Reply) -> None:
        for view in reply.views:
            if isinstance(view, Published) and self._lifecycle is not None:
                self._lifecycle.latest_job = view.job_id
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


def greeting(opentrain_url: str, sandbox_url: str | None) -> str:
    if sandbox_url:
        return f"hirebot shell on the OpenTrain sandbox at {sandbox_url} (type `help`)"
    return f"hirebot shell on {opentrain_url} (type `help`)"


async def converse(shell: Shell) -> None:
    """Every input line until `:quit` or the end of input; then a claim still being polled gets to finish."""
    async for line in read_lines(echo=not sys.stdin.isatty()):
        if not await shell.handle_line(line):
            return
    await shell.wait_for_claim()


async def read_lines(echo: bool) -> AsyncIterator[str]:
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
