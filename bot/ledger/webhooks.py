"""OpenTrain webhooks: the doorbell that makes a ledger read happen now instead of at the next poll.

A delivery carries one event, but the bot never acts on it directly: the `/updates` ledger stays the source of
truth, so a lost, late or repeated delivery changes nothing. The receiver verifies `X-OpenTrain-Signature` over the
raw body (HMAC-SHA256, 300 s tolerance, constant-time compare), drops repeated deliveries and schedules a ledger read
for the workspace named in the subscription URL, answering 2xx at once.

A delivery is a repeat when its `X-OpenTrain-Delivery` id or its signature was seen: the signature too, because
the delivery id is not signed, so a captured body and signature replayed with fresh ids within the tolerance would
otherwise ring (and be remembered) once per id. What was seen is one sorted set per workspace
(`{ns}:{ws:{ws}}:webhook-seen`), each member (a delivery id's hash, or a signature) scored with the time it may be
forgotten: delivery ids after a day (OpenTrain retries for about 2.6 hours), signatures after twice the tolerance
(by then the signature is refused as stale anyway). One Lua script checks and records both at once, drops what may
be forgotten, keeps at most `MAX_REMEMBERED` members (the soonest to be forgotten go first) and gives the key a
day's TTL: the memory is bounded in size and in time, per workspace, whatever arrives, and an idle workspace's key
disappears. A sorted set rather than a key per id: one key to bound, trim and expire, instead of a day's worth of
keys that only a TTL bounds. Forgetting early costs little: a forgotten retry rings once more, and a ring only
schedules a read that is already due.

A delivery is recorded before the doorbell rings, so concurrent copies ring once; if ringing fails (Redis), the
record is taken back and the delivery answered 5xx, so OpenTrain's retry rings.

`WebhookReceiver.receive` is that check, free of any web framework; `mount` puts it on an aiohttp app at
`WEBHOOK_PATH` (the `serve` web server does). `WebhookSubscriptions` keeps one subscription per workspace (secret
encrypted at rest) and replaces it when OpenTrain reports it disabled or gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web
from redis.exceptions import RedisError

from bot.hiring.accounts import Accounts, has_scope
from bot.infra.secretbox import SecretBox, UndecryptableSecret
from bot.infra.storage import Redis, key
from bot.opentrain import errors
from bot.opentrain.client import OpenTrainClient

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/opentrain/webhooks"
EVENT_TYPES = ["proposal.received", "proposal.status_changed", "message.received"]  # the last rings candidate talks
# Rung too when the token may read them (a subscription needs the read scope of every type it names).
MONEY_EVENT_TYPES = ["approval.confirmed", "contract.created", "milestone.status_changed", "payment.pending",
                     "contract.budget_state_changed"]
SIGNATURE_TOLERANCE_SECONDS = 300
# OpenTrain retries a delivery for about 2.6 hours; remembering ids for a day covers every retry.
DELIVERY_MEMORY_SECONDS = 24 * 3600
# A signature is accepted within the tolerance of its timestamp: remembered as long as it could still be accepted.
SIGNATURE_MEMORY_SECONDS = 2 * SIGNATURE_TOLERANCE_SECONDS
# Per workspace: far above a day of OpenTrain deliveries for one organization, and at most about 1 MB of Redis.
MAX_REMEMBERED = 10_000
# How often the subscription's status is checked with OpenTrain (a disabled one is replaced).
STATUS_CHECK_SECONDS = 300.0
REFUSED_PAUSE_SECONDS = 3600.0

Doorbell = Callable[[str], Awaitable[None]]


def signature_parts(header: str | None) -> tuple[str, str]:
    """(t, v1) of `t=<unix seconds>,v1=<hex>`; empty strings for what is missing."""
    if not header:
        return "", ""
    parts = dict(part.strip().split("=", 1) for part in header.split(",") if "=" in part)
    return parts.get("t", "").strip(), parts.get("v1", "").strip()


def verify_signature(secret: str, raw_body: bytes, header: str | None, *,
                     tolerance_seconds: int = SIGNATURE_TOLERANCE_SECONDS, now: float | None = None) -> bool:
    """`t=<unix seconds>,v1=<hex HMAC_SHA256(secret, "<t>.<raw body>")>`, within the tolerance of `now`."""
    timestamp, signature = signature_parts(header)
    if not (timestamp.isascii() and timestamp.isdigit()) or not signature:
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_seconds:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))  # non-ASCII: no match


@dataclass(frozen=True, repr=False)
class StoredSubscription:
    webhook_id: str
    url: str
    secret: str
    checked_at: float

    def __repr__(self) -> str:  # the signing secret stays out of logs
        return f"StoredSubscription(webhook_id={self.webhook_id!r}, url={self.url!r})"


class WebhookStore:
    """`{ns}:{ws:{ws}}:webhook` = {id, url, secret (encrypted), checked_at}.

    No TTL: it lives as long as the subscription at OpenTrain does (replaced when OpenTrain reports it gone); an
    expiry would leave a live subscription whose deliveries we can no longer verify. `:paused` and the
    `webhook-delivery` ids expire (REFUSED_PAUSE_SECONDS, DELIVERY_MEMORY_SECONDS)."""

    def __init__(self, redis: Redis, namespace: str, box: SecretBox):
        self._redis = redis
        self._namespace = namespace
        self._box = box

    def _key(self, workspace_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "webhook")

    async def load(self, workspace_id: str) -> StoredSubscription | None:
        stored = await self._redis.hgetall(self._key(workspace_id))
        if not stored.get("secret"):
            return None
        return StoredSubscription(str(stored["id"]), str(stored["url"]), self._box.decrypt(str(stored["secret"])),
                                  float(stored.get("checked_at") or 0))

    async def save(self, workspace_id: str, webhook_id: str, url: str, secret: str, checked_at: float) -> None:
        await self._redis.hset(self._key(workspace_id), mapping={
            "id": webhook_id, "url": url, "secret": self._box.encrypt(secret), "checked_at": repr(checked_at)})

    async def mark_checked(self, workspace_id: str, checked_at: float) -> None:
        await self._redis.hset(self._key(workspace_id), "checked_at", repr(checked_at))

    async def pause(self, workspace_id: str, seconds: float) -> None:
        """OpenTrain refused a subscription: don't ask again for a while (the ledger is polled meanwhile)."""
        await self._redis.set(self._key(workspace_id) + ":paused", "1", ex=max(1, int(seconds)))

    async def paused(self, workspace_id: str) -> bool:
        return bool(await self._redis.exists(self._key(workspace_id) + ":paused"))

    def seen_key(self, workspace_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "webhook-seen")

    async def first_sight(self, workspace_id: str, marks: dict[str, float], now: float) -> bool:
        """Records `marks` (member -> when it may be forgotten) unless one of them is remembered; True if recorded."""
        args: list[str | float] = [now, MAX_REMEMBERED, DELIVERY_MEMORY_SECONDS]
        for member, forget_at in marks.items():
            args += [member, forget_at]
        return bool(await self._redis.eval(_FIRST_SIGHT, 1, self.seen_key(workspace_id), *args))

    async def forget(self, workspace_id: str, marks: dict[str, float]) -> None:
        await self._redis.zrem(self.seen_key(workspace_id), *marks)


