"""The scheduler on a real Redis: each due item runs once across processes, leases survive crashes."""

from __future__ import annotations

import asyncio
from collections import Counter

from bot.infra.scheduler import Scheduler
from bot.infra.storage import connect
from tests.support.clock import HandClock


async def test_three_workers_run_each_due_item_exactly_once(redis_url, namespace, redis):
    runs: Counter[str] = Counter()
    running: set[str] = set()
    overlaps: list[str] = []

    async def handler(item):
        if item.item_id in running:
            overlaps.append(item.item_id)
        running.add(item.item_id)
        await asyncio.sleep(0.01)
        running.discard(item.item_id)
        runs[item.item_id] += 1
        return None

    clients = [connect(redis_url) for _ in range(3)]
    workers = [Scheduler(client, namespace) for client in clients]
    for worker in workers:
        worker.register("poll", handler)
    for index in range(20):
        await workers[0].schedule("poll", f"item-{index}")

    await asyncio.gather(*(worker.run_once(limit=3) for worker in workers for _ in range(4)))
    await asyncio.gather(*(worker.run_once() for worker in workers))

    assert runs == Counter({f"item-{index}": 1 for index in range(20)})
    assert overlaps == []
    for client in clients:
        await client.aclose()


async def test_handler_result_sets_the_next_due_time(redis, namespace):
    clock = HandClock()
    scheduler = Scheduler(redis, namespace, clock=clock)
    seen = []

    async def handler(item):
        seen.append((item.item_id, item.payload))
        return clock.now + 5 if len(seen) < 2 else None

    scheduler.register("claim", handler)
    await scheduler.schedule("claim", "T1", payload={"attempt": 1})
    assert await scheduler.run_once() == 1
    assert await scheduler.run_once() == 0  # not due for another 5 s
    clock.now += 5
    assert await scheduler.run_once() == 1
    assert seen == [("T1", {"attempt": 1}), ("T1", {"attempt": 1})]
    assert await scheduler.due_at("claim", "T1") is None


async def test_item_held_by_a_killed_worker_runs_after_its_lease(redis_url, namespace, redis):
    clock = HandClock()
    dying = Scheduler(connect(redis_url), namespace, lease_seconds=30, clock=clock)
    survivor = Scheduler(redis, namespace, lease_seconds=30, clock=clock)
    started = asyncio.Event()

    async def hangs(item):
        started.set()
        await asyncio.Event().wait()

    survivor_runs = []

    async def finishes(item):
        survivor_runs.append(item.item_id)
        return None

    dying.register("ledger", hangs)
    survivor.register("ledger", finishes)
    await dying.schedule("ledger", "T9")
    task = asyncio.create_task(dying.run_once())
    await started.wait()
    task.cancel()  # the process dies mid-run: no finish, the lease stays

    assert await survivor.run_once() == 0  # still leased
    clock.now += 31
    assert await survivor.run_once() == 1
    assert survivor_runs == ["T9"]


async def test_schedule_during_a_run_queues_one_rerun_instead_of_a_parallel_run(redis, namespace):
    clock = HandClock()
    scheduler = Scheduler(redis, namespace, clock=clock)
    other = Scheduler(redis, namespace, clock=clock)
    calls = []

    async def handler(item):
        calls.append(item.item_id)
        if len(calls) == 1:
            await scheduler.schedule("ledger", "T1")  # a webhook rings while we read
            assert await other.run_once() == 0  # nobody else may start it meanwhile
        return None

    scheduler.register("ledger", handler)
    other.register("ledger", handler)
    await scheduler.schedule("ledger", "T1")
    assert await scheduler.run_once() == 1
    assert await scheduler.run_once() == 1  # the queued re-run
    assert await scheduler.run_once() == 0
    assert calls == ["T1", "T1"]


async def test_a_failing_handler_is_retried_later_not_lost(redis, namespace):
    clock = HandClock()
    scheduler = Scheduler(redis, namespace, clock=clock, failure_retry_seconds=15)
    attempts = []

    async def flaky(item):
        attempts.append(clock.now)
        if len(attempts) == 1:
            raise RuntimeError("OpenTrain is down")
        return None

    scheduler.register("claim", flaky)
    await scheduler.schedule("claim", "T2")
    await scheduler.run_once()
    assert await scheduler.due_at("claim", "T2") == clock.now + 15
    clock.now += 15
    await scheduler.run_once()
    assert len(attempts) == 2
    assert await scheduler.due_at("claim", "T2") is None


async def test_items_waiting_behind_a_slow_one_never_run_twice(redis_url, namespace, redis):
    runs: Counter[str] = Counter()

    async def slow(item):
        runs[item.item_id] += 1
        await asyncio.sleep(0.25)  # a slow lane: Slack answering slowly, or a 429 lookup
        return None

    clients = [connect(redis_url) for _ in range(2)]
    first, second = (Scheduler(client, namespace, lease_seconds=0.6) for client in clients)
    for worker in (first, second):
        worker.register("outbox", slow)
    for index in range(4):
        await first.schedule("outbox", f"lane-{index}")

    async def second_comes_later():
        await asyncio.sleep(0.7)  # past the lease of anything the first worker claimed at the start
        await second.run_once()

    await asyncio.gather(first.run_once(), second_comes_later())
    assert runs == Counter({f"lane-{index}": 1 for index in range(4)})
    for client in clients:
        await client.aclose()


async def test_postpone_moves_a_waiting_item_but_never_a_running_or_finished_one(redis, namespace):
    clock = HandClock()
    scheduler = Scheduler(redis, namespace, clock=clock)
    seen: list[float | None] = []

    async def handler(item):
        seen.append(await scheduler.due_at("k", "running"))
        assert not await scheduler.postpone("k", "running", clock.now + 100)  # leased: the runner owns it
        return None

    scheduler.register("k", handler, lease_seconds=5)
    await scheduler.schedule("k", "waiting", clock.now + 1)
    assert await scheduler.postpone("k", "waiting", clock.now + 10)  # later, unlike schedule()
    assert await scheduler.due_at("k", "waiting") == clock.now + 10
    assert not await scheduler.postpone("k", "gone", clock.now + 10)
    assert await scheduler.due_at("k", "gone") is None  # never created by a heartbeat

    await scheduler.schedule("k", "running")
    assert await scheduler.run_once() == 1
    assert seen == [clock.now + 5]  # claimed under this kind's own lease
    assert await scheduler.due_at("k", "running") is None
