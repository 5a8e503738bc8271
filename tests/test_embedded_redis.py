"""The embedded default: a real redis-server daemon, reused while it answers, data kept across restarts."""

from __future__ import annotations

import time

import redis

from bot.embedded_redis import ensure_embedded_redis, stop_embedded_redis


def test_embedded_redis_is_reused_and_keeps_data_across_restarts(tmp_path):
    url = ensure_embedded_redis(tmp_path)
    try:
        assert ensure_embedded_redis(tmp_path) == url  # a second process reuses the running server
        client = redis.Redis.from_url(url)
        client.set("hirebot:probe", "kept")
        client.close()
        stop_embedded_redis(tmp_path)
        for _ in range(100):  # wait for the daemon to exit before starting it again
            try:
                redis.Redis.from_url(url, socket_timeout=0.2).ping()
                time.sleep(0.05)
            except redis.ConnectionError:
                break
        restarted = ensure_embedded_redis(tmp_path)
        assert redis.Redis.from_url(restarted).get("hirebot:probe") == b"kept"
    finally:
        stop_embedded_redis(tmp_path)
