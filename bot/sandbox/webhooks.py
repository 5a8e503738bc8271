"""Webhook deliveries: signed POSTs of event records, bounded retries, auto-disable after repeated failures."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

DISABLE_AFTER_FAILURES = 10
DISABLED_REASON = "Disabled after repeated delivery failures"


def sign(secret: str, timestamp: int, raw_body: bytes) -> str:
    """The `X-OpenTrain-Signature` value: `t=<unix seconds>,v1=hex(HMAC_SHA256(secret, "<t>.<raw body>"))`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(repr=False)
class Subscription:
    id: str
    account_id: str
    url: str
    event_types: list[str]
    secret: str
    created_at: str
    status: str = "ACTIVE"
    disabled_at: str | None = None
    disabled_reason: str | None = None
    consecutive_failures: int = 0
    deleted: bool = False

    def __repr__(self) -> str:  # the secret stays out
        return f"Subscription(id={self.id!r}, url={self.url!r}, status={self.status!r})"

    @property
    def receiving(self) -> bool:
        return self.status == "ACTIVE" and not self.deleted

    def wire(self) -> dict:
        return {"id": self.id, "url": self.url, "eventTypes": list(self.event_types), "status": self.status,
                "createdAt": self.created_at, "disabledAt": self.disabled_at, "disabledReason": self.disabled_reason}


class WebhookDispatcher:
    """Owns the subscriptions and runs each delivery as a task on the server's event loop."""

    def __init__(self, now_iso: Callable[[], str], config_value: Callable[[str], Any]) -> None:
        self._now_iso = now_iso
        self._config = config_value
        self._tasks: set[asyncio.Task] = set()
        self._session: aiohttp.ClientSession | None = None
        self.subscriptions: dict[str, Subscription] = {}
        self.deliveries: list[dict] = []

    def reset(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self.subscriptions = {}
        self.deliveries = []

    async def aclose(self) -> None:
        self.reset()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def dispatch(self, account_id: str, event: dict) -> None:
        """Deliver `event` to every receiving subscription of the account that asked for its type."""
        for subscription in self.subscriptions.values():
            if subscription.account_id == account_id and subscription.receiving \
                    and event["type"] in subscription.event_types:
                task = asyncio.get_running_loop().create_task(self._deliver(subscription, event))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def forget(self, subscription: Subscription) -> None:
        """Deletion: deliveries stop at once and the delivery history goes with it."""
        subscription.deleted = True
        self.subscriptions.pop(subscription.id, None)
        self.deliveries = [d for d in self.deliveries if d["webhookId"] != subscription.id]

    async def _deliver(self, subscription: Subscription, event: dict) -> None:
        delivery_id = f"whd_{secrets.token_hex(8)}"  # reused by every retry of this delivery
        raw_body = json.dumps(event, separators=(",", ":")).encode()
        delays = [0, *self._config("webhookRetryDelaysSeconds")]
        for attempt, delay in enumerate(delays, start=1):
            if delay:
                await asyncio.sleep(delay)
            if not subscription.receiving:
                return
            status, error = await self._post(subscription, event["type"], delivery_id, raw_body)
            succeeded = status is not None and 200 <= status < 300
            self.deliveries.append({
                "deliveryId": delivery_id, "webhookId": subscription.id, "eventId": event["id"],
                "eventType": event["type"], "attempt": attempt, "url": subscription.url, "status": status,
                "ok": succeeded, "error": error, "at": self._now_iso(),
            })
            if succeeded:
                subscription.consecutive_failures = 0
                return
            self._count_failure(subscription)

    def _count_failure(self, subscription: Subscription) -> None:
        subscription.consecutive_failures += 1
        if subscription.consecutive_failures >= DISABLE_AFTER_FAILURES and subscription.status == "ACTIVE":
            subscription.status = "DISABLED"
            subscription.disabled_at = self._now_iso()
            subscription.disabled_reason = DISABLED_REASON
            log.info("webhook %s disabled after %d consecutive failures", subscription.id, DISABLE_AFTER_FAILURES)

    async def _post(self, subscription: Subscription, event_type: str, delivery_id: str,
                    raw_body: bytes) -> tuple[int | None, str | None]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "OpenTrain-Webhooks/1.0",
            "X-OpenTrain-Event": event_type,
            "X-OpenTrain-Delivery": delivery_id,
            # Real time, not the simulated clock: receivers check it against their own clock.
            "X-OpenTrain-Signature": sign(subscription.secret, int(time.time()), raw_body),
        }
        timeout = aiohttp.ClientTimeout(total=float(self._config("webhookTimeoutSeconds")))
        try:
            async with self._client().post(subscription.url, data=raw_body, headers=headers, timeout=timeout,
                                           allow_redirects=False) as response:
                return response.status, None
        except TimeoutError:
            return None, "timeout"
        except aiohttp.ClientError as exc:
            return None, type(exc).__name__

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session
