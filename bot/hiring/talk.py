"""Candidate conversations both ways, free of any front end: what a person writes goes to the candidate once, what
the candidate writes is shown once, in order.

A `Talk` ties an OpenTrain conversation (opened from a proposal card, `ProposalDesk.conversation_for`) to a place of
the front end (Slack: a thread), given as an opaque `place` string and a `surface` dict only the front end reads.

Out (a person -> the candidate). `accept` checks who writes (authz `MESSAGE_CANDIDATE`, at that moment) and the
length (at most 10,000 characters: longer is refused, never cut), then queues the message under the front end's id
for it (Slack: the message ts), so a redelivery queues nothing twice. A conversation's queue is scheduled work (kind
`talk-out`, item `{ws}:{conversation}`): the scheduler's lease gives it one sender at a time, in the order written.
`POST /messages` is not idempotent (contract §4.6), so a send is marked `unknown` before it leaves; a send that ends
unknown (5xx, no answer, a crash) is only repeated once the conversation's newest messages show no unclaimed message
of ours with the same text since shortly before it started (messages the relay saw sent are claimed, by id). A 429
proves nothing was sent: the writer hears it will go later, and it goes after the wait. Refusals (policy block,
employer first, read-only, ...) are explained and dropped.

In (the candidate -> the front end). `message.received` on the ledger rings `ring` (kind `talk-in`, same item); the
run reads `GET /messages?direction=newer` from the conversation's cursor (the id of the last message taken: a
tailing reader's position, since the page's `nextCursor` is null at the end) and hands each candidate message to the
front end, marking it `inflight` first: a message found in flight was maybe shown by a run that died, and the front
end looks for it before showing it again. The cursor moves past a message only once it is shown. Our own messages
(`isFromViewer`) are not echoed back.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, Protocol

from bot.hiring import wording
from bot.hiring.accounts import Accounts
from bot.hiring.authz import Action
from bot.hiring.proposals import ProposalAsk, ProposalDesk
from bot.hiring.views import Words
from bot.infra.scheduler import ScheduledItem, Scheduler
from bot.infra.storage import Redis, key
from bot.opentrain import errors
from bot.opentrain.client import OpenTrainClient
from bot.opentrain.models import Message

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 10_000
TALK_OUT_KIND, TALK_IN_KIND = "talk-out", "talk-in"
LEASE_SECONDS = 10.0  # a killed worker's conversation is taken over this soon
# A talk, its queue and its sent ids live as long as the proposal card they hang off (90 days from the last write).
TALK_TTL_SECONDS = 90 * 24 * 3600
# A queued message that was handled stays this long, so a late redelivery of the same Slack message is not queued again.
HANDLED_TTL_SECONDS = 24 * 3600
OPENING_SECONDS = 30
PAGE_SIZE = 50
LOOKBACK = 100  # newest messages searched for a send whose outcome is unknown
CLOCK_SKEW_SECONDS = 300.0
RETRY_SECONDS = 10.0
DEFAULT_RATE_LIMIT_SECONDS = 30.0
TRANSIENT = (errors.RateLimited, errors.ServerError, errors.TransportError)


@dataclass(frozen=True)
class Talk:
    workspace_id: str
    conversation_id: str
    proposal_id: str
    job_id: str
    candidate: str  # the masked name shown on the card
    surface: dict[str, str]  # where the front end shows it (Slack: channel, thread_ts)
    cursor: str = ""  # the last message taken from OpenTrain
    inflight: str = ""  # a message handed to the front end whose showing is not confirmed


@dataclass(frozen=True)
class Outgoing:
    key: str  # the front end's id of the written message (Slack: its ts)
    user_id: str
    text: str
    written_at: float = 0.0  # orders the queue: messages go in the order they were written


@dataclass(frozen=True)
class Refusal:
    words: Words
    private: bool  # only the writer should see it (someone not allowed to write to candidates)


@dataclass(frozen=True)
class SendVerdict:
    """What a failed send means: `refused` (explain, drop), `later` (provably not sent: wait, then send),
    `unknown` (maybe sent: look before sending again)."""

    kind: Literal["refused", "later", "unknown"]
    words: Words
    retry_in: float = 0.0


class TalkFront(Protocol):
    """What a front end does for the relay."""

    async def show(self, talk: Talk, message: Message, post_id: str, *, maybe_shown: bool) -> bool:
        """Show a candidate's message (once: `maybe_shown` says an earlier attempt may have); False to retry later."""

    async def delivered(self, talk: Talk, outgoing: Outgoing) -> None: ...

    async def explain(self, talk: Talk, outgoing: Outgoing, words: Words) -> None:
        """Tell the writer what happened to their message (refused, or going later)."""


