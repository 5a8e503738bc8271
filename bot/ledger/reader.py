"""The `/updates` ledger reader: proposal events of a workspace's OpenTrain account become cards, exactly once.

OpenTrain's advice, followed literally: the `/updates` feed is the ledger and a webhook is only the doorbell. Each
workspace's read is scheduled work (kind "ledger", item = workspace id), so the scheduler's lease lets only one
process read a ledger at a time. A read takes a page from the cursor kept in Redis, fetches each new proposal
(`GET /proposals/{id}`) for jobs the sink shows, and hands the cards to the sink together with the new cursor in one
atomic step. Nothing polls a job's proposal list: the cost follows the number of events.

A proposal OpenTrain will not serve (404, 403, 400, 409, an unreadable answer) gets no card and the read moves past
its event: retrying could not help, and holding the page would keep every later card of the workspace back. When a
fetch fails transiently (429, 5xx, no answer) the events before it are committed and the next read resumes from it,
after the 429's Retry-After or a poll interval.

Cadence: every OPENTRAIN_POLL_SECONDS while events flow, backing off (up to 4x) while the ledger is idle; a publish
or a webhook delivery schedules a read at once; with an active webhook, polling is only a slow safety net. A read
stopped by its page bound (MAX_PAGES_PER_READ) while more is waiting is due again at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from bot.hiring.accounts import Accounts
from bot.hiring.jobs import LEDGER_KIND, JobRecord, list_workspaces_with_jobs, lookup_job
from bot.infra.scheduler import Scheduler
from bot.infra.storage import Redis, key
from bot.ledger.cards import ProposalCard, ProposalSink, ProposalUpdate
from bot.ledger.money import MONEY_EVENTS, MoneyLedger
from bot.ledger.webhooks import Doorbell, WebhookSubscriptions
from bot.opentrain import errors
from bot.opentrain.client import OpenTrainClient
from bot.opentrain.models import Event

log = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_PAGES_PER_READ = 10
IDLE_BACKOFF_FACTOR = 4  # an idle ledger is read at most this many poll intervals apart
WEBHOOK_SAFETY_SECONDS = 600.0  # with a working doorbell, a read at least this often anyway
RECEIVED, STATUS_CHANGED = "proposal.received", "proposal.status_changed"
MESSAGE_RECEIVED = "message.received"
TRANSIENT = (errors.RateLimited, errors.ServerError, errors.TransportError)
# Keys under `{ns}:{ws:{ws}}:ledger:`. `cursor` lives forever: it is where the workspace's /updates feed was read to,
# and losing it would re-read the whole feed. `idle` and `refused` count reads in a row and are deleted by the next
# read that goes otherwise; a day's TTL drops one a workspace stopped reading.
COUNTER_TTL_SECONDS = 24 * 3600
# `read-at`: when the last read that reached the end of the feed began (the metrics' ledger lag). It lives as long as
# the jobs index that lists the workspace (90 days from the last publish or proposal event), refreshed by each read.
READ_AT_TTL_SECONDS = 90 * 24 * 3600


class ProposalLedger:
    def __init__(self, redis: Redis, namespace: str, accounts: Accounts, sink: ProposalSink, *,
                 poll_seconds: float = 30.0, subscriptions: WebhookSubscriptions | None = None,
                 clock: Callable[[], float] = time.time, money: MoneyLedger | None = None,
                 conversations: Callable[[str, str], Awaitable[None]] | None = None):
        self._redis = redis
        self._namespace = namespace
        self._accounts = accounts
        self._sink = sink
        self._poll = poll_seconds
        self._subscriptions = subscriptions
        self._clock = clock
        self._money = money  # approvals, contracts, budgets (ledger/money.py)
        # `message.received` rings the conversation's reader (bot/hiring/talk.py): (workspace, conversation id).
        # Rung before the page commits, so a crash in between rings it again; a ring is idempotent.
        self._conversations = conversations

    def register(self, scheduler: Scheduler) -> None:
        scheduler.register(LEDGER_KIND, lambda item: self.read(item.item_id))

    async def resume(self, scheduler: Scheduler) -> None:
        """After a restart: read every known ledger now and finish whatever the sink left half-sent."""
        for workspace_id in await list_workspaces_with_jobs(self._redis, self._namespace):
            await scheduler.schedule(LEDGER_KIND, workspace_id)
        await self._sink.wake_pending()

    def _key(self, workspace_id: str, part: str) -> str:
        return key(self._namespace, "ws", workspace_id, "ledger", part)

    async def read(self, workspace_id: str) -> float:
        """Read the ledger up to its end (bounded); returns when to read it next."""
        started = self._clock()
        await self._sink.wake_pending()
        client = await self._accounts.client_for(workspace_id)
        doorbell = self._subscriptions is not None and await self._subscriptions.ensure(workspace_id, client)
        handled, more = 0, False
        for _ in range(MAX_PAGES_PER_READ):
            try:
                count, more = await self._read_page(workspace_id, client)
            except errors.RateLimited as exc:
                return self._clock() + max(float(exc.retry_after or self._poll), 1.0)
            except (errors.ServerError, errors.TransportError) as exc:
                log.warning("ledger of workspace %s unreadable (%s); trying later", workspace_id, type(exc).__name__)
                return self._clock() + self._poll
            except errors.Unauthorized:
                return await self._after_refused_token(workspace_id)
            handled += count
            if not more:
                break
        if not more:
            # Every event OpenTrain had when this read began is now queued as a card, or known to need none.
            await self._redis.set(self._key(workspace_id, "read-at"), repr(started), ex=READ_AT_TTL_SECONDS)
        return await self._next_read(workspace_id, handled, doorbell, more_waiting=more)

    async def read_to_end_at(self, workspace_id: str) -> float | None:
        """When the latest read that reached the end of the workspace's feed began (None: none yet). A value at or
        after a moment means every event OpenTrain had then was handed on (the shell waits on it)."""
        started = await self._redis.get(self._key(workspace_id, "read-at"))
        return float(started) if started is not None else None

    async def _after_refused_token(self, workspace_id: str) -> float:
        """A claim revokes every pre-claim token, so a read racing the token swap is refused once: read again soon
        with the stored (new) token. A token that stays refused backs off to the idle cadence."""
        refusals = await self._count(self._key(workspace_id, "refused"))
        log.warning("ledger of workspace %s: OpenTrain refused the token (%d in a row); reading again soon",
                    workspace_id, refusals)
        return self._clock() + min(2.0 ** refusals, self._poll * IDLE_BACKOFF_FACTOR)

    async def _count(self, counter: str) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(counter)
            pipe.expire(counter, COUNTER_TTL_SECONDS)
            count, _ = await pipe.execute()
        return int(count)

    async def _next_read(self, workspace_id: str, handled: int, doorbell: bool, *, more_waiting: bool) -> float:
        await self._redis.delete(self._key(workspace_id, "refused"))
        idle_key = self._key(workspace_id, "idle")
        idle = 0 if handled else await self._count(idle_key)
        if handled:
            await self._redis.delete(idle_key)
        if more_waiting:
            return self._clock()  # only the page bound stopped this read; a pass of other due work comes first
        if doorbell:
            return self._clock() + max(WEBHOOK_SAFETY_SECONDS, self._poll)
        backoff: int = min(2 ** idle, IDLE_BACKOFF_FACTOR)  # typeshed: int ** int is Any (a negative power is a float)
        return self._clock() + self._poll * backoff

    async def _read_page(self, workspace_id: str, client: OpenTrainClient) -> tuple[int, bool]:
        """One page: (events consumed, whether more is waiting). A transient fetch failure is raised once the events
        before it are committed, so the read resumes from that event when the failure allows."""
        cursor_key = self._key(workspace_id, "cursor")
        stored_cursor = await self._redis.get(cursor_key)
        cursor = str(stored_cursor) if stored_cursor is not None else None
        page = await client.updates(cursor=cursor, limit=PAGE_SIZE)
        events = page.events
        updates: list[ProposalUpdate] = []
        consumed = 0
        interrupted: errors.OpenTrainError | None = None
        for event in events:
            try:
                update = await self._update(workspace_id, client, event)
            except TRANSIENT as exc:
                log.info("proposal fetch failed (%s); the ledger resumes from event %s", type(exc).__name__,
                         event.id)
                interrupted = exc
                break
            if update is not None:
                updates.append(update)
            consumed += 1
        committed = bool(consumed) and await self._sink.commit_page(cursor_key, cursor, events[consumed - 1].id,
                                                                    updates)
        if consumed and not committed:
            log.info("ledger of workspace %s moved by another reader; this page is theirs", workspace_id)
        if interrupted is not None:
            raise interrupted
        return (consumed, page.has_more) if committed else (0, False)

    async def _update(self, workspace_id: str, client: OpenTrainClient, event: Event) -> ProposalUpdate | None:
        if event.type == MESSAGE_RECEIVED and self._conversations is not None:
            await self._conversations(workspace_id, str(event.data.get("conversationId") or ""))
            return None
        if self._money is not None and event.type in MONEY_EVENTS:
            await self._money.handle(workspace_id, client, event)  # before the cursor moves past it
        if event.type not in (RECEIVED, STATUS_CHANGED):
            return None
        # `data` is the event's free-form payload, camelCase on the wire (contract §2.12.1).
        proposal_id = event.data.get("proposalId") or event.resource_id
        job = await self._job(event.job_id or event.data.get("jobId"))
        if not proposal_id or job is None or job.workspace_id != workspace_id:
            return None  # not a job published from this workspace
        if not self._sink.shows(job) or (job.closed and event.type == RECEIVED):
            return None  # published from the shell (no card, so no fetch), or closed from Slack (no new cards)
        try:
            detail = await client.get_proposal(proposal_id)
        except (*TRANSIENT, errors.Unauthorized):
            raise  # about OpenTrain or the token, not this proposal: the read stops and resumes from this event
        except errors.OpenTrainError as exc:
            # Asking again cannot help, and holding the page would keep every later card back: no card for this one.
            log.warning("proposal %s unreadable (%s, HTTP %s); no card", proposal_id, type(exc).__name__,
                        exc.status)
            return None
        card = ProposalCard.read(detail, job_url=job.job_url, links=client.links)
        # A status change for a proposal never carded is harmless: the sink ignores updates of unknown cards.
        return ProposalUpdate(workspace_id, job, card, received=event.type == RECEIVED)

    async def _job(self, job_id: str | None) -> JobRecord | None:
        return await lookup_job(self._redis, self._namespace, str(job_id)) if job_id else None


async def ledger_lags(redis: Redis, namespace: str, now: float) -> tuple[dict[str, float], int]:
    """(seconds since the last read to the end of each workspace's feed began, by workspace; how many workspaces
    with jobs have no such read yet). No unread event of a workspace is older than its lag."""
    workspaces = await list_workspaces_with_jobs(redis, namespace)
    if not workspaces:
        return {}, 0
    async with redis.pipeline(transaction=False) as pipe:  # one GET each: the keys lie in every workspace's slot
        for workspace_id in workspaces:
            pipe.get(key(namespace, "ws", workspace_id, "ledger", "read-at"))
        read_at = await pipe.execute()
    lags = {workspace_id: max(0.0, now - float(at))
            for workspace_id, at in zip(workspaces, read_at, strict=True) if at is not None}
    return lags, len(workspaces) - len(lags)


def doorbell(scheduler: Scheduler) -> Doorbell:
    """What a webhook delivery does: the workspace's ledger is read now instead of at the next poll."""

    async def ring(workspace_id: str) -> None:
        await scheduler.schedule(LEDGER_KIND, workspace_id)

    return ring
