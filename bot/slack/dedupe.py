"""Slack retries an event it thinks was not acked; each event id is handled once across every process."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from bot.infra.storage import Redis, key

log = logging.getLogger(__name__)

# Slack retries for a few minutes at most; an hour covers every retry with room to spare.
DEFAULT_TTL_SECONDS = 3600


class EventDeduper:
    def __init__(self, redis: Redis, namespace: str, ttl_seconds: int = DEFAULT_TTL_SECONDS):
        self._redis = redis
        self._namespace = namespace
        self._ttl = ttl_seconds

    async def first_delivery(self, team_id: str, event_id: str) -> bool:
        """True the first time an event id is seen; False for Slack's retries of it."""
        if not event_id:
            return True
        try:
            created = await self._redis.set(
                key(self._namespace, "ws", team_id or "-", "slack-event", event_id), "1", nx=True, ex=self._ttl
            )
        except RedisError as exc:
            # Without Redis the conversation cannot move anyway; let the handler report it rather than drop it.
            log.warning("event dedupe unavailable (%s); handling event %s", type(exc).__name__, event_id)
            return True
        return bool(created)
