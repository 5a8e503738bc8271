"""One tracker for every co-signed approval (hire, fund, release, end): from the request to its end, shown once.

The bot never moves money: OpenTrain answers a money request with a pending approval that a signed-in human confirms
or declines in the app, or that expires after ~72 h. The tracker keeps each approval the bot asked for in Redis with
the surface that started it (an opaque dict: which card a front end showed it on) and tells its observers twice: when
it is tracked (pending) and when it ends. An end is noticed three ways, whichever comes first: the ledger's
`approval.confirmed` (any terminal status), a `proposal.status_changed` of a hire's proposal, and, for an approval
past `expiresAt` that no event ended, scheduled work (kind `approval-expiry`, due at `expiresAt`) that reads it again
(`GET /approvals/{id}`, which is what flips it to expired).

Exactly once across processes: the end is recorded with a compare-and-set that also takes a short lease on showing
it; observers run under that lease and `shown` is written after them. A process that dies in between leaves the end
unshown with a lapsed lease, so the next notice of it (a re-read event, the expiry check) shows it; an observer that
fails gives the lease back at once. A notice while the lease lives schedules the expiry check just after the lease
(shown by then, it finds nothing to do); a notice after `shown` does nothing.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.hiring.accounts import Accounts
from bot.infra.scheduler import ScheduledItem, Scheduler
from bot.infra.storage import Redis, key
from bot.opentrain import errors
from bot.opentrain.models import Approval

log = logging.getLogger(__name__)

APPROVAL_EXPIRY_KIND = "approval-expiry"
# A record serves the card that shows it for as long as the card's buttons live (like the outbox's proposal records).
APPROVAL_TTL_SECONDS = 90 * 24 * 3600
SHOW_LEASE_MS = 30_000
EXPIRY_RECHECK_SECONDS = 300.0  # OpenTrain's clock may lag ours: read again a little later
TRANSIENT = (errors.RateLimited, errors.ServerError, errors.TransportError)

# KEYS: record | ARGV: status, resolved_at, result (JSON), token, now_ms, lease_ms
# -> {1, 0} when this caller shows the end, {2, lease end ms} while another shows it, {0, 0} when nothing is to show
_END = """
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'shown') == '1' then return {0, 0} end
local until_ms = tonumber(redis.call('HGET', KEYS[1], 'showing_until') or '0')
if until_ms > tonumber(ARGV[5]) then return {2, until_ms} end
if redis.call('HGET', KEYS[1], 'status') == 'pending' then
  redis.call('HSET', KEYS[1], 'status', ARGV[1], 'resolved_at', ARGV[2], 'result', ARGV[3])
