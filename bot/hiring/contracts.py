"""What a contract card's actions do, free of any front end: add a milestone, fund it, release its payment, end the
contract. Every money move is a request a signed-in human co-signs in OpenTrain; the approval it returns goes to the
`ApprovalTracker`, which shows it and its end.

Each action checks, at the moment it runs and with nothing taken from the button but ids: the contract as OpenTrain
serves it to this workspace's account, its job published from this workspace, the milestone on that contract, the
person allowed (`authz`: the job's requester or a hiring manager), and the account claimed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.hiring import wording
from bot.hiring.accounts import Accounts
from bot.hiring.approvals import ApprovalTracker
from bot.hiring.authz import Action, Attempt, Authorizer
from bot.hiring.jobs import lookup_job
from bot.hiring.views import Link, Strong, Words
from bot.infra.storage import Redis
from bot.opentrain import errors
from bot.opentrain.client import OpenTrainClient
from bot.opentrain.models import Approval, Contract, Milestone

log = logging.getLogger(__name__)

VOLUME_UNITS = {"PAY_PER_HOUR": ("hour", "hours"), "PAY_PER_LABEL": ("label", "labels")}
FUNDED, NOT_FUNDED = "ACTIVE_FUNDED", "NOT_FUNDED"
NOT_OURS = ("This contract isn't one of this workspace's jobs, so I won't act on it.",)
NOT_THIS_CONTRACT = ("That milestone isn't on this contract, so I won't act on it.",)
ENDED = ("This contract has ended.",)
UNCLAIMED = (wording.CLAIM_BY_ADMIN,)


@dataclass(frozen=True)
class ContractAsk:
    """Who asks for what on which contract (and milestone); the ids are hints from a button or a modal."""

    workspace_id: str
    user_id: str
    contract_id: str
    milestone_id: str | None = None


@dataclass(frozen=True)
class MilestoneTerms:
    description: str
    name: str | None = None
    amount_usd: float | None = None
    volume: float | None = None  # hours or labels, for hourly and per-label contracts
    due_date: str | None = None  # ISO date


def check_terms(payment_type: str, rate_usd: float | None, terms: MilestoneTerms) -> dict[str, str]:
    """Field -> what is wrong, as OpenTrain would refuse it (contract §2.9.3); empty when the terms can be sent.
    Volume-based contracts take a volume, and an amount only if it equals rate times volume."""
    problems: dict[str, str] = {}
    if not terms.description.strip():
        problems["description"] = "Describe what this milestone covers."
    if payment_type not in VOLUME_UNITS:
        if not terms.amount_usd or terms.amount_usd <= 0:
            problems["amount"] = "Enter an amount in USD above zero."
        return problems
    one, many = VOLUME_UNITS[payment_type]
    if not terms.volume or terms.volume <= 0:
        problems["volume"] = f"Enter how many {many} this milestone covers (above zero)."
    elif not rate_usd or rate_usd <= 0:
        problems["volume"] = "This contract has no rate in OpenTrain, so a milestone can't be priced by volume."
    elif terms.amount_usd is not None and abs(terms.amount_usd - priced(rate_usd, terms.volume)) > 0.005:
        problems["amount"] = (f"At ${rate_usd:g} per {one}, {terms.volume:g} {many} come to "
                              f"${priced(rate_usd, terms.volume):,.2f}: leave the amount empty or enter that.")
    return problems


def priced(rate_usd: float, volume: float) -> float:
    return round(rate_usd * volume, 2)


def sendable(contract: Contract, terms: MilestoneTerms) -> MilestoneTerms:
    """Checked terms as sent: a volume-based milestone carries its amount, rate times volume, so both agree."""
    if contract.payment_type in VOLUME_UNITS and contract.rate_usd and terms.volume:
        return replace(terms, amount_usd=priced(contract.rate_usd, terms.volume))
    return replace(terms, volume=None)


def money_refusal(exc: errors.OpenTrainError, doing: str) -> Words:
    """OpenTrain's refusal in plain words, with the way to fix it when a person can."""
    if isinstance(exc, errors.ClaimRequired):
        return UNCLAIMED
    if isinstance(exc, errors.Conflict) and exc.reason == "contract_ended":
        return ENDED
    words: Words = (f"I couldn't {doing}. {wording.refusal(exc)}",)
    fix = wording.how_to_fix(exc)
    if isinstance(exc, errors.Conflict) and exc.payment_method_required:
        return (*words, f" {fix} ", Link(exc.billing_url or "", "billing"), ".") if exc.billing_url else words
    return (*words, f" {fix}") if fix else words


@dataclass(frozen=True)
class Checked:
    client: OpenTrainClient
    contract: Contract
    milestone: Milestone | None


