"""Proposal cards on their way to Slack: a queue per channel in Redis, about one message a second, each posted once.

Lanes. Every (workspace, channel) has a queue of items in arrival order: `new:<proposal>` (post a card) and
`update:<proposal>` (re-render the message showing it). A lane is scheduled work (kind "outbox"), so the scheduler's
lease gives each lane a single sender across all processes, and a lane whose sender died resumes after the lease.
Each run makes at most one Slack write and then waits out the pacing interval. When several new proposals wait for
the same thread, one digest message lists them instead of a card each.

Exactly once. Posting is recorded in three steps: (1) the members move from the queue to an in-flight post record
with a fresh post id, (2) `chat.postMessage` carries that id in the message `metadata`, (3) the Slack ts is written to
every member's record and the post leaves the in-flight set. A post still in flight when a run starts belongs to a
sender that died, lost its answer or got an error: only a rate limit proves Slack posted nothing, so only then is it
sent again at once; after any other outcome (a 5xx, `internal_error`, no answer, a crash) the lane first looks for a
message carrying its post id in the thread or channel (`conversations.replies` / `.history` with metadata) and only
posts when none is found. Slack writes are never retried blindly by the client.

The outbox is the ledger's `ProposalSink` for Slack: it decides where each card goes (the job's thread, the
PROPOSALS_CHANNEL, or the job's channel at the top level) and takes a whole page of cards together with the ledger's
cursor in one Lua script, so the cursor moves exactly when the cards are safely queued (and only if no other reader
moved it meanwhile).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.jobs import JobRecord
from bot.infra.metrics import SLACK_RATE_LIMITED
from bot.infra.scheduler import Scheduler
from bot.infra.settings import Settings
from bot.infra.storage import Redis, key, shard_of
from bot.ledger.cards import ProposalCard, ProposalUpdate
from bot.slack.blocks.contracts import ApprovalBadge, with_hire_request
from bot.slack.blocks.conversation import SlackMessage
from bot.slack.blocks.proposals import MAX_DIGEST_ENTRIES, proposal_card, proposal_digest

log = logging.getLogger(__name__)

OUTBOX_KIND = "outbox"
SLACK_TIMEOUT_SECONDS = 15
SEND_INTERVAL_SECONDS = 1.0  # Slack allows about one chat.postMessage per second per channel
DIGEST_MIN = 3  # this many new proposals waiting for one thread become a digest
DIGEST_SCAN = 200  # queue entries looked at when gathering a digest
METADATA_EVENT = "hirebot_proposal_post"
DEFAULT_RETRY_SECONDS = 5.0
LOOKUP_PAGE_SIZE = 200
LOOKUP_MAX_PAGES = 10
# Key lifetimes (docs/architecture.md, "Keys and their lifetimes"). A proposal record (`{ns}:{ws:<ws>}:proposal:<id>`,
# the card and where it was posted) and a post record (`{ns}:{ws:<ws>}:outbox:post:<id>`) serve the card's buttons and
# later status edits: as long as the job's proposals may change, 90 days from their last write. A lane's `queue` and
# `inflight` and the workspace's `outbox:pending` hold work not yet done: no TTL (an expiry would drop cards), and
# Redis deletes each once it is empty. A lane's `next` (pacing) expires after an hour. The workspace's `outbox:seq`
# orders its queue entries: no TTL, one small counter per workspace (restarting it would put new entries ahead of
# older ones). Every workspace that ever queued a card is listed in one of `WORKSPACE_SHARDS` sets
# (`{ns}:{outbox:workspaces-<n>}`, no TTL: one id per workspace) so `wake_pending` and `depth` find every pending set;
# all of a workspace's outbox keys share its hash tag, so each script and transaction stays in one Cluster slot.
WORKSPACE_SHARDS = 8
PROPOSAL_TTL_SECONDS = 90 * 24 * 3600
RATE_LIMIT_ERRORS = {"ratelimited", "rate_limited"}
RETRYABLE_ERRORS = RATE_LIMIT_ERRORS | {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}

# KEYS: cursor, then the keys each action names by position (its record, its lane's queue, the workspace's seq and
#   pending set; an update's lane as read before the script, checked here before anything is written)
# ARGV: expected cursor ('' = none), new cursor, actions (JSON), proposal record TTL (s)
_COMMIT_PAGE = """
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return {'moved'} end
local actions = cjson.decode(ARGV[3])
for _, a in ipairs(actions) do
  if a.op == 'update' then
    local state, channel = unpack(redis.call('HMGET', KEYS[a.record], 'state', 'channel'))
    if (state == 'posting' or state == 'posted') and channel ~= a.channel then return {'lane-changed'} end
  end