end
redis.call('HSET', KEYS[1], 'showing', ARGV[4], 'showing_until', tonumber(ARGV[5]) + tonumber(ARGV[6]))
return {1, 0}
"""
SHOWS, SHOWN_ELSEWHERE = 1, 2

# KEYS: record | ARGV: token
_RELEASE = """
if redis.call('HGET', KEYS[1], 'showing') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'showing', 'showing_until')
return 1
"""

# KEYS: record | ARGV: token
_SHOWN = """
if redis.call('HGET', KEYS[1], 'showing') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'shown', '1')
redis.call('HDEL', KEYS[1], 'showing', 'showing_until')
return 1
"""


@dataclass(frozen=True)
class TrackedApproval:
    """An approval the bot asked for, as the tracker keeps it."""

    workspace_id: str
    approval_id: str
    type: str  # proposal_hire, milestone_fund, milestone_approve, contract_end
    status: str  # pending, confirmed, declined, expired
    requested_by: str  # the person who asked, as the front end names them
    approval_url: str
    expires_at: str | None
    job_id: str | None = None
    proposal_id: str | None = None
    contract_id: str | None = None
    milestone_id: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    surface: dict[str, Any] = field(default_factory=dict)  # the front end's: where it showed the request

    @property
    def pending(self) -> bool:
        return self.status == "pending"

    def fields(self) -> dict[Any, Any]:
        """Redis hash fields: JSON each, but `status` a bare word (the end's compare-and-set reads and writes it)."""
        return {name: value if name == "status" else json.dumps(value) for name, value in asdict(self).items()}

    @classmethod
    def read(cls, stored: Mapping[Any, Any]) -> TrackedApproval:
        values = {name: json.loads(stored[name]) for name in cls.__dataclass_fields__
                  if name in stored and name != "status"}
        return cls(**values, status=str(stored.get("status") or "pending"))


class ApprovalObserver(Protocol):
    async def approval_changed(self, approval: TrackedApproval) -> None:
        """Show `approval` where its surface says: just requested (pending) or ended. Safe to repeat."""


class ApprovalTracker:
    def __init__(self, redis: Redis, namespace: str, accounts: Accounts, scheduler: Scheduler, *,
                 clock: Callable[[], float] = time.time):
        self._redis = redis
        self._namespace = namespace
        self._accounts = accounts
        self._scheduler = scheduler
        self._clock = clock
        self._observers: list[ApprovalObserver] = []
        self._end = redis.register_script(_END)
        self._shown = redis.register_script(_SHOWN)
        self._release = redis.register_script(_RELEASE)

    def add_observer(self, observer: ApprovalObserver) -> None:
        self._observers.append(observer)

    def register(self, scheduler: Scheduler) -> None:
        scheduler.register(APPROVAL_EXPIRY_KIND, self._check_expiry)

    def _record(self, workspace_id: str, approval_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "approval", approval_id)

    def _by_proposal(self, workspace_id: str, proposal_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "approval-of", proposal_id)

    def _pending(self, workspace_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "approvals", "pending")

    async def pending(self, workspace_id: str, limit: int = 20) -> list[TrackedApproval]:
        """The workspace's approvals still waiting for a human in OpenTrain, newest first."""
        waiting: list[TrackedApproval] = []
        for approval_id in map(str, await self._redis.zrevrange(self._pending(workspace_id), 0, limit - 1)):
            tracked = await self.load(workspace_id, approval_id)
            if tracked is not None and tracked.pending:
                waiting.append(tracked)
            else:  # ended meanwhile, or its record expired
                await self._redis.zrem(self._pending(workspace_id), approval_id)
        return waiting

    async def track(self, workspace_id: str, approval: Approval, requested_by: str,
                    surface: dict[str, Any]) -> TrackedApproval:
        """Keep a pending approval (a repeat request answered with the same approval keeps the first record) and
        show it as it stands; its expiry is checked at `expiresAt`."""
        tracked = TrackedApproval(
            workspace_id=workspace_id, approval_id=approval.id, type=approval.type or "", status="pending",
            requested_by=requested_by, approval_url=approval.approval_url or "", expires_at=approval.expires_at,
            job_id=approval.job_id, proposal_id=approval.proposal_id, contract_id=approval.contract_id,
            milestone_id=approval.milestone_id, surface=surface)
        record = self._record(workspace_id, approval.id)
        if stored := await self.load(workspace_id, approval.id):
            # OpenTrain answered a repeat request with the same approval: keep the first record, which may have ended
            log.info("approval %s asked for again; it is already tracked", approval.id)
            tracked = stored
        else:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(record, mapping=tracked.fields())
                pipe.expire(record, APPROVAL_TTL_SECONDS)
                if approval.proposal_id:
                    pipe.set(self._by_proposal(workspace_id, approval.proposal_id), approval.id,
                             ex=APPROVAL_TTL_SECONDS)
                if tracked.pending:
                    pipe.zadd(self._pending(workspace_id), {approval.id: self._clock()})
                    pipe.expire(self._pending(workspace_id), APPROVAL_TTL_SECONDS)
                await pipe.execute()
        if tracked.pending:
            await self._scheduler.schedule(APPROVAL_EXPIRY_KIND, f"{workspace_id}:{approval.id}",
                                           due_at=_timestamp(approval.expires_at) or self._clock())
        await self._notify(tracked)
        if approval.ended:  # OpenTrain answered with one that already ended (e.g. it expired meanwhile)
            await self.end(workspace_id, approval)
        return tracked

    async def load(self, workspace_id: str, approval_id: str) -> TrackedApproval | None:
        stored = await self._redis.hgetall(self._record(workspace_id, approval_id))
        return TrackedApproval.read(stored) if stored else None

    async def refresh(self, workspace_id: str, approval_id: str) -> TrackedApproval | None:
        """Read a tracked approval again from OpenTrain and show its end if it ended; None when it is not ours."""
        if await self.load(workspace_id, approval_id) is None:
            return None  # asked for by someone else (another tool on the same account): nothing to show
        client = await self._accounts.client_for(workspace_id)
        await self.end(workspace_id, await client.get_approval(approval_id))
        return await self.load(workspace_id, approval_id)

    async def proposal_changed(self, workspace_id: str, proposal_id: str) -> None:
        """A hire's proposal moved (to hired, typically): its approval may have ended."""
        approval_id = await self._redis.get(self._by_proposal(workspace_id, proposal_id))
        if approval_id:
            await self.refresh(workspace_id, str(approval_id))

    async def end(self, workspace_id: str, approval: Approval) -> bool:
        """Record and show the end of `approval` once; False when it has not ended, is not ours, or is shown."""
        if not approval.ended:
            return False
        token = uuid.uuid4().hex
        record = self._record(workspace_id, approval.id)
        outcome, lease_end_ms = await self._end(keys=[record], args=[
            (approval.status or "").lower(), approval.resolved_at or "", json.dumps(approval.result or {}), token,
            int(self._clock() * 1000), SHOW_LEASE_MS])
        if outcome == SHOWN_ELSEWHERE:
            # Another process is showing it; should it die doing so, this notice must not be lost: look again
            # just after its lease (the expiry check reads the approval and shows its end).
            await self._scheduler.schedule(APPROVAL_EXPIRY_KIND, f"{workspace_id}:{approval.id}",
                                           due_at=int(lease_end_ms) / 1000 + 1)
            return False
        if outcome != SHOWS:
            return False
        try:
            tracked = await self.load(workspace_id, approval.id)
            if tracked is not None:
                await self._notify(tracked)
        except BaseException:
            await self._release(keys=[record], args=[token])  # the next notice shows it, not one after the lease
            raise
        await self._shown(keys=[record], args=[token])
        await self._redis.zrem(self._pending(workspace_id), approval.id)
        await self._scheduler.cancel(APPROVAL_EXPIRY_KIND, f"{workspace_id}:{approval.id}")
        return True

    async def _notify(self, tracked: TrackedApproval) -> None:
        for observer in self._observers:
            await observer.approval_changed(tracked)

    async def _check_expiry(self, item: ScheduledItem) -> float | None:
        workspace_id, approval_id = item.item_id.split(":", 1)
        try:
            tracked = await self.refresh(workspace_id, approval_id)
        except TRANSIENT as exc:
            log.info("approval %s not readable now (%s); trying again", approval_id, type(exc).__name__)
            return self._clock() + 60
        except errors.OpenTrainError as exc:
            log.warning("approval %s unreadable (%s); no longer checked", approval_id, type(exc).__name__)
            return None
        if tracked is None or not tracked.pending:
            return None
        return self._clock() + EXPIRY_RECHECK_SECONDS


def _timestamp(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
