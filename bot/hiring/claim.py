"""The claim ceremony: hand an agent-registered account to a human, then poll for the post-claim token.

One claim per workspace, kept in Redis (`{ns}:{ws:{ws}}:claim`; its verification link is sealed with the accounts'
SecretBox, as it embeds an attempt token). Polling is scheduled work (kind "claim", item id = workspace id), so it
survives restarts and runs once across processes. When a claim ends, the conversation that started it hears the
outcome through `settle` (the engine decides what that means for the conversation), then the front ends through the
registered observers, with the surface metadata that conversation keeps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pydantic import BaseModel

from bot.hiring.accounts import Accounts
from bot.hiring.record import ConversationRef
from bot.hiring.views import ClaimInstructions, ClaimState
from bot.infra.scheduler import ScheduledItem, Scheduler
from bot.infra.storage import Redis, key
from bot.opentrain import errors

log = logging.getLogger(__name__)

CLAIM_KIND = "claim"
DEFAULT_INTERVAL_SECONDS = 5.0
DEFAULT_ATTEMPT_SECONDS = 1800.0
SLOW_DOWN_EXTRA_SECONDS = 5.0
OUTAGE_RETRY_SECONDS = 15.0
ENDED_RECORD_SECONDS = 7 * 24 * 3600  # how long a claim's outcome stays visible (`status`) after its attempt ends

ATTEMPT_EXPIRED = "This claim code expired before it was used. Type `restart` for a new code."
WINDOW_CLOSED = ("The window to claim this OpenTrain account has closed (it lasts about 24 hours after the bot "
                 "registered it). The next `/hire` registers a fresh account.")
GRANT_GONE = ("OpenTrain no longer accepts this claim (it was already completed or is unknown). If you finished "
              "claiming, create an API token in OpenTrain under Settings → API keys and give it to the bot.")
POLL_REFUSED = ("OpenTrain refused the bot's request for the claimed account, so the bot stopped waiting for it. If "
                "you finished claiming, create an API token in OpenTrain under Settings → API keys and give it to "
                "the bot.")
EMAIL_TAKEN = "That email already has an OpenTrain account. Which other email should own this one?"
START_REFUSED = "OpenTrain refused to start the claim ({reason}). Which email should own the OpenTrain account?"
EARLIER_CODE_WORKS = " The code I sent before still works until it expires."
NO_CLAIM_TOKEN = ("OpenTrain gave the bot no way to hand this account over (no claim token). To own your jobs, create "
                  "an API token in OpenTrain under Settings → API keys and give it to the bot.")


class ClaimRecord(BaseModel):
    """A workspace's claim, as stored. The verification link embeds the `ot_cat_` attempt token: a credential, so
    it is kept only sealed (`sealed_verification_uri`), like the account's tokens."""

    ref: tuple[str, str]  # the conversation that started it
    email: str
    interval: float = DEFAULT_INTERVAL_SECONDS
    state: ClaimState
    message: str | None = None
    verification_uri: str | None = None
    sealed_verification_uri: str | None = None
    user_code: str | None = None
    expires_at: float | None = None

    @property
    def instructions(self) -> ClaimInstructions:
        return ClaimInstructions(state=self.state, verification_uri=self.verification_uri, user_code=self.user_code,
                                 expires_at=self.expires_at, email=self.email, message=self.message)


class ClaimObserver(Protocol):
    async def claim_changed(self, ref: ConversationRef, claim: ClaimInstructions, surface: dict) -> None: ...


# The conversation that started a claim hears its end: (its ref, the outcome) -> its surface metadata.
Settle = Callable[[ConversationRef, ClaimInstructions], Awaitable[dict[str, Any]]]