end
redis.call('SET', KEYS[1], ARGV[2])
local touched, out = {}, {'ok'}
for _, a in ipairs(actions) do
  local record = KEYS[a.record]
  local state = redis.call('HGET', record, 'state')
  local channel, item = nil, nil
  if a.op == 'new' and not state then
    redis.call('HSET', record, 'card', a.card, 'channel', a.channel, 'thread_ts', a.thread_ts, 'state', 'queued')
    redis.call('EXPIRE', record, ARGV[4])
    channel, item = a.channel, 'new:' .. a.proposal
  elseif a.op == 'update' and state then
    redis.call('HSET', record, 'card', a.card)
    redis.call('EXPIRE', record, ARGV[4])
    if state == 'posting' or state == 'posted' then
      channel, item = a.channel, 'update:' .. a.proposal
    end
  end
  if channel then
    redis.call('ZADD', KEYS[a.queue], 'NX', redis.call('INCR', KEYS[a.seq]), item)
    local lane = a.workspace .. ':' .. channel
    redis.call('SADD', KEYS[a.pending], lane)
    if not touched[lane] then touched[lane] = true; table.insert(out, lane) end
  end
end
return out
"""

# KEYS: queue, inflight, pending | ARGV: lane
_FORGET_IF_IDLE = """
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('SCARD', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[1])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Destination:
    channel: str
    thread_ts: str | None  # None: a top-level message


@dataclass(frozen=True)
class CardAction:
    """What to show in Slack: a new card (`destination` set) or a fresher version of a posted one."""

    workspace_id: str
    card: ProposalCard
    destination: Destination | None = None

    def wire(self) -> dict[str, str]:
        base = {"workspace": self.workspace_id, "proposal": self.card.proposal_id, "card": self.card.to_json()}
        if self.destination is None:
            return {**base, "op": "update"}
        return {**base, "op": "new", "channel": self.destination.channel,
                "thread_ts": self.destination.thread_ts or ""}


@dataclass(frozen=True)
class Lane:
    workspace_id: str
    channel: str

    @property
    def item_id(self) -> str:
        return f"{self.workspace_id}:{self.channel}"

    @classmethod
    def parse(cls, item_id: str) -> Lane:
        workspace_id, channel = item_id.split(":", 1)
        return cls(workspace_id, channel)


