"""The ledger's money events: approvals ending, contracts created and changing, budgets moving.

The reader hands every event of these types here before it moves its cursor past them (a transient failure stops the
read at the event, which is read again later), so each is handled at least once and the handlers make it once: the
`ApprovalTracker` shows an approval's end once, and the `ContractSink` (a front end) posts a contract card and each
budget notice once. Events carry ids only; the contract is read again (`GET /contracts/{id}`) for every change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from bot.hiring.approvals import ApprovalTracker
from bot.hiring.jobs import JobRecord, lookup_job
from bot.infra.storage import Redis
from bot.opentrain import errors
from bot.opentrain.client import OpenTrainClient
from bot.opentrain.models import Contract, Event

log = logging.getLogger(__name__)

APPROVAL_ENDED = "approval.confirmed"  # despite the name: any terminal status (contract §2.12)
PROPOSAL_STATUS = "proposal.status_changed"
CONTRACT_CREATED = "contract.created"
BUDGET_CHANGED = "contract.budget_state_changed"
CONTRACT_CHANGES = frozenset({CONTRACT_CREATED, "milestone.status_changed", "payment.pending", BUDGET_CHANGED})
MONEY_EVENTS = frozenset({APPROVAL_ENDED, PROPOSAL_STATUS, *CONTRACT_CHANGES})
TRANSIENT = (errors.RateLimited, errors.ServerError, errors.TransportError, errors.Unauthorized)


@dataclass(frozen=True)
class BudgetChange:
    event_id: str  # one notice per change, whoever reads the event
    previous: str
    state: str  # OK, LOW, DEPLETED
    consumed_fraction: float | None


class ContractSink(Protocol):
    """A front end's contract cards. Every call is safe to repeat: the sink shows each thing once."""

    def shows(self, job: JobRecord) -> bool:
        """Whether this front end shows the job's contracts at all."""

    async def contract_created(self, workspace_id: str, job: JobRecord, contract: Contract) -> None: ...

    async def contract_changed(self, workspace_id: str, job: JobRecord, contract: Contract) -> None: ...

    async def budget_changed(self, workspace_id: str, job: JobRecord, contract: Contract,
                             change: BudgetChange) -> None: ...


class MoneyLedger:
    def __init__(self, redis: Redis, namespace: str, tracker: ApprovalTracker, sink: ContractSink):
        self._redis = redis
        self._namespace = namespace
        self._tracker = tracker
        self._sink = sink

    async def handle(self, workspace_id: str, client: OpenTrainClient, event: Event) -> None:
        """Raises only what should stop the read at this event (OpenTrain unreachable, throttled, the token)."""
        try:
            if event.type == APPROVAL_ENDED:
                await self._tracker.refresh(workspace_id, str(event.data.get("approvalId") or event.resource_id))
            elif event.type == PROPOSAL_STATUS:
                await self._tracker.proposal_changed(workspace_id,
                                                     str(event.data.get("proposalId") or event.resource_id))
            elif event.type in CONTRACT_CHANGES:
                await self._contract_event(workspace_id, client, event)
        except TRANSIENT:
            raise
        except errors.OpenTrainError as exc:
            # Asking again cannot help, and holding the page would keep every later event back.
            log.warning("%s event %s not shown (%s, HTTP %s)", event.type, event.id, type(exc).__name__, exc.status)

    async def _contract_event(self, workspace_id: str, client: OpenTrainClient, event: Event) -> None:
        job_id = event.job_id or event.data.get("jobId")
        job = await lookup_job(self._redis, self._namespace, str(job_id)) if job_id else None
        if job is None or job.workspace_id != workspace_id or not self._sink.shows(job):
            return
        contract = await client.get_contract(str(event.data.get("contractId") or event.resource_id))
        if contract.job_id != job.job_id:
            # The event's ids are only hints: a card goes in a job's thread only for that job's own contract.
            log.warning("%s event %s: contract %s is not job %s's; not shown", event.type, event.id, contract.id,
                        job.job_id)
            return
        if event.type == CONTRACT_CREATED:
            await self._sink.contract_created(workspace_id, job, contract)
        elif event.type == BUDGET_CHANGED:
            data = event.data
            fraction = data.get("consumedFraction")
            await self._sink.budget_changed(workspace_id, job, contract, BudgetChange(
                event.id, str(data.get("previousState") or ""), str(data.get("state") or "").upper(),
                float(fraction) if isinstance(fraction, (int, float)) else None))
        else:
            await self._sink.contract_changed(workspace_id, job, contract)