class ContractDesk:
    def __init__(self, redis: Redis, namespace: str, accounts: Accounts, authorizer: Authorizer,
                 tracker: ApprovalTracker):
        self._redis = redis
        self._namespace = namespace
        self._accounts = accounts
        self._authz = authorizer
        self._tracker = tracker

    async def check(self, ask: ContractAsk, action: Action) -> Checked | Words:
        """The contract (and milestone) this ask may act on now, or why not."""
        try:
            client = await self._accounts.client_for(ask.workspace_id)
            contract = await client.get_contract(ask.contract_id)
        except (errors.NotFound, errors.Forbidden):
            return NOT_OURS  # another account's contract, or none
        except errors.OpenTrainError as exc:
            return money_refusal(exc, "read the contract")
        job = await lookup_job(self._redis, self._namespace, contract.job_id or "")
        if job is None or job.workspace_id != ask.workspace_id:
            log.warning("refused %s on contract %s: its job is not this workspace's", action, ask.contract_id)
            return NOT_OURS
        if refused := await self._authz.refusal(Attempt(action, ask.workspace_id, ask.user_id, job.requester)):
            return refused
        milestone = contract.milestone(ask.milestone_id) if ask.milestone_id else None
        if ask.milestone_id and milestone is None:
            return NOT_THIS_CONTRACT
        if contract.status != "active":
            return ENDED
        if not await self._accounts.is_claimed(ask.workspace_id):
            return UNCLAIMED
        return Checked(client, contract, milestone)

    async def add_milestone(self, ask: ContractAsk, terms: MilestoneTerms) -> Words:
        checked = await self.check(ask, Action.ADD_MILESTONE)
        if not isinstance(checked, Checked):
            return checked
        contract = checked.contract
        if problems := check_terms(contract.payment_type, contract.rate_usd, terms):
            return (" ".join(problems.values()),)
        sent = sendable(contract, terms)
        try:
            added = await checked.client.add_milestone(contract.id, sent.description, name=sent.name,
                                                       amount_usd=sent.amount_usd, volume=sent.volume,
                                                       due_date=sent.due_date)
        except errors.OpenTrainError as exc:
            return money_refusal(exc, "add the milestone")
        return ("Milestone ", Strong(added.name or added.description or "new"),
                f" added (${added.amount_usd or sent.amount_usd or 0:,.2f}, not funded: no money moved). Fund it "
                "from the contract card when the work is ready to start.")

    async def fund(self, ask: ContractAsk, surface: dict[str, Any]) -> Words:
        return await self._milestone_move(
            ask, surface, Action.FUND_MILESTONE, NOT_FUNDED,
            ("Only an unfunded milestone can be funded; this one is already funded or paid.",),
            lambda client, milestone_id: client.fund_milestone(milestone_id), "request the funding", "Funding")

    async def release(self, ask: ContractAsk, surface: dict[str, Any]) -> Words:
        return await self._milestone_move(
            ask, surface, Action.RELEASE_PAYMENT, FUNDED, ("Only a funded milestone's payment can be released.",),
            lambda client, milestone_id: client.release_milestone(milestone_id), "request the payment release",
            "Payment release")

    async def _milestone_move(self, ask: ContractAsk, surface: dict[str, Any], action: Action, needs: str,
                              wrong_status: Words, request: Callable[[OpenTrainClient, str], Awaitable[Any]],
                              doing: str, what: str) -> Words:
        """Fund or release: a milestone in status `needs` asks OpenTrain for the move, an approval to track."""
        checked = await self.check(ask, action)
        if not isinstance(checked, Checked):
            return checked
        if checked.milestone is None or checked.milestone.status != needs:
            return wrong_status
        try:
            requested = await request(checked.client, checked.milestone.id)
        except errors.OpenTrainError as exc:
            return money_refusal(exc, doing)
        return await self._requested(ask, requested.approval, surface, what, checked.milestone)

    async def end(self, ask: ContractAsk, surface: dict[str, Any]) -> Words:
        checked = await self.check(ask, Action.END_CONTRACT)
        if not isinstance(checked, Checked):
            return checked
        try:
            ended = await checked.client.end_contract(checked.contract.id)
        except errors.OpenTrainError as exc:
            return money_refusal(exc, "end the contract")
        if ended.approval is None:
            return ("The contract has ended (it had no funded milestone, so no approval was needed).",)
        return await self._requested(ask, ended.approval, surface, "Ending the contract", None)

    async def _requested(self, ask: ContractAsk, approval: Approval, surface: dict[str, Any], what: str,
                         milestone: Milestone | None) -> Words:
        await self._tracker.track(ask.workspace_id, approval, ask.user_id, surface)
        of = f" of \"{milestone.name or milestone.description}\"" if milestone else ""
        return (f"{what}{of} requested. Nothing moves until a signed-in human approves it in OpenTrain: ",
                Link(approval.approval_url or "", "review and approve"), ".")
