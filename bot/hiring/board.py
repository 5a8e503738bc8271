"""A person's jobs, free of any front end: what the Home tab and `/hire list` show, and closing a job.

The jobs come from OpenTrain (`GET /jobs/mine`, the account's jobs, newest first) and are kept to those this
workspace published: the requester sees their own, a hiring manager every one. A job OpenTrain lists but this
workspace has no record of (made elsewhere with the same account) is not shown: nobody here may act on it.

Closing re-checks at the moment it runs that the job is this workspace's and that the person may close it (`authz`),
then asks OpenTrain (idempotent). The ledger stops card-making for a closed job: its record says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from bot.hiring.accounts import Accounts
from bot.hiring.approvals import ApprovalTracker, TrackedApproval
from bot.hiring.authz import Action, Attempt, Authorizer, Role, allowed_roles
from bot.hiring.jobs import JobRecord, lookup_job, mark_closed
from bot.hiring.views import Words
from bot.hiring.wording import refusal
from bot.infra.storage import Redis
from bot.opentrain import errors
from bot.opentrain.models import Credits, MyJob

log = logging.getLogger(__name__)

JOBS_LOOKED_AT = 200  # of the account's newest jobs; older ones are in OpenTrain
NOT_THIS_WORKSPACE = ("That job wasn't published from this workspace, so I won't act on it.",)
CLOSED = ("Closed the job on OpenTrain: it takes no more proposals, and no new proposal cards will be posted.",)
ALREADY_CLOSED = ("That job is already closed.",)
OPENTRAIN_DOWN = ("OpenTrain isn't answering right now, so your jobs can't be listed; try again in a minute.",)


@dataclass(frozen=True)
class JobLine:
    job_id: str
    title: str
    status: str  # OpenTrain's, e.g. "OPEN", "CLOSED", "DRAFT"
    url: str | None
    proposals: int
    unreviewed: int
    requester: str
    may_close: bool

    @property
    def open(self) -> bool:
        return self.status.upper() == "OPEN"


@dataclass(frozen=True)
class JobList:
    """The jobs a person may see here, newest first; `unavailable` says why there are none to show right now."""

    jobs: list[JobLine]
    claimed: bool
    unavailable: Words | None = None
    approvals: list[TrackedApproval] = field(default_factory=list)  # waiting for a human in OpenTrain
    credits: Credits | None = None  # the prepaid balance, when the account uses credits


class JobBoard:
    def __init__(self, redis: Redis, namespace: str, accounts: Accounts, authorizer: Authorizer,
                 approvals: ApprovalTracker | None = None):
        self._redis = redis
        self._namespace = namespace
        self._accounts = accounts
        self._authz = authorizer
        self._approvals = approvals

    async def jobs_of(self, workspace_id: str, user_id: str) -> JobList:
        claimed = await self._accounts.is_claimed(workspace_id)
        if not await self._accounts.registered(workspace_id):
            return JobList([], claimed)  # no account yet: the first /hire makes one
        # Who may close a job sees it, as the authorization table says: its requester, and whoever holds one of the
        # table's other roles for closing (hiring managers) every job of the workspace.
        manager = await self._authz.holds_any(allowed_roles(Action.CLOSE_JOB) - {Role.REQUESTER}, workspace_id,
                                              user_id, None)
        listed = await self._listed(workspace_id, user_id, manager, claimed)
        waiting = [a for a in await self._approvals.pending(workspace_id) if manager or a.requested_by == user_id] \
            if self._approvals else []
        return replace(listed, approvals=waiting, credits=await self._credits(workspace_id))

    async def _credits(self, workspace_id: str) -> Credits | None:
        """The balance when the token may read it and the account has credits on; None otherwise (or unreadable)."""
        try:
            if await self._accounts.lacks(workspace_id, scope="payments:read", capability="credits",
                                          unreported_ok=False):
                return None
            return await (await self._accounts.client_for(workspace_id)).credits()
        except errors.OpenTrainError as exc:
            log.info("credits of workspace %s unreadable (%s)", workspace_id, type(exc).__name__)
            return None

    async def _listed(self, workspace_id: str, user_id: str, manager: bool, claimed: bool) -> JobList:
        lines: list[JobLine] = []
        try:
            client = await self._accounts.client_for(workspace_id)
            seen = 0
            async for job in client.my_jobs(page_size=50):
                seen += 1
                record = await lookup_job(self._redis, self._namespace, job.id)
                if record is not None and record.workspace_id == workspace_id and (
                        manager or record.requester == user_id):
                    lines.append(_line(job, record, may_close=manager or record.requester == user_id))
                if seen >= JOBS_LOOKED_AT:
                    break
        except (errors.ServerError, errors.TransportError, errors.RateLimited) as exc:
            log.warning("cannot list the jobs of workspace %s: %s", workspace_id, type(exc).__name__)
            return JobList([], claimed, unavailable=OPENTRAIN_DOWN)
        except errors.OpenTrainError as exc:
            return JobList([], claimed, unavailable=(f"Your jobs can't be listed. {refusal(exc)}",))
        return JobList(lines, claimed)

    async def open_jobs(self, workspace_id: str) -> list[tuple[JobLine, JobRecord]]:
        """Every open job this workspace published, with its record (which says where a front end shows it).
        OpenTrain's errors are raised: the caller decides when to ask again."""
        found: list[tuple[JobLine, JobRecord]] = []
        client = await self._accounts.client_for(workspace_id)
        async for job in client.my_jobs(status="OPEN", page_size=50):
            record = await lookup_job(self._redis, self._namespace, job.id)
            if record is not None and record.workspace_id == workspace_id and not record.closed:
                found.append((_line(job, record, may_close=False), record))
            if len(found) >= JOBS_LOOKED_AT:
                break
        return found

    async def close(self, workspace_id: str, user_id: str, job_id: str) -> tuple[Words, JobRecord | None]:
        """Close `job_id` for `user_id`: what to tell them, and the job's record when it was closed."""
        record = await lookup_job(self._redis, self._namespace, job_id)
        if record is None or record.workspace_id != workspace_id:
            return NOT_THIS_WORKSPACE, None
        if refused := await self._authz.refusal(Attempt(Action.CLOSE_JOB, workspace_id, user_id, record.requester)):
            return refused, None
        if record.closed:
            return ALREADY_CLOSED, None  # an old button: said once in its thread already
        try:
            client = await self._accounts.client_for(workspace_id)
            await client.close_job(job_id)
        except errors.OpenTrainError as exc:
            if not isinstance(exc, (errors.Forbidden, errors.Conflict, errors.NotFound)):
                log.warning("could not close job %s: %s", job_id, type(exc).__name__)
            return (f"I couldn't close that job. {refusal(exc)}",), None
        await mark_closed(self._redis, self._namespace, job_id)
        return CLOSED, record


def _line(job: MyJob, record: JobRecord, *, may_close: bool) -> JobLine:
    """A job as OpenTrain lists it, with who asked for it here."""
    return JobLine(job_id=job.id, title=job.title or "(untitled)", status=(job.status or "").upper(), url=job.job_url,
                   proposals=job.proposal_counts.total or 0, unreviewed=job.proposal_counts.unreviewed or 0,
                   requester=record.requester, may_close=may_close)