def outbox_web_client(settings: Settings, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    # No automatic retries: a repeated chat.postMessage could post twice. The outbox retries on its own terms.
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(token=token, base_url=settings.slack_url, session=session, timeout=SLACK_TIMEOUT_SECONDS,
                          retry_handlers=[])


class Outbox:
    def __init__(self, redis: Redis, namespace: str, slack: AsyncWebClient, scheduler: Scheduler, *,
                 proposals_channel: str | None = None, in_thread: bool = True,
                 clock: Callable[[], float] = time.time, send_interval: float = SEND_INTERVAL_SECONDS,
                 digest_min: int = DIGEST_MIN):
        self._redis = redis
        self._namespace = namespace
        self._slack = slack
        self._scheduler = scheduler
        self._channel = proposals_channel
        self._in_thread = in_thread
        self._clock = clock
        self._interval = send_interval
        self._digest_min = digest_min
        self._commit_page = redis.register_script(_COMMIT_PAGE)
        self._forget_if_idle = redis.register_script(_FORGET_IF_IDLE)

    def register(self, scheduler: Scheduler) -> None:
        scheduler.register(OUTBOX_KIND, lambda item: self.run_lane(Lane.parse(item.item_id)))

    # ---- keys ----------------------------------------------------------------------------------------------------

    def _ws(self, workspace_id: str, *parts: str) -> str:
        return key(self._namespace, "ws", workspace_id, *parts)

    def _record(self, workspace_id: str, proposal_id: str) -> str:
        return self._ws(workspace_id, "proposal", proposal_id)

    def _lane(self, lane: Lane, part: str) -> str:
        return self._ws(lane.workspace_id, "outbox", lane.channel, part)

    def _post(self, workspace_id: str, post_id: str) -> str:
        return self._ws(workspace_id, "outbox", "post", post_id)

    def _pending(self, workspace_id: str) -> str:
        return self._ws(workspace_id, "outbox", "pending")

    def _seq(self, workspace_id: str) -> str:
        return self._ws(workspace_id, "outbox", "seq")

    def _workspaces(self, shard: int) -> str:
        return key(self._namespace, "outbox", f"workspaces-{shard}")

    async def _list_workspace(self, workspace_ids: Iterable[str]) -> None:
        """Before any of its cards is queued: the safety net (`wake_pending`) must know every pending set."""
        for workspace_id in set(workspace_ids):
            await self._redis.sadd(self._workspaces(shard_of(workspace_id, WORKSPACE_SHARDS)), workspace_id)

    async def _pending_lanes(self) -> list[Lane]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for shard in range(WORKSPACE_SHARDS):
                pipe.smembers(self._workspaces(shard))
            workspaces = sorted({str(w) for members in await pipe.execute() for w in members})
        async with self._redis.pipeline(transaction=False) as pipe:
            for workspace_id in workspaces:
                pipe.smembers(self._pending(workspace_id))
            return [Lane.parse(str(item)) for members in await pipe.execute() for item in sorted(members)]

    # ---- the ledger's side ---------------------------------------------------------------------------------------

    def shows(self, job: JobRecord) -> bool:
        return self.destination(job) is not None

    def destination(self, job: JobRecord) -> Destination | None:
        """A channel the job was routed to (`/hire subscribe`), else the job's thread (default), PROPOSALS_CHANNEL,
        or the job's channel at the top level."""
        channel, thread_ts = _slack_location(job)
        if channel is None:
            return None  # published from the shell: not a Slack workspace
        if job.cards_to:
            return Destination(job.cards_to, None)
        if self._channel:
            return Destination(self._channel, None)
        return Destination(channel, thread_ts if self._in_thread else None)

    async def commit_page(self, cursor_key: str, expected_cursor: str | None, new_cursor: str,
                          updates: Sequence[ProposalUpdate]) -> bool:
        """The ledger's page: a new proposal is posted where its job's cards go, a status change edits its card."""
        actions = [CardAction(update.workspace_id, update.card, destination if update.received else None)
                   for update in updates if (destination := self.destination(update.job)) is not None]
        return await self.commit(cursor_key, expected_cursor, new_cursor, actions)

    async def commit(self, cursor_key: str, expected_cursor: str | None, new_cursor: str,
                     actions: list[CardAction]) -> bool:
        """Queue the cards and move the ledger cursor, atomically; False when another reader moved it first."""
        await self._list_workspace(a.workspace_id for a in actions)
        keys = [cursor_key]

        def position(name: str) -> int:  # 1-based, as Lua's KEYS
            if name not in keys:
                keys.append(name)
            return keys.index(name) + 1

        posted_in = await self._channels_of([a for a in actions if a.destination is None])
        wires = []
        for action in actions:
            workspace_id, proposal_id = action.workspace_id, action.card.proposal_id
            channel = action.destination.channel if action.destination else posted_in[(workspace_id, proposal_id)]
            wires.append({**action.wire(), "channel": channel,
                          "record": position(self._record(workspace_id, proposal_id)),
                          "queue": position(self._lane(Lane(workspace_id, channel), "queue")),
                          "seq": position(self._seq(workspace_id)), "pending": position(self._pending(workspace_id))})
        result = await self._commit_page(keys=keys, args=[
            expected_cursor or "", new_cursor, json.dumps(wires), PROPOSAL_TTL_SECONDS])
        if result[0] == "lane-changed":
            raise RuntimeError("a proposal's card was posted while its page was being committed; read it again")
        if result[0] != "ok":
            return False
        await self.wake(Lane.parse(item) for item in result[1:])
        return True

    async def wake(self, lanes: Iterable[Lane]) -> None:
        for lane in lanes:
            await self._scheduler.schedule(OUTBOX_KIND, lane.item_id, due_at=await self._next_slot(lane))

    async def _channels_of(self, updates: list[CardAction]) -> dict[tuple[str, str], str]:
        """Where each updated proposal's card was headed (its lane), read before the commit names its queue."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for action in updates:
                pipe.hget(self._record(action.workspace_id, action.card.proposal_id), "channel")
            channels = await pipe.execute()
        return {(a.workspace_id, a.card.proposal_id): str(channel or "") for a, channel in zip(updates, channels,
                                                                                          strict=True)}

    async def wake_pending(self) -> None:
        """Safety net: a lane left with work but no schedule (a crash between queueing and waking) resumes."""
        await self.wake(await self._pending_lanes())

    async def depth(self) -> int:
        """Queue entries plus posts in flight over every lane with work left (the metrics' outbox depth): two
        commands per such lane, so the cost follows the lanes still sending, not the cards ever posted."""
        lanes = await self._pending_lanes()
        async with self._redis.pipeline(transaction=False) as pipe:
            for lane in lanes:
                pipe.zcard(self._lane(lane, "queue"))
                pipe.scard(self._lane(lane, "inflight"))
            sizes = await pipe.execute()
        return sum(int(size) for size in sizes)

    async def location(self, workspace_id: str, proposal_id: str) -> tuple[str, str] | None:
        """(channel, ts) of the message showing this proposal, once posted."""
        channel, ts = await self._redis.hmget(self._record(workspace_id, proposal_id), "channel", "ts")
        return (str(channel), str(ts)) if channel and ts else None

    async def show_approval(self, workspace_id: str, proposal_id: str, badge: str) -> None:
        """A hire request on a proposal's card (`badge`: its JSON, drawn by blocks.contracts): kept with the card and
        drawn by a queued update, so it reaches Slack through the lane like any other edit."""
        record = self._record(workspace_id, proposal_id)
        state, channel = await self._redis.hmget(record, "state", "channel")
        if not state:
            return  # a card this outbox never took: nothing to draw it on
        await self._redis.hset(record, "approval", badge)
        await self._redis.expire(record, PROPOSAL_TTL_SECONDS)
        if state in ("posting", "posted"):
            lane = Lane(workspace_id, str(channel))
            await self._list_workspace([workspace_id])
            await self._requeue_update(lane, proposal_id)
            await self._redis.sadd(self._pending(workspace_id), lane.item_id)
            await self.wake([lane])

    async def stored_card(self, workspace_id: str, proposal_id: str) -> ProposalCard | None:
        """The latest card held for a proposal (for the card's buttons)."""
        raw = await self._redis.hget(self._record(workspace_id, proposal_id), "card")
        return ProposalCard.from_json(str(raw)) if raw else None

    # ---- the sender's side ---------------------------------------------------------------------------------------

    async def run_lane(self, lane: Lane) -> float | None:
        """One Slack write at most, then when to come back (None: the lane is empty)."""
        if self._clock() >= await self._next_slot(lane):
            inflight = await self._redis.smembers(self._lane(lane, "inflight"))
            if inflight:
                await self._resume(lane, min(str(post_id) for post_id in inflight))
            else:
                await self._send_next(lane)
        if await self._forget_if_idle(keys=[self._lane(lane, "queue"), self._lane(lane, "inflight"),
                                            self._pending(lane.workspace_id)],
                                      args=[lane.item_id]):
            return None
        return max(self._clock(), await self._next_slot(lane))

    async def _next_slot(self, lane: Lane) -> float:
        return float(await self._redis.get(self._lane(lane, "next")) or 0)

    async def _hold(self, lane: Lane, seconds: float) -> None:
        await self._redis.set(self._lane(lane, "next"), repr(self._clock() + seconds), ex=3600)

    async def _send_next(self, lane: Lane) -> None:
        head = await self._redis.zrange(self._lane(lane, "queue"), 0, 0)
        if not head:
            return
        kind, proposal_id = str(head[0]).split(":", 1)
        if kind == "update":
            await self._update(lane, proposal_id)
        else:
            post_id, members, thread_ts = await self._begin_post(lane, proposal_id)
            await self._deliver(lane, post_id, members, thread_ts)

    async def _begin_post(self, lane: Lane, head: str) -> tuple[str, list[str], str]:
        members, thread_ts = await self._digest_members(lane, head)
        post_id = uuid.uuid4().hex
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self._lane(lane, "queue"), *(f"new:{p}" for p in members))
            for proposal_id in members:
                pipe.hset(self._record(lane.workspace_id, proposal_id), mapping={"state": "posting", "post": post_id})
                pipe.expire(self._record(lane.workspace_id, proposal_id), PROPOSAL_TTL_SECONDS)
            pipe.hset(self._post(lane.workspace_id, post_id), mapping={
                "members": json.dumps(members), "thread_ts": thread_ts, "started_at": repr(self._clock())})
            pipe.expire(self._post(lane.workspace_id, post_id), PROPOSAL_TTL_SECONDS)
            pipe.sadd(self._lane(lane, "inflight"), post_id)
            await pipe.execute()
        return post_id, members, thread_ts

    async def _digest_members(self, lane: Lane, head: str) -> tuple[list[str], str]:
        """The head alone, or every queued new proposal for the same thread when enough of them wait."""
        queued = [str(item) for item in await self._redis.zrange(self._lane(lane, "queue"), 0, DIGEST_SCAN)]
        waiting = [item.split(":", 1)[1] for item in queued if item.startswith("new:")]
        async with self._redis.pipeline(transaction=False) as pipe:
            for proposal_id in waiting:
                pipe.hget(self._record(lane.workspace_id, proposal_id), "thread_ts")
            threads = await pipe.execute()
        thread_of: dict[str, str | None] = dict(zip(waiting, threads, strict=True))  # one reply per command sent
        same_thread = [p for p in waiting if thread_of[p] == thread_of.get(head)]
        members = same_thread[:MAX_DIGEST_ENTRIES] if len(same_thread) >= self._digest_min else [head]
        return members, thread_of.get(head) or ""

    async def _resume(self, lane: Lane, post_id: str) -> None:
        post = await self._redis.hgetall(self._post(lane.workspace_id, post_id))
        members, thread_ts = json.loads(post["members"]), str(post.get("thread_ts", ""))
        if post.get("outcome") != "refused":
            ts = await self._find_in_slack(lane, post_id, thread_ts)
            if ts is not None:
                log.info("post %s reached Slack before its sender stopped; recording it", post_id)
                await self._finish_post(lane, post_id, members, ts)
                return
        await self._deliver(lane, post_id, members, thread_ts)

    async def _deliver(self, lane: Lane, post_id: str, members: list[str], thread_ts: str) -> None:
        message = await self._render(lane.workspace_id, members, digest=len(members) > 1)
        await self._hold(lane, self._interval)
        # From here until Slack answers, the outcome is unknown: a crash makes the next run look first.
        await self._redis.hdel(self._post(lane.workspace_id, post_id), "outcome")
        try:
            # thread_ts None (a top-level post) is left out of the request by the client.
            response = await self._slack.chat_postMessage(
                channel=lane.channel, thread_ts=thread_ts or None, text=message.text, blocks=message.blocks,
                unfurl_links=False, unfurl_media=False,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"post_id": post_id}})
        except SlackApiError as exc:
            await self._post_failed(lane, post_id, members, exc)
            return
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            # It may or may not have reached Slack: the next run looks before posting again.
            log.warning("posting to %s: no answer from Slack (%s)", lane.channel, type(exc).__name__)
            return
        await self._finish_post(lane, post_id, members, str(response["ts"]))

    async def _post_failed(self, lane: Lane, post_id: str, members: list[str], exc: SlackApiError) -> None:
        error, retry_after = slack_failure(exc)
        if retry_after is not None:
            if _rate_limited(exc):
                SLACK_RATE_LIMITED.labels("outbox").inc()
                await self._redis.hset(self._post(lane.workspace_id, post_id), "outcome", "refused")
            # Otherwise Slack may have posted it before failing: still in flight, the next run looks for it first.
            await self._hold(lane, retry_after)
            log.info("Slack failed a post to %s (%s); retrying in %ss", lane.channel, error, retry_after)
            return
        log.error("cannot post proposal cards to %s (%s); %d proposal(s) not shown", lane.channel, error,
                  len(members))
        async with self._redis.pipeline(transaction=True) as pipe:
            for proposal_id in members:
                pipe.hset(self._record(lane.workspace_id, proposal_id), mapping={"state": "failed", "error": error})
                pipe.expire(self._record(lane.workspace_id, proposal_id), PROPOSAL_TTL_SECONDS)
            pipe.srem(self._lane(lane, "inflight"), post_id)
            pipe.delete(self._post(lane.workspace_id, post_id))
            await pipe.execute()

    async def _finish_post(self, lane: Lane, post_id: str, members: list[str], ts: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for proposal_id in members:
                pipe.hset(self._record(lane.workspace_id, proposal_id), mapping={"state": "posted", "ts": ts})
                pipe.expire(self._record(lane.workspace_id, proposal_id), PROPOSAL_TTL_SECONDS)
            pipe.hset(self._post(lane.workspace_id, post_id), "ts", ts)
            pipe.expire(self._post(lane.workspace_id, post_id), PROPOSAL_TTL_SECONDS)
            pipe.srem(self._lane(lane, "inflight"), post_id)
            await pipe.execute()

    async def _find_in_slack(self, lane: Lane, post_id: str, thread_ts: str) -> str | None:
        return await find_post(self._slack, lane.channel, thread_ts, post_id)

    async def _update(self, lane: Lane, proposal_id: str) -> None:
        # Taken off the queue before reading the card: a status change arriving meanwhile queues a fresh update.
        await self._redis.zrem(self._lane(lane, "queue"), f"update:{proposal_id}")
        record = await self._redis.hgetall(self._record(lane.workspace_id, proposal_id))
        if record.get("state") != "posted":
            return
        post = await self._redis.hgetall(self._post(lane.workspace_id, str(record["post"])))
        members = json.loads(post["members"])
        message = await self._render(lane.workspace_id, members, digest=len(members) > 1)
        await self._hold(lane, self._interval)
        try:
            await self._slack.chat_update(channel=lane.channel, ts=str(record["ts"]), text=message.text,
                                          blocks=message.blocks)
        except SlackApiError as exc:
            error, retry_after = slack_failure(exc)
            if retry_after is None:
                log.warning("card of proposal %s not updated (%s)", proposal_id, error)
                return
            if _rate_limited(exc):
                SLACK_RATE_LIMITED.labels("outbox").inc()
            await self._hold(lane, retry_after)
            await self._requeue_update(lane, proposal_id)
        except (TimeoutError, aiohttp.ClientError, OSError):
            await self._requeue_update(lane, proposal_id)  # an update is safe to repeat

    async def _requeue_update(self, lane: Lane, proposal_id: str) -> None:
        seq = await self._redis.incr(self._seq(lane.workspace_id))
        await self._redis.zadd(self._lane(lane, "queue"), {f"update:{proposal_id}": seq}, nx=True)

    async def _render(self, workspace_id: str, members: list[str], *, digest: bool) -> SlackMessage:
        async with self._redis.pipeline(transaction=False) as pipe:
            for proposal_id in members:
                pipe.hget(self._record(workspace_id, proposal_id), "card")
            cards = [ProposalCard.from_json(raw) for raw in await pipe.execute() if raw]
        if digest:
            return proposal_digest(cards)
        badge = await self._redis.hget(self._record(workspace_id, members[0]), "approval")
        return with_hire_request(proposal_card(cards[0]), ApprovalBadge.from_json(str(badge)) if badge else None)


async def find_post(slack: AsyncWebClient, channel: str, thread_ts: str, post_id: str) -> str | None:
    """The ts of a message carrying `post_id` in its metadata, searched where the post was headed (a thread, or the
    channel's newest messages). Raises SlackApiError when Slack fails transiently, so the caller retries without
    posting; None when not found (or not searchable), and the caller posts."""
    cursor: str | None = None  # None (the first page) is left out of the request by the client
    for _ in range(LOOKUP_MAX_PAGES):
        try:
            if thread_ts:
                page = await slack.conversations_replies(
                    channel=channel, ts=thread_ts, cursor=cursor, include_all_metadata=True,
                    limit=LOOKUP_PAGE_SIZE)
            else:
                page = await slack.conversations_history(
                    channel=channel, cursor=cursor, include_all_metadata=True, limit=LOOKUP_PAGE_SIZE)
        except SlackApiError as exc:
            if slack_failure(exc)[1] is not None:
                raise  # transient: the caller retries later, still without posting
            log.warning("cannot check %s for an unfinished post (%s); posting it again", channel,
                        slack_failure(exc)[0])
            return None
        for message in page.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("post_id") == post_id:
                return str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor or not thread_ts:
            return None  # a channel's newest messages are where a just-made post sits
    return None


def slack_failure(exc: SlackApiError) -> tuple[str, float | None]:
    """(error code, seconds to wait before retrying; None when retrying cannot help)."""
    response = exc.response
    error = str(response.get("error") or "unknown_error")
    status = getattr(response, "status_code", 200)
    if status == 429 or status >= 500 or error in RETRYABLE_ERRORS:
        headers = getattr(response, "headers", {}) or {}
        retry_after = headers.get("Retry-After") or headers.get("retry-after")
        try:
            return error, max(float(retry_after), SEND_INTERVAL_SECONDS) if retry_after else DEFAULT_RETRY_SECONDS
        except (TypeError, ValueError):
            return error, DEFAULT_RETRY_SECONDS
    return error, None


def _rate_limited(exc: SlackApiError) -> bool:
    """Slack turned the call away before doing anything, so sending it again cannot duplicate it."""
    status = getattr(exc.response, "status_code", 200)
    return status == 429 or str(exc.response.get("error")) in RATE_LIMIT_ERRORS


def _slack_location(job: JobRecord) -> tuple[str | None, str | None]:
    """(channel, root ts) of the job's root message: from the surface, else the "{channel}:{thread_ts}" ref."""
    surface = job.surface or {}
    if surface.get("channel") and surface.get("thread_ts"):
        return surface["channel"], surface["thread_ts"]
    channel, _, thread_ts = job.ref.conversation_id.partition(":")
    if channel and thread_ts and channel != "shell":
        return channel, thread_ts
    return None, None
