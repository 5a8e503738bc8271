"""Per-person limits, kept in Redis, so one person can neither flood a workspace nor use up what it shares.

OpenTrain limits the whole account (a daily publish count, drafts); without limits of our own one person sending
`/hire` thirty times a second makes thirty drafts and thirty root messages, and can spend the workspace's publishes
so a colleague's real job is refused. Each limit is a sorted set per person of what counted (message ids, job ids)
scored by time: counting the same thing twice is impossible, and old entries fall out of the window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.hiring.record import ConversationRef
from bot.hiring.states import ACTIVE
from bot.hiring.store import ConversationStore
from bot.infra.storage import Redis, key

HOUR, DAY = 3600.0, 86400.0


@dataclass(frozen=True)
class LimitSettings:
    starts_per_hour: int = 10
    open_drafts_per_user: int = 5
    publishes_per_user_per_day: int = 10


class Limits:
    def __init__(self, redis: Redis, namespace: str, store: ConversationStore, settings: LimitSettings, *,
                 idle_seconds: float, clock: Callable[[], float] = time.time):
        self._redis = redis
        self._namespace = namespace
        self._store = store
        self._settings = settings
        self._idle = idle_seconds
        self._clock = clock

    def _key(self, workspace_id: str, user_id: str, what: str) -> str:
        return key(self._namespace, "ws", workspace_id, "limit", what, user_id)

    async def start_refusal(self, workspace_id: str, user_id: str, message_id: str) -> str | None:
        """Why `user_id` may not start another conversation now, or None."""
        starts = await self._recent(self._key(workspace_id, user_id, "starts"), HOUR, exclude=message_id)
        if starts >= self._settings.starts_per_hour:
            return (f"You've started {starts} hiring conversations in the last hour, the most I take from one person. "
                    "Please finish or cancel one, or try again later.")
        open_drafts = await self._open_drafts(workspace_id, user_id)
        if open_drafts >= self._settings.open_drafts_per_user:
            return (f"You have {open_drafts} hiring conversations still open. Publish or `cancel` one of them before "
                    "starting another (`/hire status` lists them).")
        return None

    async def started(self, workspace_id: str, user_id: str, message_id: str, conversation_id: str) -> None:
        now = self._clock()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._key(workspace_id, user_id, "starts"), {message_id: now})
            pipe.expire(self._key(workspace_id, user_id, "starts"), int(HOUR) + 60)
            pipe.zadd(self._key(workspace_id, user_id, "open"), {conversation_id: now})
            pipe.expire(self._key(workspace_id, user_id, "open"), int(30 * DAY))
            await pipe.execute()

    async def publish_refusal(self, workspace_id: str, user_id: str, job_id: str) -> str | None:
        published = await self._recent(self._key(workspace_id, user_id, "publishes"), DAY, exclude=job_id)
        if published >= self._settings.publishes_per_user_per_day:
            return (f"You've published {published} jobs today, the most I publish for one person in a day, so the "
                    "workspace keeps room for everyone's jobs. The draft is kept: type `publish` tomorrow.")
        return None

    async def published(self, workspace_id: str, user_id: str, job_id: str) -> None:
        publishes = self._key(workspace_id, user_id, "publishes")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(publishes, {job_id: self._clock()})
            pipe.expire(publishes, int(DAY) + 60)
            await pipe.execute()

    async def _recent(self, log: str, window: float, *, exclude: str) -> int:
        """How many entries of `log` fall in the last `window` seconds, other than `exclude` (a retry of itself)."""
        now = self._clock()
        await self._redis.zremrangebyscore(log, "-inf", now - window)
        members = await self._redis.zrangebyscore(log, now - window, "+inf")
        return sum(1 for member in members if str(member) != exclude)

    async def _open_drafts(self, workspace_id: str, user_id: str) -> int:
        """Drafts of this person still being worked on (not published, ended or idle past expiry); the others leave
        the list as they are seen."""
        tracked = self._key(workspace_id, user_id, "open")
        still_open = 0
        for conversation_id in await self._redis.zrange(tracked, 0, -1):
            conversation = await self._store.load(ConversationRef(workspace_id, str(conversation_id)))
            if (conversation is not None and conversation.state in ACTIVE
                    and self._clock() - conversation.updated_at <= self._idle):
                still_open += 1
            else:
                await self._redis.zrem(tracked, str(conversation_id))
        return still_open
