"""Hiring conversations in Redis: one versioned record per conversation, written only by compare-and-set.

A record is a hash {version, data}. `save` succeeds only when the stored version is the one the caller read, so two
processes that both read version 7 can never both write version 8. Handled message ids travel inside the record, so
"mark the message handled" and "apply its effect" are one atomic write.

A pending OpenTrain call is leased apart from the record: `{record}:lease` holds the owner's token with a short
expiry that the owner keeps pushing forward while its call runs (`keep_lease`). A heartbeat never touches the
record, so it never bumps the version the owner's own final compare-and-set expects. The lease is taken and
released in the same atomic step as the record write that starts or finishes the call, so nobody ever sees a
pending call without its lease while its owner lives. No lease key: the owner died, and the call may be replayed.

Every save also files the conversation under its state in a per-state index
(`{ns}:{conv:<shard>}:conversations:{state}`, a sorted set of record keys scored by when the record expires), in the
same atomic step: `conversations_by_state` counts them for the metrics in a few commands, whatever the number of
records, and a record that expires untouched leaves the count when its TTL passes, as counters kept by each move
could not. Records and indexes are spread over `SHARDS`
hash-tagged shards by a hash of the conversation (`{ns}:{conv:<shard>}:ws:<team>:conv:<id>`): a record, its lease,
its queue and its shard's indexes share a Redis Cluster slot, and no index key takes every save.

Messages that wait for a live call queue up in `{record}:queue` (ordered by when they were sent), each with a
short liveness of its own in `{record}:queue:alive`, so a waiter that dies never holds up the ones behind it.
"""

from __future__ import annotations

import time

from bot.hiring.record import Conversation, ConversationRef
from bot.hiring.states import State
from bot.infra.storage import Redis, key, shard_of

# KEYS: record, lease, the state index of every State in order | ARGV: expected version, new version, data, ttl ms,
#   lease token to take ('' = none), lease ms, lease token to release ('' = none), the new state's position (1-based)
_COMPARE_AND_SET = """
local current = redis.call('HGET', KEYS[1], 'version') or '0'
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'data', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if ARGV[7] ~= '' and redis.call('GET', KEYS[2]) == ARGV[7] then redis.call('DEL', KEYS[2]) end
if ARGV[5] ~= '' then redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[6]) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local filed = 2 + tonumber(ARGV[8])
for i = 3, #KEYS do
  if i == filed then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    redis.call('ZADD', KEYS[i], now + tonumber(ARGV[4]), KEYS[1])
  else
    redis.call('ZREM', KEYS[i], KEYS[1])
  end
end
return 1
"""
STATES = tuple(State)
SHARDS = 16  # changing it renames every conversation record (stop every process first)

# KEYS: lease | ARGV: token, lease ms
_KEEP_LEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS: queue, alive | ARGV: member, order, alive ms, join ('1' = join even when nobody waits)
# -> 0: others wait ahead of this member (it is queued); 1: nobody waits, it is not queued; 2: it is queued, first.
_TURN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  redis.call('ZREM', KEYS[1], gone)
  redis.call('ZREM', KEYS[2], gone)
end
local queued = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not queued and (ARGV[4] == '1' or redis.call('ZCARD', KEYS[1]) > 0) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  queued = ARGV[2]
end
if queued then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 10 * tonumber(ARGV[3]))
  redis.call('PEXPIRE', KEYS[2], 10 * tonumber(ARGV[3]))
