"""What GET /metrics serves, for `serve` and for `worker` and `socket` (METRICS_PORT): this process's counters
(`bot.infra.metrics`) and the gauges of the deployment's state, read from Redis at scrape time from the layers that
own each key. Every read is a handful of commands whatever the data's size: a ZCOUNT per conversation state, a ZCARD
for the inbox, two commands per outbox lane still sending, and one SMEMBERS and one MGET for the ledgers.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.hiring.store import conversations_by_state
from bot.infra import metrics
from bot.infra.scheduler import Scheduler
from bot.infra.storage import Redis
from bot.ledger.reader import ledger_lags
from bot.slack.inbox import INBOX_KIND
from bot.slack.outbox import Outbox


def redis_gauges(redis: Redis, namespace: str, scheduler: Scheduler, outbox: Outbox,
                 clock: Callable[[], float] = time.time) -> metrics.GaugeReader:
    async def read() -> None:
        # Everything is read before any gauge is set: a scrape never shows half of one reading and half of another.
        conversations = await conversations_by_state(redis, namespace)
        inbox = await scheduler.count(INBOX_KIND)
        outbox_depth = await outbox.depth()
        lags, never_read = await ledger_lags(redis, namespace, clock())
        for state, count in conversations.items():
            metrics.CONVERSATIONS.labels(state.value).set(count)
        metrics.INBOX_DEPTH.set(inbox)
        metrics.OUTBOX_DEPTH.set(outbox_depth)
        metrics.LEDGER_LAG.clear()  # a workspace gone from the jobs index leaves the metric too
        for workspace_id, lag in lags.items():
            metrics.LEDGER_LAG.labels(workspace_id).set(lag)
        metrics.LEDGER_NEVER_READ.set(never_read)

    return read


def metrics_handler(read_gauges: metrics.GaugeReader | None) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def serve_metrics(request: web.Request) -> web.Response:
        body = await metrics.render(read_gauges)
        return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})

    return serve_metrics
