"""The step machinery: read the conversation, decide, write it back with a version check, make at most one call.

Any process can take the next message, and two processes never both apply one: every write is a compare-and-set on
the record's version, and handled message ids travel inside the record. A step that calls OpenTrain first records
the call as pending and takes its lease in the same write (that write is the lock), makes the call while a heartbeat
keeps the short lease alive, then records the outcome and lets the lease go. A process that dies in between leaves
the pending call behind and its lease lapses within `pending_lease_seconds`; the next message (or a redelivery of the
same one) replays it at once, which is safe because every call it can replay is idempotent (create with
`idempotencyKey`, PATCH with the same values, publish, claim restart).

A message that finds a live call waits for it (bounded by `pending_wait_seconds`) instead of being refused; messages
waiting together go in the order they were sent. Once the call is done the open question may be another one: an
answer sent before that question was asked answers an earlier question, and is never applied to it (`asked_at`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable

from bot.hiring import wording
from bot.hiring.calls import Calls
from bot.hiring.decisions import Decision
from bot.hiring.questions import next_question
from bot.hiring.record import Conversation, ConversationRef, PendingCall
from bot.hiring.states import ACTIVE, Event, IllegalTransition, State
from bot.hiring.store import ConversationStore
from bot.hiring.table import move
from bot.hiring.views import Notice, Question, Reply, ReviewCard, View

log = logging.getLogger(__name__)

SAVE_ATTEMPTS = 5
WAIT_POLL_SECONDS = 0.05  # how often a waiting message looks at the lease and the queue (two cheap Redis reads)
QUEUE_PLACE_SECONDS = 5.0  # a waiting message's place lapses this long after it last looked (its process died)

# (the stored conversation or None) -> (the conversation to save or None, what the message does)
Decide = Callable[[Conversation | None], tuple[Conversation | None, Decision]]
# The stored conversation -> why the sender may not do what the message asks now, or None (see authz.py)
Authorize = Callable[[Conversation], Awaitable[View | None]]


def lease_token() -> str:
    """The owner of a pending call: its process id (for whoever looks at Redis) and a unique part."""
    return f"{os.getpid()}:{uuid.uuid4().hex}"


class Steps:
    def __init__(self, store: ConversationStore, calls: Calls, *, idle_seconds: float,
                 pending_lease_seconds: float, pending_wait_seconds: float = 20.0,
                 clock: Callable[[], float] = time.time):
        self._store = store
        self._calls = calls
        self._idle = idle_seconds
        self._lease = pending_lease_seconds
        self._wait = pending_wait_seconds
        self._clock = clock

    async def take(self, ref: ConversationRef, message_id: str, decide: Decide, *,
                   authorize: Authorize | None = None, sent_at: float | None = None) -> Reply:
        """`authorize` None: a fresh start, which an existing conversation here does not refuse."""
        recovered: list[View] = []
        order = time.time() if sent_at is None else sent_at  # the queue's order: when the message was sent
        deadline = time.monotonic() + self._wait
        queued = False
        conflicts = 0
        try:
            while conflicts < SAVE_ATTEMPTS:
                conversation = await self._store.load(ref)
                if conversation is not None:
                    if message_id in conversation.processed:
                        # Already applied; unless this very delivery just finished what a dead process left.
                        return Reply(recovered, conversation.state, duplicate=not recovered, taken=bool(recovered))
                    pending = conversation.pending
                    live = pending is not None and await self._store.lease_alive(ref)
                    own = pending is not None and pending.message_id == message_id
                    turn = True
                    if not own:  # a redelivery of the pending call's own message waits for it, not in the queue
                        place = await self._store.my_turn(ref, message_id, order, join=live,
                                                          alive_seconds=QUEUE_PLACE_SECONDS)
                        queued = queued or place != 1
                        turn = place != 0
                    if live or not turn:
                        if time.monotonic() >= deadline:
                            if own:  # the first delivery is alive and still at work on it
                                return Reply([], conversation.state, duplicate=True)
                            return Reply([Notice(wording.STILL_WORKING)], conversation.state)
                        await asyncio.sleep(WAIT_POLL_SECONDS)
                        continue
                    if pending is not None:
                        # Its owner died (no lease): replay it now, even for a redelivery of its own message.
                        replayed = await self._recover(conversation, message_id)
                        if replayed is None:
                            conflicts += 1
                        else:
                            recovered += replayed
                        continue
                    refused = await self._refusal(conversation, authorize)
                    if refused is not None:
                        # What a replay just did still has to be shown, whoever's message set it off.
                        return Reply([*recovered, *refused.views], refused.state, taken=bool(recovered))
                try:
                    conversation, decision = decide(conversation)
                except IllegalTransition as exc:
                    log.error("a decision outside the table: %s", exc)
                    return Reply([Notice(f"That isn't possible right now ({exc}).", "error")],
                                 conversation.state if conversation else None)
                if not decision.taken:  # what it re-shows (the open question) a replay may have just shown
                    decision.views = [view for view in decision.views if view not in recovered]
                if conversation is None or not decision.save:
                    return Reply(recovered + decision.views, conversation.state if conversation else None,
                                 taken=decision.save and decision.taken)
                conversation.updated_at = self._clock()
                if decision.call is not None or any(isinstance(v, (Question, ReviewCard)) for v in decision.views):
                    conversation.shown_by = message_id  # this message's handling shows the step it leads to
                if decision.call is None:
                    conversation.mark_processed(message_id)
                    self._note_question(conversation)
                    if await self._store.save(conversation):
                        return Reply(recovered + decision.views, conversation.state, taken=decision.taken)
                    conflicts += 1
                    continue
                token = lease_token()
                conversation.pending = PendingCall(op=decision.call.op, args=decision.call.args,
                                                   message_id=message_id, started_at=self._clock())
                if not await self._store.save(conversation, lease=token):
                    conflicts += 1
                    continue
                if queued:  # no longer waiting: whoever is next waits on this call's lease now
                    await self._store.leave_queue(ref, message_id)
                    queued = False
                views = recovered + decision.views + await self._run(conversation, token)
                self._note_question(conversation)
                if await self._store.save(conversation, release=token):
                    return Reply(views, conversation.state, taken=True)
                return Reply([*views, Notice(wording.CHANGED_MEANWHILE)], conversation.state, taken=True)
            return Reply([Notice(wording.BUSY, "error")], None)
        finally:
            if queued:
                await self._store.leave_queue(ref, message_id)

    async def _run(self, conversation: Conversation, token: str) -> list[View]:
        """Make the pending call, keeping its lease alive meanwhile. If this process dies, the heartbeat dies with
        it and the lease lapses; it is let go of only by the write that records the outcome."""
        keeper = asyncio.create_task(self._keep_lease(conversation.ref, token))
        try:
            return await self._calls.run(conversation)
        finally:
            keeper.cancel()

    async def _keep_lease(self, ref: ConversationRef, token: str) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                if not await self._store.keep_lease(ref, token):
                    log.warning("lost the lease of the call pending in %s", ref.conversation_id)
                    return
            except Exception as exc:  # Redis hiccup: the next beat tries again, well within the lease
                log.warning("cannot renew the lease in %s (%s)", ref.conversation_id, type(exc).__name__)

    def _note_question(self, conversation: Conversation) -> None:
        """Remember when the open question was asked (an answer sent before it answers an earlier one)."""
        question = next_question(conversation) if conversation.state == State.ASKING else None
        asked = question.key if question else None
        if asked != conversation.asked:
            conversation.asked = asked
            conversation.asked_at = self._clock()

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

    async def _recover(self, conversation: Conversation, message_id: str) -> list[View] | None:
        """Replay the call a dead process left pending (safe: every call it can make is idempotent); the handler of
        `message_id`, which replays it, shows its outcome. None: another process took it over first."""
        assert conversation.pending is not None
        log.info("replaying %s left pending in %s", conversation.pending.op, conversation.conversation_id)
        conversation.pending.started_at = self._clock()
        conversation.shown_by = message_id
        token = lease_token()
        if not await self._store.save(conversation, lease=token):
            return None
        views = await self._run(conversation, token)
        self._note_question(conversation)
        await self._store.save(conversation, release=token)
        return [Notice(wording.PICKING_UP), *views]