def too_long(text: str) -> Words | None:
    if len(text) <= MAX_MESSAGE_CHARS:
        return None
    return (f"Not sent: this message is {len(text):,} characters and OpenTrain takes at most "
            f"{MAX_MESSAGE_CHARS:,}. Nothing was cut or sent; split it into shorter messages and send them again.",)


def after_failure(exc: errors.OpenTrainError, candidate: str) -> SendVerdict:
    """What a failed `POST /messages` means for the queued message (pure: tested cell by cell)."""
    if isinstance(exc, errors.RateLimited):
        wait = max(1.0, float(exc.retry_after) if exc.retry_after is not None else DEFAULT_RATE_LIMIT_SECONDS)
        return SendVerdict("later", (f"OpenTrain is limiting messages right now; I'll send this to {candidate} in "
                                     f"about {wait:.0f} seconds.",), wait)
    if isinstance(exc, (errors.ServerError, errors.TransportError)):
        return SendVerdict("unknown", (), RETRY_SECONDS)
    if isinstance(exc, errors.ClaimRequired):
        return SendVerdict("refused", (f"Not sent: {wording.CLAIM_BY_ADMIN}",))
    reason = exc.reason
    if reason == "message_policy_blocked":
        policy = exc.details.get("policy")
        which = f" ({policy})" if isinstance(policy, str) and policy else ""
        return SendVerdict("refused", (f"Not sent: OpenTrain's messaging policy{which} blocked this message. Contact "
                                       "details and requests to move off OpenTrain aren't allowed; rephrase it and "
                                       "send it again.",))
    if reason == "employer_first_message_required":
        return SendVerdict("refused", (f"Not sent: OpenTrain wants the job's owner to write to {candidate} first. "
                                       "Send the first message from the job's OpenTrain account, then write here.",))
    if reason == "read_only_conversation":
        return SendVerdict("refused", (f"Not sent: the conversation with {candidate} is read-only in OpenTrain now, "
                                       "so nothing more can be sent here.",))
    if reason == "message_blocked":
        return SendVerdict("refused", ("Not sent: OpenTrain blocked this message.",))
    return SendVerdict("refused", (f"Not sent. {wording.refusal(exc)}",))


