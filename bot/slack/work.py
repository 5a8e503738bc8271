"""The slow work listeners start after acking: bounded, so acks stay prompt under bursts, and drained on shutdown.

Slack wants an ack within 3 s whatever else the process is doing. Every conversation step after an ack (Redis,
OpenTrain, several Web API calls) also needs the event loop; letting hundreds of them run at once makes each ack
wait behind their callbacks. A semaphore keeps only `limit` steps running; the rest wait their turn at no cost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

DEFAULT_CONCURRENT_STEPS = 16


class SlowWork:
    def __init__(self, limit: int = DEFAULT_CONCURRENT_STEPS):
        self._slots = asyncio.Semaphore(limit)
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def run(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run `step()` once a slot is free (it is only created then, so a cancelled wait leaves nothing behind)."""
        self._running += 1
        self._idle.clear()
        try:
            async with self._slots:
                await step()
        finally:
            self._running -= 1
            if not self._running:
                self._idle.set()

    async def drain(self, timeout: float) -> None:
        """Let steps already acked finish (Slack will not send them again) before the process lets go."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            log.warning("stopping with %d Slack request(s) still being handled", self._running)
