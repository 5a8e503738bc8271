"""Redis connection and key naming shared by every module."""

from __future__ import annotations

from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from bot.infra.embedded_redis import redis_url_for

if TYPE_CHECKING:
    from bot.infra.settings import Settings


Redis = aioredis.Redis  # the handle every module takes (decoded strings)


def key(namespace: str, *parts: str) -> str:
    """`key("hirebot", "ws", "T1", "conv", "C1:1700.1")` -> "hirebot:ws:T1:conv:C1:1700.1"."""
    return ":".join((namespace, *parts))


def connect(url: str) -> Redis:
    # Short socket timeouts turn a lost Redis into a prompt RedisError instead of a hang.
    # A blocking pool: under a burst (hundreds of conversations at once) callers wait briefly for a free
    # connection instead of failing with "Too many connections" (redis-py's default pool stops at 100).
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        decode_responses=True,
        socket_timeout=5,
        socket_connect_timeout=5,
        health_check_interval=30,
        max_connections=100,
        timeout=5,
    )
    return aioredis.Redis.from_pool(pool)


def connect_from_settings(settings: Settings) -> Redis:
    return connect(redis_url_for(settings))


async def drop_namespace(redis: aioredis.Redis, namespace: str) -> None:
    """Delete every key of a namespace (a throwaway run's data)."""
    keys = [k async for k in redis.scan_iter(match=f"{namespace}:*", count=500)]
    if keys:
        await redis.delete(*keys)
