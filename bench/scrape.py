"""What a /metrics scrape and the per-state conversation index cost, on a real Redis with a lot in it.

Fills a throwaway namespace with N conversation records (saved through the real ConversationStore, spread over the
states), W workspaces with jobs and ledger read times, and L outbox lanes with queued cards; then times the Redis-backed
gauge reading plus the text exposition (what GET /metrics does), and a conversation save (the compare-and-set that
now also files the record under its state), each as the median and p99 of many runs.

Run: .venv/bin/python bench/scrape.py [--conversations 20000] [--workspaces 1000] [--lanes 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.hiring.jobs import JobRecord, record_job  # noqa: E402
from bot.hiring.record import Conversation, ConversationRef  # noqa: E402
from bot.hiring.states import State  # noqa: E402
from bot.hiring.store import ConversationStore  # noqa: E402
from bot.infra import metrics  # noqa: E402
from bot.infra.scheduler import Scheduler  # noqa: E402
from bot.infra.storage import connect, drop_namespace, key  # noqa: E402
from bot.slack.outbox import OUTBOX_KIND, Outbox  # noqa: E402
from bot.telemetry import redis_gauges  # noqa: E402
from tests.support.redis_server import test_redis_url  # noqa: E402

STATES = list(State)


def conversation(n: int) -> Conversation:
    return Conversation(workspace_id=f"T{n % 1000:04d}", conversation_id=f"C1:{n}", requester="U1",
                        state=STATES[n % len(STATES)], created_at=1.0, updated_at=1.0, description="annotators")


def quantiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {statistics.median(ordered) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms ({len(ordered)} runs)"


async def fill(redis, namespace: str, args: argparse.Namespace, store: ConversationStore) -> None:
    for start in range(0, args.conversations, 500):
        await asyncio.gather(*(store.save(conversation(n))
                               for n in range(start, min(start + 500, args.conversations))))
    for w in range(args.workspaces):
        workspace_id = f"T{w:04d}"
        await record_job(redis, namespace, JobRecord(job_id=f"job_{w}", workspace_id=workspace_id,
                                                     ref=ConversationRef(workspace_id, "C1:1"), requester="U1"))
        await redis.set(key(namespace, "ws", workspace_id, "ledger", "read-at"), repr(time.time()), ex=3600)
    for lane in range(args.lanes):
        queue = key(namespace, "ws", "T0001", "outbox", f"C{lane}", "queue")
        await redis.zadd(queue, {f"new:prop_{lane}_{i}": i for i in range(5)})
        await redis.sadd(key(namespace, "outbox", "pending"), f"T0001:C{lane}")


async def main(args: argparse.Namespace) -> None:
    redis = connect(test_redis_url())
    namespace = f"bench-scrape-{uuid.uuid4().hex[:8]}"
    store = ConversationStore(redis, namespace, idle_seconds=3600)
    scheduler = Scheduler(redis, namespace)
    try:
        await fill(redis, namespace, args, store)
        read = redis_gauges(redis, namespace, scheduler, Outbox(redis, namespace, None, scheduler))  # type: ignore[arg-type]
        gauges, scrapes = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            await read()
            gauges.append(time.perf_counter() - started)
            started = time.perf_counter()
            body = await metrics.render(read)
            scrapes.append(time.perf_counter() - started)
        saves = []
        for n in range(args.runs * 4):
            record = conversation(n)
            record.version = 1
            record.state = STATES[(n + 1) % len(STATES)]
            started = time.perf_counter()
            assert await store.save(record)
            saves.append(time.perf_counter() - started)
        print(f"{args.conversations} conversations, {args.workspaces} workspaces, {args.lanes} outbox lanes "
              f"(kind {OUTBOX_KIND}); exposition {len(body)} bytes")
        print(f"Redis gauges read: {quantiles(gauges)}")
        print(f"whole scrape (gauges + text): {quantiles(scrapes)}")
        print(f"conversation save (compare-and-set + state index): {quantiles(saves)}")
    finally:
        await drop_namespace(redis, namespace)
        await redis.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--workspaces", type=int, default=1_000)
    parser.add_argument("--lanes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=200)
    asyncio.run(main(parser.parse_args()))
