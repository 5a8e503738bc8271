"""Hiring conversations in Redis: one versioned record per conversation, written only by compare-and-set.

A record is a hash {version, data}. `save` succeeds only when the stored version is the one the caller read, so two
processes that both read version 7 can never both write version 8. Handled message ids travel inside the record, so
"mark the message handled" and "apply its effect" are one atomic write.
"""

from __future__ import annotations

from bot.hiring.record import Conversation, ConversationRef
from bot.infra.storage import Redis, key

# KEYS: record | ARGV: expected version, new version, data, ttl ms
_COMPARE_AND_SET = """
local current = redis.call('HGET', KEYS[1], 'version') or '0'
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'data', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""


class ConversationStore:
    def __init__(self, redis: Redis, namespace: str, idle_seconds: float):
        self._redis = redis
        self._namespace = namespace
        # Records outlive their idle time so a late answer can be told "this conversation expired".
        self._ttl_ms = int(idle_seconds * 2 * 1000)
        self._compare_and_set = redis.register_script(_COMPARE_AND_SET)

    def record_key(self, ref: ConversationRef) -> str:
        return key(self._namespace, "ws", ref.workspace_id, "conv", ref.conversation_id)

    async def load(self, ref: ConversationRef) -> Conversation | None:
        stored = await self._redis.hgetall(self.record_key(ref))
        if not stored.get("data"):
            return None
        return Conversation.from_json(str(stored["data"]), int(stored["version"]))

    async def save(self, conversation: Conversation) -> bool:
        """Write `conversation` if nobody wrote since it was read; on success its version moves on by one."""
        expected = conversation.version
        written = await self._compare_and_set(
            keys=[self.record_key(conversation.ref)],
            args=[str(expected), str(expected + 1), conversation.to_json(), self._ttl_ms],
        )
        if written:
            conversation.version = expected + 1
        return bool(written)
