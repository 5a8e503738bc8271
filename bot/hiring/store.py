"""Hiring conversations in Redis: one versioned record per conversation, written only by compare-and-set.

A record is a hash {version, data}. `save` succeeds only when the stored version is the one the caller read, so two
processes that both read version 7 can never both write version 8. Handled message ids travel inside the record, so
"mark the message handled" and "apply its effect" are one atomic write.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from bot.infra.storage import key

PROCESSED_MEMORY = 200  # message ids remembered per conversation for dedupe

# KEYS: record | ARGV: expected version, new version, data, ttl ms
_COMPARE_AND_SET = """
local current = redis.call('HGET', KEYS[1], 'version') or '0'
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'data', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""


class ConversationRef(NamedTuple):
    workspace_id: str
    conversation_id: str  # Slack: f"{channel}:{thread_ts}"; shell: "shell:<n>"


@dataclass
class Conversation:
    """Everything the engine needs to take the next step, from any process."""

    workspace_id: str
    conversation_id: str
    requester: str
    state: str
    created_at: float
    updated_at: float
    description: str = ""
    idempotency_key: str = ""
    job_id: str | None = None
    job_url: str | None = None
    report: dict[str, Any] = field(default_factory=dict)  # the draft report: `read_report` + enums, update_keys, known
    answered: list[str] = field(default_factory=list)  # fields answered, oldest first (for `back`)
    reask: str | None = None  # a field asked again on request (back / edit), even if not missing
    partial: dict[str, Any] = field(default_factory=dict)  # answers so far for a multi-key field
    confirmed: list[str] = field(default_factory=list)  # low-confidence fields the requester confirmed
    pending: dict[str, Any] | None = None  # an API call in flight: {op, args, message_id, started_at}
    failure: dict[str, Any] | None = None  # {reason, retry: op} while state == failed
    claim_email: str | None = None
    processed: list[str] = field(default_factory=list)
    surface: dict[str, Any] = field(default_factory=dict)
    version: int = 0

    @property
    def ref(self) -> ConversationRef:
        return ConversationRef(self.workspace_id, self.conversation_id)

    def mark_processed(self, message_id: str) -> None:
        if message_id and message_id not in self.processed:
            self.processed = [*self.processed, message_id][-PROCESSED_MEMORY:]

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("version")
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str, version: int) -> "Conversation":
        return cls(**json.loads(raw), version=version)


class ConversationStore:
    def __init__(self, redis, namespace: str, idle_seconds: int):
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
        return Conversation.from_json(stored["data"], int(stored["version"]))

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