# KEYS: the message's record, the conversation's queue | ARGV: text, user, order, message key, TTL (s)
_QUEUE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'text', ARGV[1], 'user', ARGV[2], 'state', 'queued')
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return 1
"""


class CandidateTalks:
    def __init__(self, redis: Redis, namespace: str, accounts: Accounts, desk: ProposalDesk, scheduler: Scheduler,
                 *, clock: Callable[[], float] = time.time):
        self._redis = redis
        self._namespace = namespace
        self._accounts = accounts
        self._desk = desk
        self._scheduler = scheduler
        self._clock = clock
        self._front: TalkFront | None = None
        self._queue = redis.register_script(_QUEUE)

    def register(self, front: TalkFront) -> None:
        """Relay in this process (background work), showing through `front`."""
        self._front = front
        self._scheduler.register(TALK_OUT_KIND, self._run_out, lease_seconds=LEASE_SECONDS)
        self._scheduler.register(TALK_IN_KIND, self._run_in, lease_seconds=LEASE_SECONDS)

    # ---- keys: `{ns}:{ws:{ws}}:talk:{conversation}` (hash) and its `:sent` (ids), `:out` (queue), `:out:{key}`
    # (one queued message); `{ns}:{ws:{ws}}:talk-at:{place}` -> conversation. Every one expires (TALK_TTL_SECONDS).

    def _talk(self, workspace_id: str, conversation_id: str, *parts: str) -> str:
        return key(self._namespace, "ws", workspace_id, "talk", conversation_id, *parts)

    def _place(self, workspace_id: str, place: str) -> str:
        return key(self._namespace, "ws", workspace_id, "talk-at", place)

    # ---- opening

    async def open(self, ask: ProposalAsk) -> tuple[str | None, Words | None]:
        """(conversation id, None), or (None, why not): the desk checks the workspace, the person and the job."""
        return await self._desk.conversation_for(ask)

    async def claim_opening(self, workspace_id: str, conversation_id: str) -> bool:
        """One opener at a time per conversation (a double click posts one thread root); lapses after 30 s."""
        opening = self._talk(workspace_id, conversation_id, "opening")
        return bool(await self._redis.set(opening, "1", nx=True, ex=OPENING_SECONDS))

    async def find(self, workspace_id: str, conversation_id: str) -> Talk | None:
        stored = await self._redis.hgetall(self._talk(workspace_id, conversation_id))
        raw = {str(k): str(v) for k, v in stored.items()}
        if not raw:
            return None
        return Talk(workspace_id, conversation_id, raw["proposal"], raw["job"], raw["candidate"],
                    json.loads(raw["surface"]), raw.get("cursor", ""), raw.get("inflight", ""))

    async def at(self, workspace_id: str, place: str) -> Talk | None:
        conversation_id = await self._redis.get(self._place(workspace_id, place))
        return await self.find(workspace_id, str(conversation_id)) if conversation_id else None

    async def tie(self, talk: Talk, place: str) -> bool:
        """Record where the conversation is shown; False (nothing changed) when it is already tied somewhere."""
        record = self._talk(talk.workspace_id, talk.conversation_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(record, "proposal", talk.proposal_id)
            pipe.hset(record, mapping={"job": talk.job_id, "candidate": talk.candidate,
                                       "surface": json.dumps(talk.surface)})
            pipe.expire(record, TALK_TTL_SECONDS)
            pipe.set(self._place(talk.workspace_id, place), talk.conversation_id, ex=TALK_TTL_SECONDS)
            new, *_ = await pipe.execute()
        if new:  # anything the candidate already wrote shows up now
            await self.ring(talk.workspace_id, talk.conversation_id)
        return bool(new)

    # ---- out: a person -> the candidate

    async def accept(self, talk: Talk, outgoing: Outgoing) -> Refusal | None:
        """Queue `outgoing` for the candidate, or say why not. Accepting the same message again does nothing."""
        ask = ProposalAsk(talk.workspace_id, outgoing.user_id, talk.proposal_id, talk.job_id)
        if (refused := await self._desk.may(ask, Action.MESSAGE_CANDIDATE)) is not None:
            return Refusal(refused, private=True)
        if (long := too_long(outgoing.text)) is not None:
            return Refusal(long, private=False)
        queued = await self._queue(
            keys=[self._talk(talk.workspace_id, talk.conversation_id, "out", outgoing.key),
                  self._talk(talk.workspace_id, talk.conversation_id, "out")],
            args=[outgoing.text, outgoing.user_id, outgoing.written_at or self._clock(), outgoing.key,
                  TALK_TTL_SECONDS])
        if queued:  # else a redelivery of a message already queued (or already sent)
            await self._schedule(TALK_OUT_KIND, talk)
        return None

    async def _run_out(self, item: ScheduledItem) -> float | None:
        workspace_id, conversation_id = item.item_id.split(":", 1)
        talk = await self.find(workspace_id, conversation_id)
        queue = self._talk(workspace_id, conversation_id, "out")
        head = await self._redis.zrange(queue, 0, 0)
        if talk is None or not head:
            return None
        # A 429 holds the whole conversation until its wait is over, even if a new message rings the queue sooner.
        hold = float(await self._redis.hget(self._talk(workspace_id, conversation_id), "out_after") or 0)
        if self._clock() < hold:
            return hold
        outgoing_key = str(head[0])
        record_key = self._talk(workspace_id, conversation_id, "out", outgoing_key)
        record = {str(k): str(v) for k, v in (await self._redis.hgetall(record_key)).items()}
        if not record:  # expired unsent: nothing left to send
            await self._redis.zrem(queue, outgoing_key)
            return self._clock()
        outgoing = Outgoing(outgoing_key, record.get("user", ""), record["text"])
        client = await self._accounts.client_for(workspace_id)
        if record.get("state") == "unknown":
            try:
                sent_id = await self._find_sent(client, talk, outgoing, float(record.get("started_at") or 0))
            except TRANSIENT:
                return self._clock() + RETRY_SECONDS
            if sent_id is not None:
                log.info("message %s reached OpenTrain before its outcome was known; not sending it again",
                         sent_id)
                await self._delivered(talk, outgoing, sent_id)
                return self._clock()
        # From here until OpenTrain answers, the outcome is unknown: a crash makes the next run look first.
        await self._redis.hset(record_key, mapping={"state": "unknown", "started_at": repr(self._clock())})
        try:
            sent = await client.send_message(conversation_id, outgoing.text)
        except errors.OpenTrainError as exc:
            return await self._failed(talk, outgoing, record, after_failure(exc, talk.candidate))
        await self._delivered(talk, outgoing, sent.message.id)
        return self._clock()

    async def _failed(self, talk: Talk, outgoing: Outgoing, record: dict, verdict: SendVerdict) -> float:
        record_key = self._talk(talk.workspace_id, talk.conversation_id, "out", outgoing.key)
        if verdict.kind == "unknown":
            log.warning("sending to conversation %s: outcome unknown; checking before any retry", talk.conversation_id)
            return self._clock() + verdict.retry_in
        if verdict.kind == "later":
            await self._redis.hset(record_key, "state", "queued")  # a 429: provably not sent
            await self._redis.hset(self._talk(talk.workspace_id, talk.conversation_id), "out_after",
                                   repr(self._clock() + verdict.retry_in))
            if not record.get("told"):
                await self._redis.hset(record_key, "told", "1")
                await self._tell(talk, outgoing, verdict.words)
            return self._clock() + verdict.retry_in
        await self._done(talk, outgoing, "refused")
        await self._tell(talk, outgoing, verdict.words)
        return self._clock()

    async def _tell(self, talk: Talk, outgoing: Outgoing, words: Words) -> None:
        assert self._front is not None
        await self._front.explain(talk, outgoing, words)

    async def _delivered(self, talk: Talk, outgoing: Outgoing, message_id: str) -> None:
        sent = self._talk(talk.workspace_id, talk.conversation_id, "sent")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(sent, message_id)
            pipe.expire(sent, TALK_TTL_SECONDS)
            await pipe.execute()
        await self._done(talk, outgoing, "sent")
        assert self._front is not None
        await self._front.delivered(talk, outgoing)

    async def _done(self, talk: Talk, outgoing: Outgoing, state: str) -> None:
        record_key = self._talk(talk.workspace_id, talk.conversation_id, "out", outgoing.key)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self._talk(talk.workspace_id, talk.conversation_id, "out"), outgoing.key)
            pipe.hset(record_key, "state", state)
            pipe.expire(record_key, HANDLED_TTL_SECONDS)
            await pipe.execute()

    async def _find_sent(self, client: OpenTrainClient, talk: Talk, outgoing: Outgoing,
                         started_at: float) -> str | None:
        """The id of our message with this text, sent since shortly before the attempt and not yet claimed."""
        page = await client.list_messages(talk.conversation_id, direction="older", limit=LOOKBACK)
        claimed = await self._redis.smembers(self._talk(talk.workspace_id, talk.conversation_id, "sent"))
        for message in page.messages:
            if message.is_from_viewer and message.content == outgoing.text and message.id not in claimed \
                    and _epoch(message.created_at, default=started_at) >= started_at - CLOCK_SKEW_SECONDS:
                return message.id
        return None

    # ---- in: the candidate -> the front end

    async def ring(self, workspace_id: str, conversation_id: str) -> None:
        """The ledger saw `message.received`: read the conversation now, if it is shown anywhere."""
        if conversation_id and await self._redis.exists(self._talk(workspace_id, conversation_id)):
            await self._scheduler.schedule(TALK_IN_KIND, f"{workspace_id}:{conversation_id}")

    async def _run_in(self, item: ScheduledItem) -> float | None:
        workspace_id, conversation_id = item.item_id.split(":", 1)
        talk = await self.find(workspace_id, conversation_id)
        if talk is None:
            return None
        client = await self._accounts.client_for(workspace_id)
        try:
            page = await client.list_messages(conversation_id, direction="newer", cursor=talk.cursor or None,
                                              limit=PAGE_SIZE)
        except TRANSIENT:
            return self._clock() + RETRY_SECONDS
        except errors.OpenTrainError as exc:
            log.warning("conversation %s unreadable (%s); not relaying it", conversation_id, type(exc).__name__)
            return None
        record = self._talk(workspace_id, conversation_id)
        assert self._front is not None
        for message in page.messages:
            if not message.is_from_viewer and not message.system:
                maybe_shown = talk.inflight == message.id
                if not maybe_shown:
                    await self._redis.hset(record, "inflight", message.id)
                if not await self._front.show(talk, message, f"{conversation_id}:{message.id}",
                                              maybe_shown=maybe_shown):
                    return self._clock() + RETRY_SECONDS
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(record, "cursor", message.id)
                pipe.hdel(record, "inflight")
                pipe.expire(record, TALK_TTL_SECONDS)
                await pipe.execute()
            talk = replace(talk, cursor=message.id, inflight="")
        return self._clock() if page.next_cursor else None

    async def _schedule(self, kind: str, talk: Talk) -> None:
        await self._scheduler.schedule(kind, f"{talk.workspace_id}:{talk.conversation_id}")


def _epoch(iso_time: str | None, *, default: float) -> float:
    try:
        return datetime.fromisoformat(str(iso_time).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default
