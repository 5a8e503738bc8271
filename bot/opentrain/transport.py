"""Sending one OpenTrain request with bounded retries (contract §4.7, the official CLI's policy).

- Connection failures before the request left (connect error/timeout, pool timeout): retried for every call.
- 502/503/504 and failures after the request was sent (dropped connection, read timeout): retried only for
  idempotent calls (reads, and the writes the contract makes idempotent), since the server may have acted.
- 429: the request was refused, so any call may wait and retry, for `Retry-After` / `details.retryAfterSeconds`;
  a wait above `max_rate_limit_wait` (e.g. the daily publish limit) raises RateLimited at once.
Waits are exponential backoff with full jitter; `sleep` is injectable so tests need not wait.

Every attempt is counted (`bot.infra.metrics`) by its endpoint's path template (`/api/public/v1/jobs/{id}/publish`),
never its raw path: ids stay out of the labels, and the set of label values stays the fixed list below.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.infra.metrics import OPENTRAIN_REQUESTS, OPENTRAIN_RETRIES, OPENTRAIN_SECONDS
from bot.opentrain.errors import OpenTrainError, RateLimited, TransportError, error_from_response

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({502, 503, 504})
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# Every path the client calls, `{id}` standing for one segment; literal paths before the templates they look like.
ENDPOINTS = tuple(path.split("/")[1:] for path in (
    "/api/agent/identity", "/api/agent/identity/claim", "/api/agent/oauth/token", "/api/agent/oauth/revoke",
    "/api/public/v1/auth/me", "/api/public/v1/job-drafts/capabilities", "/api/public/v1/job-drafts",
    "/api/public/v1/job-drafts/{id}", "/api/public/v1/jobs/mine", "/api/public/v1/jobs/{id}/publish",
    "/api/public/v1/jobs/{id}/close", "/api/public/v1/jobs/{id}/proposals", "/api/public/v1/proposals/{id}",
    "/api/public/v1/proposals/{id}/conversation", "/api/public/v1/proposals/{id}/hire", "/api/public/v1/updates",
    "/api/public/v1/webhooks", "/api/public/v1/webhooks/{id}", "/api/public/v1/jobs/{id}",
    "/api/public/v1/freelancers/{id}", "/api/public/v1/jobs/{id}/invites", "/api/public/v1/approvals/{id}",
    "/api/public/v1/contracts", "/api/public/v1/contracts/{id}", "/api/public/v1/contracts/{id}/milestones",
    "/api/public/v1/contracts/{id}/end", "/api/public/v1/milestones/{id}/fund",
    "/api/public/v1/milestones/{id}/approve", "/api/public/v1/messages", "/api/public/v1/credits",
))
OTHER_ENDPOINT = "other"


def endpoint_template(url: str) -> str:
    """The metric label of a request URL: its path template, matched at the end of the path (OPENTRAIN_BASE_URL may
    carry a prefix), or "other"."""
    segments = httpx.URL(url).path.rstrip("/").split("/")
    for template in ENDPOINTS:
        tail = segments[-len(template):]
        if len(tail) == len(template) and all(t in (s, "{id}") for t, s in zip(template, tail, strict=True)):
            return "/" + "/".join(template)
    return OTHER_ENDPOINT


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_rate_limit_wait: float = 30.0
    sleep: Callable[[float], Awaitable[Any]] = field(default=asyncio.sleep, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]."""
        return self.jitter() * min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))


@dataclass(frozen=True)
class Failure:
    """One failed attempt: its error and how long to wait before retrying (None: do not retry)."""

    error: OpenTrainError
    retry_in: float | None = None


class Transport:
    """One shared httpx.AsyncClient plus the retry policy; raises typed errors for every failure."""

    def __init__(self, http: httpx.AsyncClient, policy: RetryPolicy) -> None:
        self.http = http
        self.policy = policy

    async def send(self, method: str, url: str, *, idempotent: bool, headers: dict[str, str],
                   wait_on_rate_limit: bool = True, **content: Any) -> httpx.Response:
        """The 2xx response; otherwise the typed error of the last attempt. `wait_on_rate_limit=False` raises a 429
        at once, for a caller that queues the work and comes back later itself."""
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(method, url, idempotent, headers, attempt, content)
            if not wait_on_rate_limit and isinstance(outcome, Failure) and isinstance(outcome.error, RateLimited):
                raise outcome.error
            if isinstance(outcome, httpx.Response):
                return outcome
            if outcome.retry_in is None or attempt >= self.policy.max_attempts:
                raise outcome.error
            OPENTRAIN_RETRIES.labels(method, endpoint_template(url), _retry_reason(outcome.error)).inc()
            log.warning("OpenTrain %s %s failed (%s); retry %d/%d in %.1fs", method, httpx.URL(url).path,
                        _describe(outcome.error), attempt + 1, self.policy.max_attempts, outcome.retry_in)
            await self.policy.sleep(outcome.retry_in)

    async def _attempt(self, method: str, url: str, idempotent: bool, headers: dict[str, str], attempt: int,
                       content: dict[str, Any]) -> httpx.Response | Failure:
        """One attempt: the 2xx response, or how it failed."""
        endpoint, started = endpoint_template(url), time.perf_counter()
        try:
            response = await self.http.request(method, url, headers=headers, **content)
        except httpx.HTTPError as exc:
            OPENTRAIN_REQUESTS.labels(method, endpoint, "error").inc()
            return self._unanswered(exc, method, url, idempotent, attempt)
        finally:
            OPENTRAIN_SECONDS.labels(method, endpoint).observe(time.perf_counter() - started)
        OPENTRAIN_REQUESTS.labels(method, endpoint, str(response.status_code)).inc()
        if response.is_success:
            return response
        error = error_from_response(response.status_code, _json_or_none(response), dict(response.headers))
        return Failure(error, retry_in=self._retry_wait(error, response.status_code, idempotent, attempt))

    def _unanswered(self, exc: httpx.HTTPError, method: str, url: str, idempotent: bool, attempt: int) -> Failure:
        if isinstance(exc, NOT_SENT):
            return Failure(_transport_error(exc, method, url), retry_in=self.policy.backoff(attempt))
        retry_in = self.policy.backoff(attempt) if idempotent else None
        return Failure(_transport_error(exc, method, url), retry_in=retry_in)

    def _retry_wait(self, error: OpenTrainError, status: int, idempotent: bool, attempt: int) -> float | None:
        if isinstance(error, RateLimited):
            wait = error.retry_after if error.retry_after is not None else self.policy.backoff(attempt)
            return wait if wait <= self.policy.max_rate_limit_wait else None
        if status in RETRYABLE_STATUSES and idempotent:
            return self.policy.backoff(attempt)
        return None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _transport_error(exc: httpx.HTTPError, method: str, url: str) -> TransportError:
    # The httpx message never carries headers; the path holds ids only, never a token.
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
    return TransportError(f"OpenTrain {method} {httpx.URL(url).path} {kind}: {type(exc).__name__}")


def _retry_reason(error: OpenTrainError) -> str:
    if isinstance(error, RateLimited):
        return "rate_limited"
    return "server_error" if error.status else "transport"


def _describe(error: OpenTrainError) -> str:
    return f"HTTP {error.status}" if error.status else error.message