# KEYS[1]: a workspace's sorted set of what was seen, scored with when each may be forgotten.
# ARGV: now, the most members to keep, the key's TTL in seconds, then (member, forget at) pairs.
_FIRST_SIGHT = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 4, #ARGV, 2 do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then return 0 end
end
for i = 4, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
end
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[2])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""


def seen_marks(signature_header: str | None, delivery_id: str, now: float) -> dict[str, float]:
    """What a verified delivery is remembered by: its signature, and its delivery id (hashed: any length, one size)."""
    marks = {"sig:" + signature_parts(signature_header)[1]: now + SIGNATURE_MEMORY_SECONDS}
    if delivery_id:
        marks["id:" + hashlib.sha256(delivery_id.encode()).hexdigest()[:32]] = now + DELIVERY_MEMORY_SECONDS
    return marks


def subscription_url(public_url: str, workspace_id: str) -> str:
    # The workspace travels in the URL: a delivery names no account, and each workspace has its own secret.
    return f"{public_url.rstrip('/')}{WEBHOOK_PATH}?workspace={quote(workspace_id, safe='')}"


@dataclass(frozen=True)
class WebhookAnswer:
    """The HTTP answer to a delivery: its status code and JSON body."""

    status: int
    body: dict[str, Any]


class WebhookReceiver:
    def __init__(self, store: WebhookStore, doorbell: Doorbell, *, clock: Callable[[], float] = time.time):
        self._store = store
        self._doorbell = doorbell
        self._clock = clock

    def mount(self, app: web.Application) -> None:
        app.router.add_post(WEBHOOK_PATH, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        answer = await self.receive(
            request.query.get("workspace", ""), await request.read(),  # the signature covers these exact bytes
            signature=request.headers.get("X-OpenTrain-Signature"),
            delivery_id=request.headers.get("X-OpenTrain-Delivery", ""))
        return web.json_response(answer.body, status=answer.status)

    async def receive(self, workspace_id: str, raw_body: bytes, *, signature: str | None,
                      delivery_id: str) -> WebhookAnswer:
        """Verify, drop a repeated delivery (same id or same signature), ring the doorbell."""
        try:
            now = self._clock()
            subscription = await self._store.load(workspace_id) if workspace_id else None
            if subscription is None or not verify_signature(subscription.secret, raw_body, signature, now=now):
                return WebhookAnswer(400, {"ok": False, "error": "invalid signature"})
            marks = seen_marks(signature, delivery_id, now)
            if not await self._store.first_sight(workspace_id, marks, now):
                return WebhookAnswer(200, {"ok": True, "duplicate": True})
            try:
                await self._doorbell(workspace_id)
            except RedisError:
                # Not rung: forgotten again, so OpenTrain's retry of this delivery (after the 5xx below) rings.
                with contextlib.suppress(RedisError):
                    await self._store.forget(workspace_id, marks)
                raise
        except RedisError as exc:
            # 5xx asks OpenTrain to deliver again later; the ledger catches up either way.
            log.warning("webhook delivery for %s not recorded (%s)", workspace_id, type(exc).__name__)
            return WebhookAnswer(503, {"ok": False})
        except UndecryptableSecret:
            # The key changed without rotation: not the sender's fault, and a retry may find the key restored.
            log.warning("webhook delivery for %s refused: its stored signing secret cannot be decrypted with the "
                        "configured ENCRYPTION_KEY", workspace_id)
            return WebhookAnswer(503, {"ok": False, "error": "unavailable"})
        return WebhookAnswer(200, {"ok": True, "duplicate": False})


class WebhookSubscriptions:
    """Keeps a workspace's subscription alive when PUBLIC_URL is set and the token may manage webhooks."""

    def __init__(self, store: WebhookStore, accounts: Accounts, public_url: str | None, *,
                 clock: Callable[[], float] = time.time, check_seconds: float = STATUS_CHECK_SECONDS):
        self._store = store
        self._accounts = accounts
        self._public_url = public_url
        self._clock = clock
        self._check_seconds = check_seconds

    async def ensure(self, workspace_id: str, client: OpenTrainClient) -> bool:
        """True when an active subscription rings the doorbell for this workspace."""
        if not self._public_url or await self._store.paused(workspace_id) or not await self._allowed(workspace_id):
            return False
        url = subscription_url(self._public_url, workspace_id)
        stored = await self._store.load(workspace_id)
        try:
            if stored is not None and stored.url == url:
                if self._clock() - stored.checked_at < self._check_seconds or await self._still_active(
                        workspace_id, client, stored):
                    return True
                await _delete_quietly(client, stored.webhook_id)
            await self._create(workspace_id, client, url)
            return True
        except (errors.Forbidden, errors.BadRequest, errors.Conflict) as exc:
            log.warning("webhook for workspace %s not registered (%s); polling instead", workspace_id,
                        type(exc).__name__)
            await self._accounts.forget_capabilities(workspace_id)
            await self._store.pause(workspace_id, REFUSED_PAUSE_SECONDS)
            return False
        except errors.OpenTrainError as exc:
            # Transient or unexpected: the ledger is read either way, so only the doorbell waits.
            log.info("webhook check for workspace %s failed (%s); trying later", workspace_id, type(exc).__name__)
            return stored is not None

    async def _allowed(self, workspace_id: str) -> bool:
        try:
            problem = await self._accounts.lacks(workspace_id, scope="webhooks:manage", capability="webhooks",
                                                 unreported_ok=False)
        except errors.OpenTrainError as exc:
            log.info("cannot tell whether workspace %s may use webhooks (%s)", workspace_id, type(exc).__name__)
            return False
        return problem is None

    async def _still_active(self, workspace_id: str, client: OpenTrainClient, stored: StoredSubscription) -> bool:
        try:
            webhook = await client.get_webhook(stored.webhook_id)
        except errors.NotFound:
            log.info("webhook %s of workspace %s is gone; registering a new one", stored.webhook_id, workspace_id)
            return False
        if webhook.status.upper() == "DISABLED":
            log.info("webhook %s of workspace %s was disabled (%s); replacing it", stored.webhook_id, workspace_id,
                     webhook.disabled_reason or "no reason given")
            return False
        if not set(await self._event_types(workspace_id)) <= set(webhook.event_types):
            log.info("webhook %s of workspace %s misses event types it may ring for; replacing it",
                     stored.webhook_id, workspace_id)
            return False
        await self._store.mark_checked(workspace_id, self._clock())
        return True

    async def _event_types(self, workspace_id: str) -> list[str]:
        money = has_scope((await self._accounts.me(workspace_id)).scopes, "payments:read")
        return EVENT_TYPES + (MONEY_EVENT_TYPES if money else [])

    async def _create(self, workspace_id: str, client: OpenTrainClient, url: str) -> None:
        # A subscription to our URL that we hold no secret for (a crash right after creating it) only fails.
        for existing in await client.list_webhooks():
            if existing.url == url:
                await _delete_quietly(client, existing.id)
        created = await client.create_webhook(url, await self._event_types(workspace_id))
        await self._store.save(workspace_id, created.webhook.id, url, created.secret, self._clock())
        log.info("registered webhook %s for workspace %s", created.webhook.id, workspace_id)


async def _delete_quietly(client: OpenTrainClient, webhook_id: str) -> None:
    try:
        await client.delete_webhook(webhook_id)
    except errors.NotFound:
        pass
