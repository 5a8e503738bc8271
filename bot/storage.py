"""Redis connection and key naming shared by every module."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.embedded_redis import redis_url_for


def key(namespace: str, *parts: str) -> str:
    """`key("hirebot", "ws", "T1", "conv", "C1:1700.1")` -> "hirebot:ws:T1:conv:C1:1700.1"."""
    return ":".join((namespace, *parts))


def connect(url: str) -> aioredis.Redis:
    # Short socket timeouts turn a lost Redis into a prompt RedisError instead of a hang.
    return aioredis.from_url(
        url,
        decode_responses=True,
        socket_timeout=5,
        socket_connect_timeout=5,
        health_check_interval=30,
    )


def connect_from_settings(settings) -> aioredis.Redis:
    return connect(redis_url_for(settings))
