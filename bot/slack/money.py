"""Money in Slack: the ledger's `ContractSink` (contract cards, budget notices) and the approval tracker's observer
(a request's state drawn on the card that started it).

Contract card: posted once in the job's thread on `contract.created` (`SlackOnce`), then redrawn in place
(`chat.update`, safe to repeat) from a fresh read of the contract on every change: a milestone's status, a pending
payment, a budget state, an approval requested or ended. A budget turning LOW or DEPLETED also DMs the job's requester,
once per change: the record of that DM is keyed by the event that announced it.

A hire request is drawn on its proposal card by the outbox (`Outbox.show_approval`); every other approval on the
contract card, from the badges kept with the card's record.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.accounts import Accounts
from bot.hiring.approvals import TrackedApproval
from bot.hiring.jobs import JobRecord
from bot.infra.storage import Redis, key
from bot.ledger.money import BudgetChange
from bot.opentrain import errors
from bot.opentrain.models import Contract
from bot.slack.blocks.contracts import ApprovalBadge, budget_notice, contract_card
from bot.slack.once import SlackOnce
from bot.slack.outbox import Outbox

log = logging.getLogger(__name__)

# A contract record (`{ns}:{ws:{ws}}:contract:{id}`: where its card is, the job, the approvals drawn on it) and each
# budget notice's record live as long as the card's buttons may be used: 90 days from their last write.
CONTRACT_TTL_SECONDS = 90 * 24 * 3600
NOTIFIED_STATES = ("LOW", "DEPLETED")


class SlackMoney:
    def __init__(self, redis: Redis, namespace: str, slack: AsyncWebClient, accounts: Accounts, outbox: Outbox):
        self._redis = redis
        self._namespace = namespace
        self._slack = slack
        self._accounts = accounts
        self._outbox = outbox
        self._once = SlackOnce(redis, slack, CONTRACT_TTL_SECONDS)

    def _record(self, workspace_id: str, contract_id: str, *parts: str) -> str:
        return key(self._namespace, "ws", workspace_id, "contract", contract_id, *parts)

    async def knows(self, workspace_id: str, contract_id: str) -> bool:
        """Whether this workspace has a card for the contract (a button's contract id is only a hint)."""
        return bool(await self._redis.hget(self._record(workspace_id, contract_id), "job_id"))

    async def location(self, workspace_id: str, contract_id: str) -> tuple[str, str] | None:
        channel, ts = await self._redis.hmget(self._record(workspace_id, contract_id), "channel", "ts")
        return (str(channel), str(ts)) if channel and ts else None

    # ---- the ledger's side (ContractSink) -------------------------------------------------------------------------

    def shows(self, job: JobRecord) -> bool:
        return self._outbox.shows(job)

    async def contract_created(self, workspace_id: str, job: JobRecord, contract: Contract) -> None:
        await self.contract_changed(workspace_id, job, contract)

    async def contract_changed(self, workspace_id: str, job: JobRecord, contract: Contract) -> None:
        """Post the card once, or redraw the posted one."""
        destination = self._outbox.destination(job)
        if destination is None:
            return
        record = self._record(workspace_id, contract.id)
        if await self._once.posted(record):
            await self._redraw(workspace_id, contract)
            return
        await self._redis.hset(record, mapping={"job_id": job.job_id, "requester": job.requester})
        await self._redis.expire(record, CONTRACT_TTL_SECONDS)
        await self._once.post(record, destination.channel, destination.thread_ts,
                              contract_card(contract, await self._badges(workspace_id, contract.id)))

    async def budget_changed(self, workspace_id: str, job: JobRecord, contract: Contract,
                             change: BudgetChange) -> None:
        await self.contract_changed(workspace_id, job, contract)
        if change.state not in NOTIFIED_STATES:
            return
        try:
            opened = await self._slack.conversations_open(users=job.requester)
        except SlackApiError as exc:
            log.warning("no DM with %s for a budget notice (%s)", job.requester, exc.response.get("error"))
            return
        await self._once.post(self._record(workspace_id, contract.id, "budget", change.event_id),
                              str(opened["channel"]["id"]), None,
                              budget_notice(contract, change.state, change.consumed_fraction))

    # ---- the tracker's side (ApprovalObserver) --------------------------------------------------------------------

    async def approval_changed(self, approval: TrackedApproval) -> None:
        badge = ApprovalBadge(approval.approval_id, approval.type, approval.status, approval.approval_url,
                              approval.requested_by, approval.expires_at, approval.milestone_id)
        if approval.type == "proposal_hire":
            if approval.proposal_id:
                await self._outbox.show_approval(approval.workspace_id, approval.proposal_id, badge.to_json())
            return
        if not approval.contract_id:
            return
        record = self._record(approval.workspace_id, approval.contract_id)
        await self._redis.hset(record, f"approval:{approval.approval_id}", badge.to_json())
        await self._redis.expire(record, CONTRACT_TTL_SECONDS)
        await self.refresh(approval.workspace_id, approval.contract_id)

    # ---- drawing --------------------------------------------------------------------------------------------------

    async def refresh(self, workspace_id: str, contract_id: str) -> None:
        """Redraw the card from a fresh read of the contract (after an action that emits no event, say)."""
        if await self.location(workspace_id, contract_id) is None:
            return
        try:
            client = await self._accounts.client_for(workspace_id)
            contract = await client.get_contract(contract_id)
        except errors.OpenTrainError as exc:
            # The action it follows is done and must still be told; the next event on the contract redraws the card.
            log.warning("contract card %s not redrawn: contract unreadable (%s)", contract_id, type(exc).__name__)
            return
        await self._redraw(workspace_id, contract)

    async def _badges(self, workspace_id: str, contract_id: str) -> list[ApprovalBadge]:
        stored = await self._redis.hgetall(self._record(workspace_id, contract_id))
        badges = [ApprovalBadge.from_json(str(value)) for name, value in stored.items()
                  if str(name).startswith("approval:")]
        return sorted(badges, key=lambda badge: badge.expires_at or "")  # requested in this order (72 h each)

    async def _redraw(self, workspace_id: str, contract: Contract) -> None:
        where = await self.location(workspace_id, contract.id)
        if where is None:
            return
        message = contract_card(contract, await self._badges(workspace_id, contract.id))
        try:
            await self._slack.chat_update(channel=where[0], ts=where[1], text=message.text, blocks=message.blocks)
        except SlackApiError as exc:
            log.warning("contract card %s not updated (%s)", contract.id, exc.response.get("error"))