class ClaimService:
    def __init__(self, redis: Redis, namespace: str, accounts: Accounts, scheduler: Scheduler, *, settle: Settle,
                 clock: Callable[[], float] = time.time):
        self._redis = redis
        self._namespace = namespace
        self._accounts = accounts
        self._box = accounts.secretbox
        self._settle = settle
        self._scheduler = scheduler
        self._clock = clock
        self._observers: list[ClaimObserver] = []

    def add_observer(self, observer: ClaimObserver) -> None:
        self._observers.append(observer)

    def register(self, scheduler: Scheduler) -> None:
        async def poll(item: ScheduledItem) -> float | None:
            return await self.poll(item.item_id)

        scheduler.register(CLAIM_KIND, poll)

    def _key(self, workspace_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "claim")

    async def _load(self, workspace_id: str) -> ClaimRecord | None:
        raw = await self._redis.get(self._key(workspace_id))
        if not raw:
            return None
        record = ClaimRecord.model_validate_json(raw)
        if record.sealed_verification_uri:
            record.verification_uri = self._box.decrypt(record.sealed_verification_uri)
        return record

    async def _save(self, workspace_id: str, record: ClaimRecord) -> None:
        """A live attempt keeps its code until it lapses; an ended one keeps only who and how it ended, for a while."""
        if record.state != "waiting":
            record = record.model_copy(update={"verification_uri": None, "user_code": None})
        sealed = self._box.encrypt(record.verification_uri) if record.verification_uri else None
        stored = record.model_copy(update={"verification_uri": None, "sealed_verification_uri": sealed})
        ttl = ENDED_RECORD_SECONDS
        if record.state == "waiting":
            ttl += max(0, int((record.expires_at or 0.0) - self._clock()))
        await self._redis.set(self._key(workspace_id), stored.model_dump_json(exclude_none=True), ex=ttl)

    async def live(self, workspace_id: str) -> ClaimInstructions | None:
        """The attempt whose code a human may be typing right now, if any."""
        record = await self._load(workspace_id)
        return record.instructions if record is not None and self._is_live(record) else None

    async def current(self, workspace_id: str, *,
                      started_by: ConversationRef | None = None) -> ClaimInstructions | None:
        """The workspace's claim; with `started_by`, only if that conversation started it (its code is theirs)."""
        record = await self._load(workspace_id)
        if record is None or (started_by is not None and ConversationRef(*record.ref) != started_by):
            return None
        return record.instructions

    async def start(self, workspace_id: str, email: str, ref: ConversationRef) -> ClaimInstructions:
        """Start (or restart) the ceremony with `email`; schedules the polling on success."""
        claim_token = await self._accounts.claim_token(workspace_id)
        base = ClaimRecord(ref=ref, email=email, state="needs_email")
        if claim_token is None:
            if await self._accounts.is_claimed(workspace_id):
                return await self._record(workspace_id, base, "claimed", "This OpenTrain account is already claimed.")
            return await self._record(workspace_id, base, "failed", NO_CLAIM_TOKEN)
        client = await self._accounts.client_for(workspace_id)
        try:
            started = await client.start_claim(claim_token, email)
        except errors.ExpiredToken:
            return await self._close_window(workspace_id, base)
        except errors.InvalidRequest as exc:
            return await self._start_refused(workspace_id, base, exc)
        now = self._clock()
        interval = started.interval or DEFAULT_INTERVAL_SECONDS
        record = base.model_copy(update={
            "state": "waiting", "interval": interval, "verification_uri": started.verification_uri,
            "user_code": started.user_code, "expires_at": now + (started.expires_in or DEFAULT_ATTEMPT_SECONDS)})
        await self._scheduler.schedule(CLAIM_KIND, workspace_id, due_at=now + interval)
        await self._save(workspace_id, record)
        return record.instructions

    async def _record(self, workspace_id: str, base: ClaimRecord, state: ClaimState,
                      message: str) -> ClaimInstructions:
        record = base.model_copy(update={"state": state, "message": message})
        await self._save(workspace_id, record)
        return record.instructions

    async def _start_refused(self, workspace_id: str, base: ClaimRecord,
                             exc: errors.InvalidRequest) -> ClaimInstructions:
        """Claim start said invalid_request, which covers several causes (contract §2.1.2). Only a closed window ends
        the account; otherwise an attempt still waiting for the human keeps going and the requester hears why."""
        if exc.already_claimed:
            return await self._collect_grant(workspace_id, base)
        if not exc.email_already_registered and await self._window_closed(workspace_id):
            return await self._close_window(workspace_id, base)
        message = EMAIL_TAKEN if exc.email_already_registered else START_REFUSED.format(reason=exc.message)
        previous = await self._load(workspace_id)
        if previous and self._is_live(previous):
            # Its code still works and its poll is still scheduled: ask again without touching either.
            return ClaimInstructions(state="needs_email", email=base.email, message=message + EARLIER_CODE_WORKS)
        return await self._record(workspace_id, base, "needs_email", message)

    async def _collect_grant(self, workspace_id: str, base: ClaimRecord) -> ClaimInstructions:
        """The human already confirmed an earlier code: keep (or resume) polling, as the next poll returns the token."""
        now = self._clock()
        record = await self._load(workspace_id) or base
        record = record.model_copy(update={
            "state": "waiting", "message": None,
            "expires_at": max(record.expires_at or 0.0, now + DEFAULT_ATTEMPT_SECONDS)})
        await self._save(workspace_id, record)
        await self._scheduler.schedule(CLAIM_KIND, workspace_id, due_at=now)
        return record.instructions

    async def _window_closed(self, workspace_id: str) -> bool:
        closes_at = await self._accounts.claim_window_closes_at(workspace_id)
        return closes_at is not None and self._clock() >= closes_at

    async def _close_window(self, workspace_id: str, base: ClaimRecord) -> ClaimInstructions:
        """The account can no longer be claimed: drop it so the next use registers a fresh one."""
        await self._accounts.forget(workspace_id)
        return await self._record(workspace_id, base, "failed", WINDOW_CLOSED)

    def _is_live(self, record: ClaimRecord) -> bool:
        return record.state == "waiting" and self._clock() < (record.expires_at or 0.0)

    async def poll(self, workspace_id: str) -> float | None:
        """One token poll. Returns when to poll next, or None once the claim reached an end state."""
        record = await self._load(workspace_id)
        if not record or record.state != "waiting":
            return None
        now = self._clock()
        if now >= (record.expires_at or 0.0):
            return await self._finish(workspace_id, record, "expired", ATTEMPT_EXPIRED)
        claim_token = await self._accounts.claim_token(workspace_id)
        if claim_token is None:
            return await self._finish(workspace_id, record, "claimed", None)
        client = await self._accounts.client_for(workspace_id)
        try:
            grant = await client.poll_claim(claim_token)
        except errors.AuthorizationPending as exc:
            if exc.attempt_expired:
                return await self._finish(workspace_id, record, "expired", ATTEMPT_EXPIRED)
            return now + record.interval
        except errors.SlowDown:
            record.interval += SLOW_DOWN_EXTRA_SECONDS
            await self._save(workspace_id, record)
            return now + record.interval
        except errors.ExpiredToken:
            await self._accounts.forget(workspace_id)
            return await self._finish(workspace_id, record, "failed", WINDOW_CLOSED)
        except errors.InvalidGrant:
            return await self._finish(workspace_id, record, "failed", GRANT_GONE)
        except (errors.TransportError, errors.ServerError, errors.OAuthRateLimited, errors.RateLimited) as exc:
            log.warning("claim poll for workspace %s failed (%s); polling again later", workspace_id,
                        type(exc).__name__)
            return now + max(record.interval, OUTAGE_RETRY_SECONDS)
        except errors.OpenTrainError as exc:
            # Not an outage, so waiting will not fix it: end the claim plainly instead of polling forever.
            log.warning("claim poll for workspace %s refused (%s); giving up", workspace_id,
                        exc.code or type(exc).__name__)
            return await self._finish(workspace_id, record, "failed", POLL_REFUSED)
        await self._accounts.replace_token(workspace_id, grant.access_token.get_secret_value(), grant.scopes)
        return await self._finish(workspace_id, record, "claimed", None)

    async def _finish(self, workspace_id: str, record: ClaimRecord, state: ClaimState,
                      message: str | None) -> float | None:
        """The claim reached an end: record it, settle its conversation, tell the observers. Returns None, the
        poll's "no next poll"."""
        record = record.model_copy(update={"state": state, "message": message})
        await self._save(workspace_id, record)
        instructions = record.instructions
        ref = ConversationRef(*record.ref)
        surface = await self._settle(ref, instructions)
        for observer in self._observers:
            try:
                await observer.claim_changed(ref, instructions, surface)
            except Exception:
                log.exception("claim observer %s failed", type(observer).__name__)
        return None
