"""Slack-side bookkeeping in Redis: where each conversation lives in Slack and which messages to update.

The engine owns the hiring state; this only remembers Slack coordinates (requester, channel, thread, the message
showing the open question, the DM), so any process can route the next event and update the right message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.infra.storage import Redis, key

RECENT_PER_USER = 20

# KEYS: conversation record, requester's recent list, start record | ARGV: ttl, now, conversation id, field/value...
# A record is created once: a slow process finishing a start another one already took over must not reset it.
_ADD_ONCE = f"""
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -{RECENT_PER_USER} - 1)
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[1])
return 1
"""


@dataclass(frozen=True)
class SlackConversation:
    conversation_id: str  # f"{channel}:{thread_ts}", the engine's ConversationRef.conversation_id
    requester: str
    channel: str
    thread_ts: str
    title: str = ""
    question_ts: str = ""  # the message showing the question waiting for an answer
    question_key: str = ""
    question_label: str = ""
    review_ts: str = ""
    dm_channel: str = ""
    claim_ts: str = ""  # the claim DM, updated as the claim moves on
    root_state: str = ""  # the state the root message shows
    job_url: str = ""
    question_shown_at: str = ""  # epoch seconds (repr) the open question was shown: its nudge is due from then
    nudged: str = ""  # the question_ts of the question already nudged
    claim_reminded: str = ""  # the expires_at (repr) of the claim code already reminded of
    root_ts: str = ""  # the root message, when it is a reply under someone's message (thread_ts); else thread_ts


class SlackRegistry:
    def __init__(self, redis: Redis, namespace: str, ttl_seconds: int):
        self._redis = redis
        self._namespace = namespace
        self._ttl = ttl_seconds

    def _conversation_key(self, workspace_id: str, conversation_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "slack", "conv", conversation_id)

    def _user_key(self, workspace_id: str, user_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "slack", "user", user_id, "convs")

    def _dm_key(self, workspace_id: str, user_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "slack", "dm", user_id)

    def _start_key(self, workspace_id: str, start_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "slack", "start", start_id)

    async def claim_start(self, workspace_id: str, start_id: str) -> str | None:
        """Take the `/hire` `start_id` on: None when this call took it, else what an earlier run left: "" while its
        root message was on its way (or its process died then), the conversation id once it was recorded."""
        if await self._redis.set(self._start_key(workspace_id, start_id), "", nx=True, ex=self._ttl):
            return None
        return str(await self._redis.get(self._start_key(workspace_id, start_id)) or "")

    async def add(self, workspace_id: str, conversation: SlackConversation, *, start_id: str) -> bool:
        """Record a conversation the `/hire` `start_id` began; False (nothing written) if it is already recorded."""
        fields = [item for pair in vars(conversation).items() for item in pair]
        keys = [self._conversation_key(workspace_id, conversation.conversation_id),
                self._user_key(workspace_id, conversation.requester), self._start_key(workspace_id, start_id)]
        created = await self._redis.eval(_ADD_ONCE, len(keys), *keys, self._ttl, time.time(),
                                         conversation.conversation_id, *fields)
        return bool(created)

    async def restore(self, workspace_id: str, conversation: SlackConversation) -> None:
        """Remember a conversation whose record lapsed (a published job's thread, weeks later) as it is now."""
        record = self._conversation_key(workspace_id, conversation.conversation_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(record, mapping={name: str(value) for name, value in vars(conversation).items()})
            pipe.expire(record, self._ttl)
            await pipe.execute()

    async def get(self, workspace_id: str, conversation_id: str) -> SlackConversation | None:
        stored = await self._redis.hgetall(self._conversation_key(workspace_id, conversation_id))
        return SlackConversation(**{str(k): str(v) for k, v in stored.items()}) if stored else None

    async def update(self, workspace_id: str, conversation_id: str, **fields: str) -> None:
        # Copied into a fresh dict: redis-py wants a Mapping[FieldT, EncodableT], and a dict[str, str] is not one
        # (a Mapping's key type is invariant).
        record = self._conversation_key(workspace_id, conversation_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(record, mapping={name: value for name, value in fields.items()})
            pipe.expire(record, self._ttl)  # touched: its full lifetime again (and never a record without a TTL)
            await pipe.execute()

    async def recent(self, workspace_id: str, user_id: str) -> list[SlackConversation]:
        ids = await self._redis.zrevrange(self._user_key(workspace_id, user_id), 0, RECENT_PER_USER - 1)
        found = [await self.get(workspace_id, str(conversation_id)) for conversation_id in ids]
        return [c for c in found if c is not None]

    async def route_dm(self, workspace_id: str, user_id: str, conversation_id: str) -> None:
        """The requester's next top-level DM line belongs to this conversation (an email, or a DM conversation)."""
        await self._redis.set(self._dm_key(workspace_id, user_id), conversation_id, ex=self._ttl)

    async def dm_route(self, workspace_id: str, user_id: str) -> str | None:
        route = await self._redis.get(self._dm_key(workspace_id, user_id))
        return str(route) if route is not None else None
