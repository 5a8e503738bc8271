"""Fixtures shared by the whole suite: a real Redis, a per-test namespace, the OpenTrain sandbox over HTTP."""

from __future__ import annotations

import io
import logging
import uuid

import httpx
import pytest

from bot.infra.logs import configure_logging
from bot.infra.storage import connect, drop_namespace
from tests.support.clock import HandClock
from tests.support.redis_server import test_redis_url


@pytest.fixture(scope="session")
def redis_url() -> str:
    return test_redis_url()


@pytest.fixture
def namespace() -> str:
    """A key namespace of this test's own, so tests never see each other's data."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis(redis_url, namespace):
    client = connect(redis_url)
    yield client
    await drop_namespace(client, namespace)  # per node and per key: it works on a Redis Cluster too
    await client.aclose()


@pytest.fixture(scope="session")
def sandbox_server():
    """One sandbox per test session, on its own thread and port, reached over real HTTP."""
    from bot.sandbox.server import SandboxThread

    with SandboxThread() as server:
        yield server


@pytest.fixture
def sandbox_url(sandbox_server) -> str:
    """The sandbox's base URL, with its world reset before each test."""
    httpx.post(f"{sandbox_server.url}/_sandbox/reset", timeout=5).raise_for_status()
    return sandbox_server.url


@pytest.fixture
def clock() -> HandClock:
    """Time that moves only when the test says so."""
    return HandClock()


@pytest.fixture
def app_log():
    """The root logger writing into a buffer exactly as `hirebot serve` sets it up (LOG_LEVEL=INFO)."""
    root, quieted = logging.getLogger(), logging.getLogger("httpx")
    saved_handlers, saved_level, saved_quiet = root.handlers[:], root.level, quieted.level
    buffer = io.StringIO()
    configure_logging("INFO", stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        quieted.setLevel(saved_quiet)
