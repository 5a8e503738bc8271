"""Scheduled work in Redis: due times plus leases, so each item runs once across any number of processes.

Per kind, a sorted set maps item ids to their due time. Claiming an item (atomically, in Lua) pushes its score to
the end of a lease and records a lease token; finishing it with that token either removes it or sets its next due
time. A worker claims one item at a time, right before running it, and keeps extending that lease while it runs, so
no claimed item ever waits out its lease behind another. A worker that dies mid-run simply lets the lease lapse and
another worker picks the item up. While an item is leased, `schedule()` only records a re-run request, so one item
never runs in two places at once. A pass of `run_once` runs each item at most once.

Shards. Each kind's four keys are split into `SHARDS` slot-tagged shards by a hash of the item id
(`{ns}:{sched:<kind>:<shard>}:due`, ...): an item always lives in one shard, so every script touches one Redis Cluster
slot, and no single key carries every process's polling. A pass first peeks at every shard's earliest due time (one
pipelined round trip) and claims only from shards with due work.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from bot.infra.secretbox import UNDECRYPTABLE, UndecryptableSecret
from bot.infra.storage import Redis, key, shard_of

log = logging.getLogger(__name__)

# An item whose stored secret cannot be decrypted (ENCRYPTION_KEY changed without rotation) waits this long, doubling
# from the failure retry, before trying again; only the first failure in a row is logged.
UNDECRYPTABLE_MAX_BACKOFF_SECONDS = 3600.0
SHARDS = 8  # per kind; changing it moves items to other keys (stop every process and drain first)

# KEYS: due, lease, rerun, payload | ARGV: now, lease_until, token, ids to pass over... -> {item, payload} or {}
_CLAIM = """
local skip = {}
for i = 4, #ARGV do skip[ARGV[i]] = true end
for _, item in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, #ARGV - 2)) do
  if not skip[item] then
    redis.call('ZADD', KEYS[1], ARGV[2], item)
    redis.call('HSET', KEYS[2], item, ARGV[3])
    redis.call('HDEL', KEYS[3], item)
    return {item, redis.call('HGET', KEYS[4], item) or ''}
  end
end
return {}
"""

# KEYS: due, lease, rerun, payload | ARGV: item, token, next_due ('' = done)
_FINISH = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
local next_due = ARGV[3]
local rerun = redis.call('HGET', KEYS[3], ARGV[1])
if rerun then
  redis.call('HDEL', KEYS[3], ARGV[1])
  if next_due == '' or tonumber(rerun) < tonumber(next_due) then next_due = rerun end
end
if next_due == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[4], ARGV[1])
else
  redis.call('ZADD', KEYS[1], next_due, ARGV[1])
end
return 1
"""

# KEYS: due, lease, rerun, payload | ARGV: item, due_at, payload ('' = keep)
_SCHEDULE = """
if ARGV[3] ~= '' then redis.call('HSET', KEYS[4], ARGV[1], ARGV[3]) end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  local current = redis.call('HGET', KEYS[3], ARGV[1])
  if not current or tonumber(ARGV[2]) < tonumber(current) then redis.call('HSET', KEYS[3], ARGV[1], ARGV[2]) end
  return 0
end
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(ARGV[2]) < tonumber(score) then redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) end
return 1
"""

# KEYS: due, lease | ARGV: item, token, lease_until
_EXTEND = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""


