"""Acked Slack requests (`/hire`, answers, clicks) survive a process that dies before handling them.

Slack never resends a command, an event or a click it got an ack for, and under a burst the step after an ack may wait
its turn in `SlowWork`. So before waiting, each step is written to Redis as a scheduled item due `REDRIVE_SECONDS`
later. While its process works on it, a heartbeat keeps pushing that due time `REDRIVE_SECONDS` ahead; once handled it
is cancelled. A process that dies leaves its items behind, and they fall due within `REDRIVE_SECONDS`: any process
running the scheduler handles them then (a replay of its own is leased just as briefly). Replaying is safe: the engine
applies each Slack message id once, and the dialogue posts a job's root message once (see `SlackDialogue.start`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from redis.exceptions import RedisError

from bot.infra.scheduler import ScheduledItem, Scheduler
from bot.slack.work import SlowWork

log = logging.getLogger(__name__)

INBOX_KIND = "slack_inbox"
# An answer nobody has shown it is working on for this long was left by a stopped process. Also the lease of a replay.
REDRIVE_SECONDS = 10.0
# Recording is one quick Redis call; a few at a time keep a burst from opening a connection per answer while
# other requests still wait for their ack.
CONCURRENT_RECORDS = 4

# (payload, redelivered) -> False when another process took the step first (a Slack retry): it stays in the inbox,
# to be redriven if that process died; anything else means handled.
Handler = Callable[[dict[str, Any], bool], Awaitable[bool | None]]


class SlackInbox:
    def __init__(self, scheduler: Scheduler, work: SlowWork, *, clock: Callable[[], float] = time.time):
        self._scheduler = scheduler
        self._work = work
        self._clock = clock
        self._handlers: dict[str, Handler] = {}
        self._recording = asyncio.Semaphore(CONCURRENT_RECORDS)

    def handler(self, name: str, handle: Handler) -> None:
        self._handlers[name] = handle

    def register(self, scheduler: Scheduler) -> None:
        scheduler.register(INBOX_KIND, self._redrive, lease_seconds=REDRIVE_SECONDS)

    async def accept(self, name: str, item_id: str, payload: dict[str, Any]) -> None:
        """Record the step, then run it when a slot is free; Slack's retries of it share `item_id`."""
        try:
            async with self._recording:
                await self._scheduler.schedule(INBOX_KIND, item_id, self._clock() + REDRIVE_SECONDS,
                                               {"handler": name, "payload": payload})
        except RedisError as exc:
            # Without Redis the step cannot be kept, but it is still tried: the user hears about any failure.
            log.warning("cannot record Slack %s %s (%s)", name, item_id, type(exc).__name__)
        # Kept ahead from now, not from when a slot frees: a step still waiting for its turn here is not redriven
        # elsewhere while this process lives.
        heartbeat = asyncio.create_task(self._keep_due_ahead(item_id))
        try:
            await self._work.run(partial(self._handle, name, item_id, payload))
        finally:
            heartbeat.cancel()

    async def _handle(self, name: str, item_id: str, payload: dict[str, Any]) -> None:
        handled: bool | None = None
        try:
            handled = await self._handlers[name](payload, False)
        finally:
            # Handled (failures are reported to the user by the handler): nothing left to replay. Unless another
            # process took it first: then it stays, due once that process stops keeping it ahead.
            if handled is not False:
                try:
                    await self._scheduler.cancel(INBOX_KIND, item_id)
                except RedisError:
                    pass

    async def _keep_due_ahead(self, item_id: str) -> None:
        """While this process works on the step, keep it from falling due; when the process dies, this stops."""
        while True:
            await asyncio.sleep(REDRIVE_SECONDS / 3)
            try:
                await self._scheduler.postpone(INBOX_KIND, item_id, self._clock() + REDRIVE_SECONDS)
            except RedisError as exc:
                log.warning("cannot keep Slack step %s (%s)", item_id, type(exc).__name__)

    async def _redrive(self, item: ScheduledItem) -> None:
        name = item.payload.get("handler", "")
        handle = self._handlers.get(name)
        if handle is None:
            log.error("dropping Slack %s %s: no handler for it in this process", name or "item", item.item_id)
            return None
        log.warning("handling Slack %s %s left unhandled by a stopped process", name, item.item_id)
        try:
            await handle(item.payload.get("payload", {}), True)
        except Exception:
            log.exception("replaying Slack %s %s failed; dropping it", name, item.item_id)
        return None
