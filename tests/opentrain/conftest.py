"""Fixtures for the client's contract tests: a client on the sandbox whose retry waits are recorded, not slept."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from bot.opentrain import OpenTrainClient, RetryPolicy


class Sandbox:
    """The sandbox's control API (`/_sandbox/...`), playing the human and the marketplace."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, method: str, path: str, body: dict | None = None) -> dict:
        response = await self.http.request(method, f"/_sandbox/{path}", json=body)
        assert response.is_success, response.text
        return response.json()

    async def token(self, **body) -> str:
        return (await self.call("POST", "tokens", body))["token"]

    async def fault(self, path: str, **fault) -> None:
        await self.call("POST", "faults", {"path": f"/api/public/v1/{path}", **fault})

    async def requests(self, path: str) -> list[dict]:
        logged = (await self.call("GET", "requests"))["requests"]
        return [r for r in logged if r["path"] == path]

    async def advance(self, seconds: float) -> None:
        await self.call("POST", "clock", {"advanceSeconds": seconds})

    async def advance_to_noon(self) -> None:
        """Mid-day UTC, so the daily publish limit's wait (to midnight) is always hours long."""
        now = datetime.fromisoformat((await self.call("GET", "clock"))["now"].replace("Z", "+00:00"))
        seconds_into_day = now.hour * 3600 + now.minute * 60 + now.second
        await self.advance((12 * 3600 - seconds_into_day) % 86400)


@pytest.fixture
async def sandbox(sandbox_url):
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as http:
        yield Sandbox(http)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def policy(sleeps) -> RetryPolicy:
    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    return RetryPolicy(max_attempts=3, sleep=record)


@pytest.fixture
async def client(sandbox_url, policy):
    async with OpenTrainClient(sandbox_url, policy=policy) as tokenless:
        yield tokenless
