"""The Redis every test talks to: REDIS_URL when set, else the embedded real server. Never a mock."""

from __future__ import annotations

import os
from pathlib import Path

from bot.infra.embedded_redis import ensure_embedded_redis

TEST_DATA_DIR = Path(__file__).resolve().parents[2] / ".hirebot" / "test"


def test_redis_url() -> str:
    return os.environ.get("REDIS_URL") or ensure_embedded_redis(TEST_DATA_DIR)
