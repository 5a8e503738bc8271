"""The embedded default: a real redis-server daemon, started once, reused while it answers, data kept on restart;
behind a password, with CONFIG disabled and its files private."""

from __future__ import annotations

import contextlib
import logging
import stat
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.infra.embedded_redis import ensure_embedded_redis, redis_url_for, stop_embedded_redis
from bot.infra.logs import redact
from bot.infra.settings import load_settings


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


def test_the_embedded_server_wants_its_password_refuses_config_and_keeps_its_files_private(tmp_path):
    url = ensure_embedded_redis(tmp_path)
    try:
        folder = tmp_path / "redis"
        password = (folder / "password").read_text().strip()
        assert url.startswith(f"redis://:{password}@127.0.0.1:") and len(password) >= 32
        client = redis.Redis.from_url(url)
        client.set("hirebot:probe", "x")
        port = client.connection_pool.connection_kwargs["port"]
        with pytest.raises(redis.AuthenticationError):
            _bare(port).ping()  # no password, no service
        with pytest.raises(redis.ResponseError, match="unknown command"):
            client.config_get("dir")  # CONFIG is disabled even with the password
        assert client.info("server")["tcp_port"] == port
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        client.bgrewriteaof()
        time.sleep(0.5)
        files = {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir() if path.is_file()}
        assert {"password", "redis.conf", "redis.log", "redis.pid"} <= files.keys()
        assert any(name.startswith("appendonly") for name in files), files
        assert all(mode == 0o600 for mode in files.values()), files
        assert password not in " ".join(_command_line(int((folder / "redis.pid").read_text())))  # not in `ps`
        assert password not in redact(f"connecting to {url}")
    finally:
        stop_embedded_redis(tmp_path)


def test_an_unhardened_server_left_by_an_older_version_is_restarted_with_a_password(tmp_path):
    from bot.infra.embedded_redis import _executable, _free_port

    folder = tmp_path / "redis"
    folder.mkdir()
    port = _free_port()
    subprocess.run([_executable(), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder),
                    "--appendonly", "yes", "--daemonize", "yes", "--save", ""], check=True, capture_output=True)
    for _ in range(100):
        try:
            _bare(port).set("hirebot:old", "kept")
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    (folder / "port").write_text(str(port))
    try:
        url = ensure_embedded_redis(tmp_path)
        assert redis.Redis.from_url(url).get("hirebot:old") == b"kept"  # same data, now behind a password
        with pytest.raises(redis.ConnectionError):
            _bare(port).ping()  # the old server is gone
    finally:
        stop_embedded_redis(tmp_path)
        with contextlib.suppress(redis.RedisError):
            _bare(port).shutdown(nosave=True)


def test_embedded_redis_with_production_settings_warns(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="bot.infra.embedded_redis"):
        url = redis_url_for(load_settings(redis_url="", data_dir=tmp_path, slack_bot_token="xoxb-1-2",
                                          public_url="https://bot.example"))
    try:
        assert len(caplog.records) == 1
        message = caplog.records[0].getMessage()
        assert "SLACK_BOT_TOKEN" in message and "PUBLIC_URL" in message and "REDIS_URL" in message
        assert "xoxb" not in message and url.split("@")[0] not in caplog.text
    finally:
        stop_embedded_redis(tmp_path)


def _bare(port: int) -> redis.Redis:
    """A client without password that asks once (redis-py's default retries would wait seconds on a refusal)."""
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5, retry=Retry(NoBackoff(), 0))


def _command_line(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_text().split("\0")
