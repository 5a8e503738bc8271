"""The step machinery: read the conversation, decide, write it back with a version check, make at most one call.

Any process can take the next message, and two processes never both apply one: every write is a compare-and-set on
the record's version, and handled message ids travel inside the record. A step that calls OpenTrain first records
the call as pending (that write is the lock), makes the call, then records the outcome. A process that dies in
between leaves the pending call behind; after a lease the next message (or a redelivery of the same one) replays
it, which is safe because every call it can replay is idempotent (create with `idempotencyKey`, PATCH with the same
values, publish, claim restart).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from bot.hiring import wording
from bot.hiring.calls import Calls
from bot.hiring.decisions import Decision
from bot.hiring.record import Conversation, ConversationRef, PendingCall
from bot.hiring.states import ACTIVE, Event, IllegalTransition, State
from bot.hiring.store import ConversationStore
from bot.hiring.table import move
from bot.hiring.views import Notice, Reply, View

log = logging.getLogger(__name__)

SAVE_ATTEMPTS = 5

# (the stored conversation or None) -> (the conversation to save or None, what the message does)
Decide = Callable[[Conversation | None], tuple[Conversation | None, Decision]]
# The stored conversation -> why the sender may not do what the message asks now, or None (see authz.py)
Authorize = Callable[[Conversation], Awaitable[View | None]]


class Steps:
    def __init__(self, store: ConversationStore, calls: Calls, *, idle_seconds: float,
                 pending_lease_seconds: float, clock: Callable[[], float] = time.time):
        self._store = store
        self._calls = calls
        self._idle = idle_seconds
        self._lease = pending_lease_seconds
        self._clock = clock

    async def take(self, ref: ConversationRef, message_id: str, decide: Decide, *,
                   authorize: Authorize | None = None) -> Reply:
        """`authorize` None: a fresh start, which an existing conversation here does not refuse."""
        recovered: list[View] = []
        for _ in range(SAVE_ATTEMPTS):
            conversation = await self._store.load(ref)
            if conversation is not None:
                if message_id in conversation.processed:
                    # Already applied; unless this very delivery just finished what a dead process left.
                    return Reply(recovered, conversation.state, duplicate=not recovered)
                if conversation.pending:
                    if self._clock() - conversation.pending.started_at < self._lease:
                        if conversation.pending.message_id == message_id:
                            return Reply([], conversation.state, duplicate=True)
                        return Reply([Notice(wording.STILL_WORKING)], conversation.state)
                    # A dead process left its call pending: replay it, even for a redelivery of its own message.
                    recovered = await self._recover(conversation)
                    continue
                refused = await self._refusal(conversation, authorize)
                if refused is not None:
                    return refused
            try:
                conversation, decision = decide(conversation)
            except IllegalTransition as exc:
                log.error("a decision outside the table: %s", exc)
                return Reply([Notice(f"That isn't possible right now ({exc}).", "error")],
                             conversation.state if conversation else None)
            if conversation is None or not decision.save:
                return Reply(recovered + decision.views, conversation.state if conversation else None)
            conversation.updated_at = self._clock()
            if decision.call is None:
                conversation.mark_processed(message_id)
                if await self._store.save(conversation):
                    return Reply(recovered + decision.views, conversation.state)
                continue
            conversation.pending = PendingCall(op=decision.call.op, args=decision.call.args, message_id=message_id,
                                               started_at=self._clock())
            if not await self._store.save(conversation):
                continue
            views = recovered + decision.views + await self._calls.run(conversation)
            if await self._store.save(conversation):
                return Reply(views, conversation.state)
            return Reply([*views, Notice(wording.CHANGED_MEANWHILE)], conversation.state)
        return Reply([Notice(wording.BUSY, "error")], None)

    async def _refusal(self, conversation: Conversation, authorize: Authorize | None) -> Reply | None:
        """Why this message can't go to the conversation at all: it expired, or the sender may not do this."""
        if conversation.state in ACTIVE and self._clock() - conversation.updated_at > self._idle:
            move(conversation, State.EXPIRED, by=Event.IDLE)
            await self._store.save(conversation)
        if authorize is None:
            return None
        if conversation.state == State.EXPIRED:
            return Reply([Notice(wording.EXPIRED)], conversation.state)
        if (refused := await authorize(conversation)) is not None:
            return Reply([refused], conversation.state)
        return None

    async def _recover(self, conversation: Conversation) -> list[View]:
        """Replay the call a dead process left pending (safe: every call it can make is idempotent)."""
        assert conversation.pending is not None
        log.info("replaying %s left pending in %s", conversation.pending.op, conversation.conversation_id)
        conversation.pending.started_at = self._clock()
        if not await self._store.save(conversation):
            return []
        views = await self._calls.run(conversation)
        await self._store.save(conversation)
        return [Notice(wording.PICKING_UP), *views]