# KEYS: due, lease | ARGV: item, due_at -> 1 when moved; an item leased (being run) or gone is left alone
_POSTPONE = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
return redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[2], ARGV[1])
"""


@dataclass(frozen=True)
class ScheduledItem:
    kind: str
    item_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    lease_token: str = ""


Handler = Callable[[ScheduledItem], Awaitable[float | None]]


class Scheduler:
    def __init__(
        self,
        redis: Redis,
        namespace: str,
        *,
        lease_seconds: float = 30.0,
        failure_retry_seconds: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._namespace = namespace
        self._lease = lease_seconds
        self._failure_retry = failure_retry_seconds
        self._clock = clock
        self._handlers: dict[str, Handler] = {}
        self._undecryptable: dict[tuple[str, str], int] = {}  # (kind, item) -> failures in a row, this process
        self._leases: dict[str, float] = {}  # per kind, when it differs from `lease_seconds`
        self._claim = redis.register_script(_CLAIM)
        self._finish = redis.register_script(_FINISH)
        self._schedule = redis.register_script(_SCHEDULE)
        self._extend = redis.register_script(_EXTEND)
        self._postpone = redis.register_script(_POSTPONE)

    def _shard_keys(self, kind: str, shard: int) -> list[str]:
        # No TTL: four keys per kind and shard, shared by its items; an item leaves them when it is done or cancelled,
        # and an expiry would silently drop due work (a claim poll, a ledger read, a Slack step to replay).
        return [key(self._namespace, "sched", f"{kind}:{shard}", part) for part in ("due", "lease", "rerun", "payload")]

    def _keys(self, kind: str, item_id: str) -> list[str]:
        return self._shard_keys(kind, shard_of(item_id, SHARDS))

    def register(self, kind: str, handler: Handler, *, lease_seconds: float | None = None) -> None:
        """`lease_seconds`: how soon another process takes over an item of this kind whose runner died."""
        self._handlers[kind] = handler
        if lease_seconds is not None:
            self._leases[kind] = lease_seconds

    def _lease_of(self, kind: str) -> float:
        return self._leases.get(kind, self._lease)

    async def schedule(
        self, kind: str, item_id: str, due_at: float | None = None, payload: dict[str, Any] | None = None
    ) -> None:
        """Make `item_id` due at `due_at` (now by default); an earlier existing due time wins."""
        when = self._clock() if due_at is None else due_at
        encoded = json.dumps(payload) if payload is not None else ""
        await self._schedule(keys=self._keys(kind, item_id), args=[item_id, repr(when), encoded])

    async def cancel(self, kind: str, item_id: str) -> None:
        due, lease, rerun, payload = self._keys(kind, item_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            # One command per statement: redis-py types pipeline commands as awaitables, not as the pipeline.
            pipe.zrem(due, item_id)
            pipe.hdel(lease, item_id)
            pipe.hdel(rerun, item_id)
            pipe.hdel(payload, item_id)
            await pipe.execute()

    async def postpone(self, kind: str, item_id: str, due_at: float) -> bool:
        """Move a waiting item's due time to `due_at`, later or not (a heartbeat: "still on it, not yet"). An item
        that is gone or being run is left alone; returns whether it moved."""
        return bool(await self._postpone(keys=self._keys(kind, item_id)[:2], args=[item_id, repr(due_at)]))

    async def due_at(self, kind: str, item_id: str) -> float | None:
        return await self._redis.zscore(self._keys(kind, item_id)[0], item_id)

    async def count(self, kind: str) -> int:
        """Items of `kind` not yet done: waiting for their time, or being run."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for shard in range(SHARDS):
                pipe.zcard(self._shard_keys(kind, shard)[0])
            return sum(int(size) for size in await pipe.execute())

    async def run_once(self, limit: int = 20) -> int:
        """Run the due items of the registered kinds, up to `limit` per kind; returns how many ran.

        Items are claimed one at a time, just before each runs: a batch claimed up front would sit leased behind a
        slow item, its leases lapse, and another worker would run them while this one still meant to."""
        ran = 0
        for kind in list(self._handlers):
            done: list[str] = []  # an item asking to run again at once waits for the next pass
            while len(done) < limit and (item := await self._claim_next(kind, done)) is not None:
                await self._run(item)
                done.append(item.item_id)
            ran += len(done)
        return ran

    async def run_forever(self, stop: asyncio.Event, idle_sleep: float = 0.5) -> None:
        while not stop.is_set():
            try:
                ran = await self.run_once()
            except RedisError as exc:
                # Redis lost: nothing is claimed, so nothing is lost; try again shortly.
                log.warning("scheduler cannot reach Redis (%s); retrying", type(exc).__name__)
                ran = 0
            if not ran:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=idle_sleep)
                except TimeoutError:
                    pass

    async def _claim_next(self, kind: str, passed_over: list[str]) -> ScheduledItem | None:
        for shard in await self._due_shards(kind):
            now, token = self._clock(), uuid.uuid4().hex
            raw = await self._claim(keys=self._shard_keys(kind, shard),
                                    args=[repr(now), repr(now + self._lease_of(kind)), token, *passed_over])
            if raw:
                item_id, payload = raw
                return ScheduledItem(kind, item_id, json.loads(payload) if payload else {}, token)
        return None

    async def _due_shards(self, kind: str) -> list[int]:
        """The shards holding an item due now (passed-over items included: the claim skips those), starting at a
        random one so that processes polling together spread over the shards."""
        now = repr(self._clock())
        async with self._redis.pipeline(transaction=False) as pipe:
            for shard in range(SHARDS):
                pipe.zrangebyscore(self._shard_keys(kind, shard)[0], "-inf", now, start=0, num=1)
            heads = await pipe.execute()
        due = [shard for shard, head in enumerate(heads) if head]
        start = random.randrange(len(due)) if due else 0
        return due[start:] + due[:start]

    async def _run(self, item: ScheduledItem) -> None:
        keeper = asyncio.create_task(self._keep_lease(item))
        try:
            next_due = await self._handlers[item.kind](item)
        except asyncio.CancelledError:
            raise
        except UndecryptableSecret:
            next_due = self._clock() + self._undecryptable_backoff(item)
        except Exception:
            log.exception("scheduled %s %s failed; retrying in %ss", item.kind, item.item_id, self._failure_retry)
            next_due = self._clock() + self._failure_retry
        else:
            self._undecryptable.pop((item.kind, item.item_id), None)
        finally:
            keeper.cancel()
        next_due_arg = "" if next_due is None else repr(next_due)
        await self._finish(keys=self._keys(item.kind, item.item_id),
                           args=[item.item_id, item.lease_token, next_due_arg])

    def _undecryptable_backoff(self, item: ScheduledItem) -> float:
        """One WARNING line for the first failure in a row, none after; the wait doubles up to an hour."""
        failures = self._undecryptable.get((item.kind, item.item_id), 0) + 1
        self._undecryptable[(item.kind, item.item_id)] = failures
        delay: float = min(self._failure_retry * 2.0 ** (failures - 1), UNDECRYPTABLE_MAX_BACKOFF_SECONDS)
        if failures == 1:
            log.warning("scheduled %s %s paused: %s; backing off up to %ss (restore the old key in ENCRYPTION_KEY "
                        "after the new one, then run rotate-keys)", item.kind, item.item_id, UNDECRYPTABLE,
                        int(UNDECRYPTABLE_MAX_BACKOFF_SECONDS))
        return delay

    async def _keep_lease(self, item: ScheduledItem) -> None:
        """Extend the lease while a long handler runs, so no other worker starts the same item."""
        lease = self._lease_of(item.kind)
        while True:
            await asyncio.sleep(lease / 3)
            lease_until = repr(self._clock() + lease)
            await self._extend(keys=self._keys(item.kind, item.item_id)[:2],
                               args=[item.item_id, item.lease_token, lease_until])
