"""Scheduled work in Redis: due times plus leases, so each item runs once across any number of processes.

Per kind, a sorted set maps item ids to their due time. Claiming an item (atomically, in Lua) pushes its score to
the end of a lease and records a lease token; finishing it with that token either removes it or sets its next due
time. A worker that dies mid-run simply lets the lease lapse and another worker picks the item up. While an item is
leased, `schedule()` only records a re-run request, so one item never runs in two places at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from bot.storage import key

log = logging.getLogger(__name__)

# KEYS: due, lease, rerun, payload | ARGV: now, lease_until, limit, token_prefix
_CLAIM = """
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for i, item in ipairs(items) do
  local token = ARGV[4] .. ':' .. i
  redis.call('ZADD', KEYS[1], ARGV[2], item)
  redis.call('HSET', KEYS[2], item, token)
  redis.call('HDEL', KEYS[3], item)
  table.insert(out, item)
  table.insert(out, token)
  table.insert(out, redis.call('HGET', KEYS[4], item) or '')
end
return out
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
        redis,
        namespace: str,
        *,
        lease_seconds: float = 30.0,
        failure_retry_seconds: float = 15.0,
        clock: Callable[[], float] = time.time,
    ):
        self._redis = redis
        self._namespace = namespace
        self._lease = lease_seconds
        self._failure_retry = failure_retry_seconds
        self._clock = clock
        self._handlers: dict[str, Handler] = {}
        self._claim = redis.register_script(_CLAIM)
        self._finish = redis.register_script(_FINISH)
        self._schedule = redis.register_script(_SCHEDULE)
        self._extend = redis.register_script(_EXTEND)

    def _keys(self, kind: str) -> list[str]:
        return [key(self._namespace, "sched", kind, part) for part in ("due", "lease", "rerun", "payload")]

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    async def schedule(
        self, kind: str, item_id: str, due_at: float | None = None, payload: dict[str, Any] | None = None
    ) -> None:
        """Make `item_id` due at `due_at` (now by default); an earlier existing due time wins."""
        when = self._clock() if due_at is None else due_at
        encoded = json.dumps(payload) if payload is not None else ""
        await self._schedule(keys=self._keys(kind), args=[item_id, repr(when), encoded])

    async def cancel(self, kind: str, item_id: str) -> None:
        due, lease, rerun, payload = self._keys(kind)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(due, item_id).hdel(lease, item_id).hdel(rerun, item_id).hdel(payload, item_id)
            await pipe.execute()

    async def due_at(self, kind: str, item_id: str) -> float | None:
        return await self._redis.zscore(self._keys(kind)[0], item_id)

    async def run_once(self, limit: int = 20) -> int:
        """Claim and run every due item of the registered kinds; returns how many ran."""
        ran = 0
        for kind in list(self._handlers):
            for item in await self._claim_due(kind, limit):
                await self._run(item)
                ran += 1
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
                except asyncio.TimeoutError:
                    pass

    async def _claim_due(self, kind: str, limit: int) -> list[ScheduledItem]:
        now = self._clock()
        raw = await self._claim(
            keys=self._keys(kind), args=[repr(now), repr(now + self._lease), limit, uuid.uuid4().hex]
        )
        items = []
        for index in range(0, len(raw), 3):
            item_id, token, payload = raw[index : index + 3]
            items.append(ScheduledItem(kind, item_id, json.loads(payload) if payload else {}, token))
        return items

    async def _run(self, item: ScheduledItem) -> None:
        keeper = asyncio.create_task(self._keep_lease(item))
        try:
            next_due = await self._handlers[item.kind](item)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduled %s %s failed; retrying in %ss", item.kind, item.item_id, self._failure_retry)
            next_due = self._clock() + self._failure_retry
        finally:
            keeper.cancel()
        await self._finish(keys=self._keys(item.kind), args=[item.item_id, item.lease_token, "" if next_due is None else repr(next_due)])

    async def _keep_lease(self, item: ScheduledItem) -> None:
        """Extend the lease while a long handler runs, so no other worker starts the same item."""
        while True:
            await asyncio.sleep(self._lease / 3)
            await self._extend(keys=self._keys(item.kind)[:2], args=[item.item_id, item.lease_token, repr(self._clock() + self._lease)])
