"""The claim ceremony: hand an agent-registered account to a human, then poll for the post-claim token.

One claim per workspace, kept in Redis (`{ns}:ws:{ws}:claim`). Polling is scheduled work (kind "claim", item id =
workspace id), so it survives restarts and runs once across processes. Every state change reaches the front ends
through the registered observers, together with the surface metadata stored in the conversation that started it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from bot.hiring.accounts import Accounts
from bot.hiring.store import ConversationRef, ConversationStore
from bot.hiring.views import ClaimInstructions
from bot.opentrain import errors
from bot.storage import key

log = logging.getLogger(__name__)

CLAIM_KIND = "claim"
SLOW_DOWN_EXTRA_SECONDS = 5.0
OUTAGE_RETRY_SECONDS = 15.0
CONVERSATION_WRITE_ATTEMPTS = 5

ATTEMPT_EXPIRED = "This claim code expired before it was used. Type `restart` for a new code."
WINDOW_CLOSED = ("The window to claim this OpenTrain account has closed (it lasts about 24 hours after the bot "
                 "registered it). The next `/hire` registers a fresh account.")
GRANT_GONE = ("OpenTrain no longer accepts this claim (it was already completed or is unknown). If you finished "
              "claiming, create an API token in OpenTrain under Settings → API keys and give it to the bot.")
EMAIL_TAKEN = "That email already has an OpenTrain account. Which other email should own this one?"
NO_CLAIM_TOKEN = ("OpenTrain gave the bot no way to hand this account over (no claim token). To own your jobs, create "
                  "an API token in OpenTrain under Settings → API keys and give it to the bot.")


class ClaimObserver(Protocol):
    async def claim_changed(self, ref: ConversationRef, claim: ClaimInstructions, surface: dict) -> None: ...


class ClaimService:
    def __init__(self, redis, namespace: str, accounts: Accounts, store: ConversationStore, scheduler, *,
                 clock: Callable[[], float] = time.time):
        self._redis = redis
        self._namespace = namespace
        self._accounts = accounts
        self._store = store
        self._scheduler = scheduler
        self._clock = clock
        self._observers: list[ClaimObserver] = []

    def add_observer(self, observer: ClaimObserver) -> None:
        self._observers.append(observer)

    def register(self, scheduler) -> None:
        scheduler.register(CLAIM_KIND, lambda item: self.poll(item.item_id))

    def _key(self, workspace_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "claim")

    async def _load(self, workspace_id: str) -> dict[str, Any] | None:
        raw = await self._redis.get(self._key(workspace_id))
        return json.loads(raw) if raw else None

    async def _save(self, workspace_id: str, record: dict[str, Any]) -> None:
        await self._redis.set(self._key(workspace_id), json.dumps(record))

    async def current(self, workspace_id: str) -> ClaimInstructions | None:
        record = await self._load(workspace_id)
        return _instructions(record) if record else None

    async def start(self, workspace_id: str, email: str, ref: ConversationRef) -> ClaimInstructions:
        """Start (or restart) the ceremony with `email`; schedules the polling on success."""
        claim_token = await self._accounts.claim_token(workspace_id)
        base = {"ref": list(ref), "email": email, "interval": 5.0}
        if claim_token is None:
            if await self._accounts.is_claimed(workspace_id):
                record = {**base, "state": "claimed", "message": "This OpenTrain account is already claimed."}
            else:
                record = {**base, "state": "failed", "message": NO_CLAIM_TOKEN}
            await self._save(workspace_id, record)
            return _instructions(record)
        client = await self._accounts.client_for(workspace_id)
        try:
            started = await client.start_claim(claim_token, email)
        except errors.InvalidRequest as exc:
            if exc.email_already_registered:
                record = {**base, "state": "needs_email", "message": EMAIL_TAKEN}
            else:
                record = {**base, "state": "failed", "message": WINDOW_CLOSED}
                await self._accounts.forget(workspace_id)
        except errors.ExpiredToken:
            record = {**base, "state": "failed", "message": WINDOW_CLOSED}
            await self._accounts.forget(workspace_id)
        else:
            now = self._clock()
            interval = started.interval or 5.0
            record = {**base, "state": "waiting", "interval": interval,
                      "verification_uri": started.verification_uri, "user_code": started.user_code,
                      "expires_at": now + (started.expires_in or 1800.0)}
            await self._scheduler.schedule(CLAIM_KIND, workspace_id, due_at=now + interval)
        await self._save(workspace_id, record)
        return _instructions(record)

    async def poll(self, workspace_id: str) -> float | None:
        """One token poll. Returns when to poll next, or None once the claim reached an end state."""
        record = await self._load(workspace_id)
        if not record or record["state"] != "waiting":
            return None
        now = self._clock()
        if now >= record["expires_at"]:
            return await self._finish(workspace_id, record, "expired", ATTEMPT_EXPIRED)
        claim_token = await self._accounts.claim_token(workspace_id)
        if claim_token is None:
            return await self._finish(workspace_id, record, "claimed", None)
        client = await self._accounts.client_for(workspace_id)
        try:
            grant = await client.poll_claim(claim_token)
        except errors.AuthorizationPending as exc:
            if "attempt_expired" in _description(exc):
                return await self._finish(workspace_id, record, "expired", ATTEMPT_EXPIRED)
            return now + record["interval"]
        except errors.SlowDown:
            record["interval"] += SLOW_DOWN_EXTRA_SECONDS
            await self._save(workspace_id, record)
            return now + record["interval"]
        except errors.ExpiredToken:
            await self._accounts.forget(workspace_id)
            return await self._finish(workspace_id, record, "failed", WINDOW_CLOSED)
        except errors.InvalidGrant:
            return await self._finish(workspace_id, record, "failed", GRANT_GONE)
        except (errors.TransportError, errors.ServerError, errors.OAuthRateLimited, errors.RateLimited) as exc:
            log.warning("claim poll for workspace %s failed (%s); polling again later", workspace_id,
                        type(exc).__name__)
            return now + max(record["interval"], OUTAGE_RETRY_SECONDS)
        await self._accounts.replace_token(workspace_id, grant.access_token.get_secret_value(), grant.scopes)
        return await self._finish(workspace_id, record, "claimed", None)

    async def _finish(self, workspace_id: str, record: dict, state: str, message: str | None) -> None:
        record.update(state=state, message=message)
        await self._save(workspace_id, record)
        instructions = _instructions(record)
        ref = ConversationRef(*record["ref"])
        surface = await self._settle_conversation(ref, instructions)
        for observer in self._observers:
            try:
                await observer.claim_changed(ref, instructions, surface)
            except Exception:
                log.exception("claim observer %s failed", type(observer).__name__)
        return None

    async def _settle_conversation(self, ref: ConversationRef, claim: ClaimInstructions) -> dict:
        """Move the conversation that started the claim to its outcome; returns its surface metadata."""
        for _ in range(CONVERSATION_WRITE_ATTEMPTS):
            conversation = await self._store.load(ref)
            if conversation is None:
                return {}
            if conversation.state != "claim_pending" or claim.state not in ("claimed", "failed"):
                return conversation.surface
            conversation.state = "claimed" if claim.state == "claimed" else "failed"
            if claim.state == "failed":
                conversation.failure = {"reason": claim.message, "retry": None}
            if await self._store.save(conversation):
                return conversation.surface
        return {}


def _description(exc: Exception) -> str:
    """The OAuth `error_description`, wherever the client keeps it (the sandbox marks a lapsed attempt there)."""
    for name in ("description", "error_description", "message"):
        if text := getattr(exc, name, None):
            return str(text)
    return ""


def _instructions(record: dict[str, Any]) -> ClaimInstructions:
    return ClaimInstructions(state=record["state"], verification_uri=record.get("verification_uri"),
                             user_code=record.get("user_code"), expires_at=record.get("expires_at"),
                             email=record.get("email"), message=record.get("message"))
