"""Redis connection and key naming shared by every module.

Every key carries a hash tag (`{...}`): its first two parts after the namespace (`ws:<team>`, `sched:<kind>:<shard>`,
...). Redis Cluster puts keys with the same tag in the same slot, so every multi-key command, transaction and Lua
script works on keys of one tag; on a plain Redis the braces are just characters.
"""

from __future__ import annotations

import os
import zlib
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException

from bot.infra.embedded_redis import redis_url_for

if TYPE_CHECKING:
    from bot.infra.settings import Settings


# The handle every module takes (decoded strings): a plain client, or with REDIS_CLUSTER a cluster client that offers
# the same commands (typed as the plain one: every call site uses only what both have).
Redis = aioredis.Redis


def key(namespace: str, *parts: str) -> str:
    """`key("hirebot", "ws", "T1", "conv", "C1:1700.1")` -> "hirebot:{ws:T1}:conv:C1:1700.1": the first two parts
    are the hash tag, so the keys of one workspace (or one shard) share a Redis Cluster slot."""
    tag, rest = parts[:2], parts[2:]
    return ":".join((namespace, "{" + ":".join(tag) + "}", *rest))


def shard_of(value: str, shards: int) -> int:
    """A stable shard number in [0, shards) for `value` (the same in every process and after restarts)."""
    return zlib.crc32(value.encode()) % shards


def cluster_from_env() -> bool:
    """REDIS_CLUSTER as Settings reads it, for callers without Settings (tests, benchmarks)."""
    return os.environ.get("REDIS_CLUSTER", "").strip().lower() in ("1", "true", "yes", "on")


def connect(url: str, *, cluster: bool | None = None) -> Redis:
    if cluster if cluster is not None else cluster_from_env():
        return connect_cluster(url)
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


class _Cluster(RedisCluster):
    """A cluster no node of which answers is a lost Redis like any other: a ConnectionError (a RedisError), which
    every caller already handles, not redis-py's bare RedisClusterException."""

    async def initialize(self, *args: Any, **kwargs: Any) -> RedisCluster:
        try:
            return await super().initialize(*args, **kwargs)
        except RedisClusterException as exc:
            raise RedisConnectionError(str(exc)) from exc


def connect_cluster(url: str) -> Redis:
    """A Redis Cluster client from any node's URL; it learns the other nodes and the slot map from that one."""
    client = _Cluster.from_url(
        url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30,
        max_connections=100)
    return client  # type: ignore[return-value]  # same commands as the plain client (see `Redis`)


def connect_from_settings(settings: Settings) -> Redis:
    return connect(redis_url_for(settings), cluster=settings.redis_cluster)


async def scan_keys(redis: aioredis.Redis, match: str, count: int = 500) -> list[str]:
    """Every key matching `match` (the cluster client's SCAN visits every primary: one node holds only its slots)."""
    return [str(k) async for k in redis.scan_iter(match=match, count=count)]


async def delete_keys(redis: aioredis.Redis, keys: list[str]) -> None:
    """DEL a key at a time in one pipeline: a single DEL of many keys is refused across Cluster slots."""
    async with redis.pipeline(transaction=False) as pipe:
        for name in keys:
            pipe.delete(name)
        await pipe.execute()


async def drop_namespace(redis: aioredis.Redis, namespace: str) -> None:
    """Delete every key of a namespace (a throwaway run's data)."""
    await delete_keys(redis, await scan_keys(redis, f"{namespace}:*"))