end
if not queued then return 1 end
local head = redis.call('ZRANGE', KEYS[1], 0, 0)
if head[1] == ARGV[1] then return 2 end
return 0
"""


class ConversationStore:
    def __init__(self, redis: Redis, namespace: str, idle_seconds: float, *, lease_seconds: float = 10.0):
        self._redis = redis
        self.lease_seconds = lease_seconds
        self._namespace = namespace
        # Records outlive their idle time so a late answer can be told "this conversation expired".
        self._ttl_ms = int(idle_seconds * 2 * 1000)
        self._compare_and_set = redis.register_script(_COMPARE_AND_SET)
        self._keep_lease = redis.register_script(_KEEP_LEASE)
        self._turn = redis.register_script(_TURN)

    def record_key(self, ref: ConversationRef) -> str:
        shard = _shard(ref)
        return key(self._namespace, "conv", str(shard), "ws", ref.workspace_id, "conv", ref.conversation_id)

    async def load(self, ref: ConversationRef) -> Conversation | None:
        stored = await self._redis.hgetall(self.record_key(ref))
        if not stored.get("data"):
            return None
        return Conversation.from_json(str(stored["data"]), int(stored["version"]))

    def lease_key(self, ref: ConversationRef) -> str:
        return self.record_key(ref) + ":lease"

    async def save(self, conversation: Conversation, *, lease: str = "", release: str = "") -> bool:
        """Write `conversation` if nobody wrote since it was read; on success its version moves on by one.

        In the same step, `release` lets go of the pending call's lease (if that token still holds it) and `lease`
        takes it for a new owner."""
        expected = conversation.version
        record = self.record_key(conversation.ref)
        written = await self._compare_and_set(
            keys=[record, self.lease_key(conversation.ref),
                  *(state_index_key(self._namespace, state, _shard(conversation.ref)) for state in STATES)],
            args=[str(expected), str(expected + 1), conversation.to_json(), self._ttl_ms, lease,
                  int(self.lease_seconds * 1000), release, STATES.index(conversation.state) + 1],
        )
        if written:
            conversation.version = expected + 1
        return bool(written)

    async def keep_lease(self, ref: ConversationRef, token: str) -> bool:
        """The owner's heartbeat: push its lease's end forward; False when the lease is no longer its own."""
        return bool(await self._keep_lease(keys=[self.lease_key(ref)], args=[token, int(self.lease_seconds * 1000)]))

    async def lease_alive(self, ref: ConversationRef) -> bool:
        """Someone is at work on the conversation's pending call (no lease: its owner died)."""
        return bool(await self._redis.exists(self.lease_key(ref)))

    async def my_turn(self, ref: ConversationRef, message_id: str, order: float, *, join: bool,
                      alive_seconds: float) -> int:
        """Whether `message_id` may go now: 0 others wait ahead of it, 1 nobody waits (it is not queued), 2 it is
        first in the queue. It joins the queue when `join` or when others already wait; each call also keeps its
        place alive for `alive_seconds` more."""
        queue = self.record_key(ref) + ":queue"
        answer = await self._turn(keys=[queue, queue + ":alive"],
                                  args=[message_id, repr(order), int(alive_seconds * 1000), "1" if join else "0"])
        return int(answer)

    async def leave_queue(self, ref: ConversationRef, message_id: str) -> None:
        queue = self.record_key(ref) + ":queue"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(queue, message_id)
            pipe.zrem(queue + ":alive", message_id)
            await pipe.execute()


def _shard(ref: ConversationRef) -> int:
    return shard_of(f"{ref.workspace_id}:{ref.conversation_id}", SHARDS)


def state_index_key(namespace: str, state: State, shard: int) -> str:
    """The record keys of the conversations last saved in `state`, scored by when each record expires (ms). No TTL:
    each entry leaves with its record (pruned whenever a save files a conversation under that state, and never
    counted once past its score); an expiry of the whole index would undercount every live conversation."""
    return key(namespace, "conv", str(shard), "conversations", state.value)


async def conversations_by_state(redis: Redis, namespace: str) -> dict[State, int]:
    """How many live conversation records are in each state: one ZCOUNT per state and shard, read-only."""
    now_ms = int(time.time() * 1000)
    async with redis.pipeline(transaction=False) as pipe:
        for state in STATES:
            for shard in range(SHARDS):
                pipe.zcount(state_index_key(namespace, state, shard), f"({now_ms}", "+inf")
        counts = await pipe.execute()
    return {state: sum(int(count) for count in counts[i * SHARDS:(i + 1) * SHARDS]) for i, state in enumerate(STATES)}
