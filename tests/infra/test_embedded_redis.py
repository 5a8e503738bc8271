"""The embedded default: a real redis-server daemon, started once, reused while it answers, data kept on restart."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import redis

from bot.infra.embedded_redis import ensure_embedded_redis, stop_embedded_redis


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


def test_processes_starting_at_once_share_one_server(tmp_path):
    # Each call opens the lock file itself, so threads contend for the flock exactly as web and worker processes do.
    starters = 4
    barrier = threading.Barrier(starters)

    def start() -> str:
        barrier.wait()
        return ensure_embedded_redis(tmp_path)

    urls: list[str] = []
    try:
        with ThreadPoolExecutor(starters) as pool:
            urls = list(pool.map(lambda _: start(), range(starters)))
        assert len(set(urls)) == 1, urls
        server_pid = redis.Redis.from_url(urls[0]).info("server")["process_id"]
        assert int((tmp_path / "redis" / "redis.pid").read_text()) == server_pid  # no second server took the pidfile
    finally:
        for url in set(urls):  # without the lock, each starter may have launched a server of its own
            redis.Redis.from_url(url).shutdown(nosave=True)
