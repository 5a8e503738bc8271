"""The hiring conversation's front door: from a plain-English description to a published job and a claimed account.

Front ends call `start` for `/hire <text>`, `handle` for every later line or click, and `status`. Behind it:
`table.py` (the states, the words each accepts, the legal moves), `decisions.py` (what a message means),
`calls.py` (the OpenTrain calls), `steps.py` (read, decide, compare-and-set, replay a call a dead process left),
`questions.py` (the question, the review card, the status). The claim ceremony (`claim.py`) reports its end here.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from bot.hiring import intake, questions, table, wording
from bot.hiring.accounts import Accounts
from bot.hiring.authz import Action, Attempt, Authorizer
from bot.hiring.calls import Calls
from bot.hiring.claim import ClaimObserver, ClaimService
from bot.hiring.decisions import Call, Decision, already_taken, answer, card_changed, publish
from bot.hiring.intake import JobSource
from bot.hiring.limits import Limits, LimitSettings
from bot.hiring.record import Conversation, ConversationRef, Failure, Report
from bot.hiring.states import OPEN, Event, Op, State
from bot.hiring.steps import SAVE_ATTEMPTS, Steps
from bot.hiring.store import ConversationStore
from bot.hiring.table import move
from bot.hiring.views import ClaimInstructions, EmailRequest, NotAllowed, Notice, Reply, View
from bot.infra.scheduler import Scheduler
from bot.infra.storage import Redis

__all__ = ["HiringEngine", "ConversationRef", "ClaimObserver"]


def idempotency_key(ref: ConversationRef, message_id: str) -> str:
    digest = hashlib.sha256(f"{ref.workspace_id}|{ref.conversation_id}|{message_id}".encode()).hexdigest()
    return f"hirebot-{digest[:32]}"


# What a message means when it was sent before what the conversation now shows was shown (`asked_at`): an answer
# typed for an earlier question is not this question's answer; a `publish` sent while the last answer was on its
# way would publish a card its sender never saw.
SENT_TOO_EARLY: dict[tuple[State, Callable[[Conversation, str], Decision]], Callable[[Conversation], Decision]] = {
    (State.ASKING, answer): already_taken,
    (State.REVIEW, publish): card_changed,
}


def sent_too_early(conversation: Conversation, words: str, sent_at: float | None) -> Decision | None:
    """What to do instead with a message meant for what was shown before, or None when it is for what is shown."""
    if sent_at is None or sent_at >= conversation.asked_at:
        return None
    instead = SENT_TOO_EARLY.get((conversation.state, table.route(conversation.state, words)[0].decide))
    return instead(conversation) if instead else None


class HiringEngine:
    def __init__(self, redis: Redis, namespace: str, accounts: Accounts, scheduler: Scheduler, *,
                 authorizer: Authorizer, limits: LimitSettings | None = None, idle_seconds: int = 7 * 24 * 3600,
                 pending_lease_seconds: float = 10.0, pending_wait_seconds: float = 20.0,
                 clock: Callable[[], float] = time.time):
        self._accounts = accounts
        self._authz = authorizer
        self._clock = clock
        self.store = ConversationStore(redis, namespace, idle_seconds, lease_seconds=pending_lease_seconds)
        self._limits = Limits(redis, namespace, self.store, limits or LimitSettings(), idle_seconds=idle_seconds,
                              clock=clock)
        self.claims = ClaimService(redis, namespace, accounts, scheduler, settle=self._claim_settled, clock=clock)
        calls = Calls(redis, namespace, accounts, self.claims, scheduler, authorizer, self._limits, clock=clock)
        self._steps = Steps(self.store, calls, idle_seconds=idle_seconds, pending_lease_seconds=pending_lease_seconds,
                            pending_wait_seconds=pending_wait_seconds,
                            clock=clock)

    @property
    def accounts(self) -> Accounts:
        return self._accounts

    def add_claim_observer(self, observer: ClaimObserver) -> None:
        self.claims.add_observer(observer)

    def register_workers(self, scheduler: Scheduler) -> None:
        self.claims.register(scheduler)

    # ---- front ends call these

    async def start_refusal(self, workspace_id: str, user_id: str, message_id: str) -> str | None:
        """Why `user_id` may not start a conversation now (their limits), or None; a front end asks before it posts
        anything, and `start` asks again."""
        return await self._limits.start_refusal(workspace_id, user_id, message_id)

    async def start(self, ref: ConversationRef, user_id: str, message_id: str, text: str, *,
                    surface: dict[str, Any] | None = None, source: JobSource | None = None) -> Reply:
        """`/hire <text>`: a new conversation in this place, unless one is still open here. `source`: what a front
        end already read (a shared file, see `intake`); otherwise a posting pasted in `text` is recognised here."""
        try:
            source = source or (intake.detect(text) if text.strip() else None)
        except intake.Unreadable as exc:
            return Reply([Notice(exc.sentence, "error")], None)
        description = source.payload if source is not None and not source.structured else ""
        if (limited := await self.start_refusal(ref.workspace_id, user_id, message_id)) is not None:
            existing = await self.store.load(ref)
            if existing is None or message_id not in existing.processed:  # a redelivery of a started one passes
                return Reply([Notice(limited, "error")], None)

        created = False

        def decide(existing: Conversation | None) -> tuple[Conversation | None, Decision]:
            nonlocal created
            created = False
            if existing is not None and existing.state in OPEN:
                return existing, Decision([Notice(wording.ALREADY_HERE)])
            if source is None or not (source.structured or description):
                return existing, Decision([Notice(wording.NO_DESCRIPTION, "error")], save=False)
            if refusal := wording.description_refusal(description):
                return existing, Decision([Notice(refusal, "error")], save=False)
            now = self._clock()
            conversation = Conversation(
                workspace_id=ref.workspace_id, conversation_id=ref.conversation_id, requester=user_id,
                state=table.START, created_at=now, updated_at=now, description=description,
                source=source if source.structured else None, idempotency_key=idempotency_key(ref, message_id),
                surface=dict(surface or {}),
                version=existing.version if existing else 0)
            created = True
            return conversation, Decision(call=Call(Op.CREATE))

        reply = await self._steps.take(ref, message_id, decide)
        if created and not reply.duplicate:
            await self._limits.started(ref.workspace_id, user_id, message_id, ref.conversation_id)
        return reply

    async def claim_refusal(self, workspace_id: str, user_id: str, *,
                            private: bool = True) -> NotAllowed | Notice | None:
        """Why `user_id` can't set up the OpenTrain account now: not an account admin, nothing to set up, or a
        claim already waiting for its code. None when they can."""
        if refused := await self._authz.refusal(Attempt(Action.CLAIM, workspace_id, user_id, private=private)):
            return NotAllowed(refused)
        if await self._accounts.is_claimed(workspace_id):
            return Notice(wording.ALREADY_CLAIMED)
        if not await self._accounts.registered(workspace_id):
            return Notice(wording.NO_ACCOUNT_YET)
        if (live := await self.claims.live(workspace_id)) is not None:
            return Notice(wording.claim_live(live))
        return None

    async def start_claim(self, ref: ConversationRef, user_id: str, message_id: str, *, private: bool) -> Reply:
        """`/hire claim`: an account admin, in their own DM, sets up the workspace's OpenTrain account."""
        workspace = ref.workspace_id
        if (refused := await self.claim_refusal(workspace, user_id, private=private)) is not None:
            return Reply([refused], None)

        def decide(existing: Conversation | None) -> tuple[Conversation | None, Decision]:
            if existing is not None and existing.state in OPEN:
                return existing, Decision([Notice(wording.ALREADY_HERE)])
            now = self._clock()
            conversation = Conversation(
                workspace_id=workspace, conversation_id=ref.conversation_id, requester=user_id,
                state=table.START_CLAIM, created_at=now, updated_at=now,
                version=existing.version if existing else 0)
            return conversation, Decision([EmailRequest(wording.WHICH_EMAIL)])

        return await self._steps.take(ref, message_id, decide)

    async def handle(self, ref: ConversationRef, user_id: str, message_id: str, text: str, *,
                     private: bool = False, sent_at: float | None = None) -> Reply:
        """Every later line or click (a click sends the words its button stands for). `private`: it was sent in
        the sender's direct messages with the bot (some actions happen only there). `sent_at`: when the person sent
        it (epoch seconds), so an answer sent before the open question was asked is never applied to it."""
        words = text.strip()
        if words.lower() == "status":
            return await self.status(ref)  # read-only: nothing to dedupe

        def decide(conversation: Conversation | None) -> tuple[Conversation | None, Decision]:
            if conversation is None:
                return None, Decision([Notice(wording.NO_CONVERSATION)], save=False)
            return conversation, sent_too_early(conversation, words, sent_at) or table.take(conversation, words)

        async def authorize(conversation: Conversation) -> View | None:
            if conversation.state in (State.CANCELLED, State.CLAIMED):
                return None  # over: anyone may hear so
            action = table.action_of(conversation, words)
            refused = await self._authz.refusal(Attempt(action, ref.workspace_id, user_id, conversation.requester,
                                                        private))
            return NotAllowed(refused) if refused else None

        return await self._steps.take(ref, message_id, decide, authorize=authorize, sent_at=sent_at)

    async def status(self, ref: ConversationRef) -> Reply:
        conversation = await self.store.load(ref)
        if conversation is None:
            return Reply([Notice("There's no hiring conversation here.")], None)
        views: list[View] = [questions.status(conversation)]
        if conversation.state == State.CLAIM_PENDING:  # only the claim this conversation started
            claim = await self.claims.current(conversation.workspace_id, started_by=ref)
            if claim is not None:
                views.append(claim)
        return Reply(views, conversation.state)

    async def open_view(self, ref: ConversationRef, message_id: str) -> Reply:
        """What the conversation is waiting on now (the open question, the review card), for a front end that may
        not have shown it: the process handling `message_id` died after saving a step but before showing it. Nothing
        when the latest step is another message's to show (its handler, alive or redelivered, shows it)."""
        conversation = await self.store.load(ref)
        if conversation is None:
            return Reply([], None)
        if conversation.shown_by not in ("", message_id):
            return Reply([], conversation.state, taken=False)
        view: View | None = None
        if conversation.state == State.ASKING:
            view = questions.next_question(conversation)
        elif conversation.state == State.REVIEW:
            view = questions.review_card(conversation)
        return Reply([view] if view else [], conversation.state, taken=False)

    async def set_surface(self, ref: ConversationRef, surface: dict[str, Any]) -> None:
        for _ in range(SAVE_ATTEMPTS):
            conversation = await self.store.load(ref)
            if conversation is None:
                return
            conversation.surface = {**conversation.surface, **surface}
            if await self.store.save(conversation):
                return

    async def reopen(self, ref: ConversationRef, *, job_id: str, requester: str, fields: dict[str, Any],
                     job_url: str | None = None) -> Reply:
        """A published job that moderation sent back to draft (a live edit it blocked, the edit applied): its
        conversation goes back to the review card with the job's fields as they are now, so the requester fixes them
        (`edit <field>`) and publishes again the usual way. A record gone with time is made again from the job.
        Nothing moves (state None, or not REVIEW) when the conversation is busy with something else."""
        for _ in range(SAVE_ATTEMPTS):
            conversation = await self.store.load(ref) or await self._remade(ref, job_id, requester, job_url)
            if table.allowed(conversation.state, Event.REOPENED) != {State.REVIEW} or conversation.job_id != job_id:
                return Reply([], conversation.state)
            conversation.report = conversation.report.model_copy(update={
                "normalized": {**conversation.report.normalized, **fields}, "publish_ready": True, "missing": []})
            conversation.reask, conversation.partial, conversation.failure = None, {}, None
            conversation.updated_at = self._clock()
            move(conversation, State.REVIEW, by=Event.REOPENED)
            if await self.store.save(conversation):
                return Reply([Notice(wording.REOPENED), questions.review_card(conversation)], State.REVIEW,
                             taken=True)
        return Reply([], None)

    async def _remade(self, ref: ConversationRef, job_id: str, requester: str, job_url: str | None) -> Conversation:
        """A published job's conversation, when its record expired: what the review card needs, from the job."""
        now = self._clock()
        features = await self._accounts.capabilities(ref.workspace_id)
        return Conversation(workspace_id=ref.workspace_id, conversation_id=ref.conversation_id, requester=requester,
                            state=State.PUBLISHED, created_at=now, updated_at=now, job_id=job_id, job_url=job_url,
                            report=Report(job_id=job_id, enums=features.enums, update_keys=features.update_keys))

    # ---- the claim service calls this

    async def _claim_settled(self, ref: ConversationRef, claim: ClaimInstructions) -> dict[str, Any]:
        """A claim ended: the conversation waiting on it is claimed or failed. Returns its surface metadata."""
        for _ in range(SAVE_ATTEMPTS):
            conversation = await self.store.load(ref)
            if conversation is None:
                return {}
            if conversation.state != State.CLAIM_PENDING or claim.state not in ("claimed", "failed"):
                return conversation.surface
            if claim.state == "claimed":
                move(conversation, State.CLAIMED, by=Event.CLAIM_SETTLED)
            else:
                move(conversation, State.FAILED, by=Event.CLAIM_SETTLED)
                conversation.failure = Failure(reason=claim.message)
            if await self.store.save(conversation):
                return conversation.surface
        return {}
