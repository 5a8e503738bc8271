"""Slack-side bookkeeping in Redis: where each conversation lives in Slack and which messages to update.

The engine owns the hiring state; this only remembers Slack coordinates (requester, channel, thread, the message
showing the open question, the DM), so any process can route the next event and update the right message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.storage import key

RECENT_PER_USER = 20


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


class SlackRegistry:
    def __init__(self, redis, namespace: str, ttl_seconds: int):
        self._redis = redis
        self._namespace = namespace
        self._ttl = ttl_seconds

    def _conversation_key(self, workspace_id: str, conversation_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "slack", "conv", conversation_id)

    def _user_key(self, workspace_id: str, user_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "slack", "user", user_id, "convs")

    def _dm_key(self, workspace_id: str, user_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "slack", "dm", user_id)

    async def add(self, workspace_id: str, conversation: SlackConversation) -> None:
        record = self._conversation_key(workspace_id, conversation.conversation_id)
        recent = self._user_key(workspace_id, conversation.requester)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(record, mapping={k: v for k, v in vars(conversation).items()})
            pipe.expire(record, self._ttl)
            pipe.zadd(recent, {conversation.conversation_id: time.time()})
            pipe.zremrangebyrank(recent, 0, -RECENT_PER_USER - 1)
            pipe.expire(recent, self._ttl)
            await pipe.execute()

    async def get(self, workspace_id: str, conversation_id: str) -> SlackConversation | None:
        stored = await self._redis.hgetall(self._conversation_key(workspace_id, conversation_id))
        return SlackConversation(**stored) if stored else None

    async def update(self, workspace_id: str, conversation_id: str, **fields: str) -> None:
        await self._redis.hset(self._conversation_key(workspace_id, conversation_id), mapping=fields)

    async def recent(self, workspace_id: str, user_id: str) -> list[SlackConversation]:
        ids = await self._redis.zrevrange(self._user_key(workspace_id, user_id), 0, RECENT_PER_USER - 1)
        found = [await self.get(workspace_id, conversation_id) for conversation_id in ids]
        return [c for c in found if c is not None]

    async def route_dm(self, workspace_id: str, user_id: str, conversation_id: str) -> None:
        """The requester's next top-level DM line belongs to this conversation (an email, or a DM conversation)."""
        await self._redis.set(self._dm_key(workspace_id, user_id), conversation_id, ex=self._ttl)

    async def dm_route(self, workspace_id: str, user_id: str) -> str | None:
        return await self._redis.get(self._dm_key(workspace_id, user_id))
