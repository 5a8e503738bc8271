"""The sandbox's money: co-signed approvals, contracts, milestones and budgets (contract §2.6.5, §2.9-§2.11).

Nothing here moves money on its own: every fund, release, hire and funded end is a pending approval that a human
resolves through the control API (`resolve`), and each outcome emits its events (§2.12) on `/updates` and to webhooks.
Approvals past `expiresAt` flip to `expired` lazily, the next time they are read, and only then emit
`approval.confirmed` with status `expired`. Usage is reported through the control API too (the Platform API's job in
OpenTrain) and moves the budget state OK -> LOW (>= 80 % consumed) -> DEPLETED (>= 100 %).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.sandbox.records import (
    APP_URL,
    APPROVAL_LIFETIME_SECONDS,
    Json,
    Proposal,
    Token,
    bad_request,
    conflict,
    iso,
    new_id,
    not_found,
)

if TYPE_CHECKING:
    from bot.sandbox.world import World

VOLUME_TYPES = {"PAY_PER_HOUR": "hours", "PAY_PER_LABEL": "labels"}
BID_PAYMENT_TYPES = {"PER_HOUR": "PAY_PER_HOUR", "PER_LABEL": "PAY_PER_LABEL"}
FUNDED = "ACTIVE_FUNDED"
NOT_FUNDED = "NOT_FUNDED"
PAID = "PAID"
TERMINAL = ("confirmed", "declined", "expired")
LOW_FRACTION = 0.8


@dataclass
class Milestone:
    id: str
    contract_id: str
    number: int
    description: str
    name: str | None
    amount_usd: float
    volume: float | None
    due_date: str | None
    created_at: float
    status: str = NOT_FUNDED
    invoice_id: str | None = None

    def wire(self, pending: bool) -> dict:
        return {"id": self.id, "name": self.name, "description": self.description, "status": self.status,
                "amountUsd": self.amount_usd, "volume": self.volume, "milestoneNumber": self.number,
                "dueDate": self.due_date, "pendingApproval": pending, "needsReview": False,
                "invoiceId": self.invoice_id, "createdAt": iso(self.created_at)}


@dataclass
class Contract:
    id: str
    account_id: str
    job_id: str
    proposal_id: str
    title: str
    payment_type: str
    rate_usd: float
    freelancer: dict
    created_at: float
    status: str = "active"
    ended_at: float | None = None
    consumed: float = 0.0  # hours or labels
    budget_state: str = "OK"
    milestone_ids: list[str] = field(default_factory=list)


class Payments:
    """Approvals (all four types), contracts and milestones of every account; state lives on the World."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.contracts: dict[str, Contract] = {}
        self.milestones: dict[str, Milestone] = {}
        self.without_payment_method: set[str] = set()  # account ids (control API)

    # ---- approvals -----------------------------------------------------------------------------------------

    def new_approval(self, account_id: str, kind: str, job_id: str | None, *, proposal_id: str | None = None,
                     contract_id: str | None = None, milestone_id: str | None = None, terms: Any = None) -> dict:
        now = self.world.now()
        approval = {"id": new_id("apr"), "account_id": account_id, "type": kind, "status": "pending",
                    "terms": terms, "created_at": now, "expires_at": now + APPROVAL_LIFETIME_SECONDS,
                    "job_id": job_id, "proposal_id": proposal_id, "contract_id": contract_id,
                    "milestone_id": milestone_id, "resolved_at": None, "result": None}
        self.world.approvals[approval["id"]] = approval
        return approval

    def live(self, approval: dict | None) -> dict | None:
        """`approval` if it is still pending (after the lazy expiry check), else None."""
        return approval if approval is not None and self.read(approval)["status"] == "pending" else None

    def read(self, approval: dict) -> dict:
        """The approval as a read sees it: a pending one past `expiresAt` flips to expired now (§2.11)."""
        if approval["status"] == "pending" and self.world.now() >= approval["expires_at"]:
            self._finish(approval, "expired", None)
        return approval

    def get(self, token: Token, approval_id: str) -> dict:
        approval = self.world.approvals.get(approval_id)
        if approval is None or approval.get("account_id", self._account_of(approval)) != token.account_id:
            raise not_found("No such approval.", resource="approvals", approvalId=approval_id)
        return self.read(approval)

    def _account_of(self, approval: dict) -> str | None:
        job = self.world.jobs.get(approval.get("job_id") or "")
        return job.account_id if job else None

    def _pending(self, kind: str, **match: str) -> dict | None:
        for approval in self.world.approvals.values():
            if approval["type"] == kind and all(approval.get(k) == v for k, v in match.items()) \
                    and self.live(approval):
                return approval
        return None

    def resolve(self, approval_id: str, decision: Json) -> dict:
        """The signed-in human confirming or declining in the app."""
        approval = self.world.approvals.get(approval_id)
        if approval is None:
            raise not_found("No such approval.", approvalId=approval_id)
        if decision not in ("confirm", "decline"):
            raise bad_request("decision must be confirm or decline.", field="decision")
        if self.read(approval)["status"] != "pending":
            raise conflict("This approval is no longer pending.", status=approval["status"])
        if decision == "decline":
            self._finish(approval, "declined", None)
        else:
            self._finish(approval, "confirmed", self._execute(approval))
        return approval

    def _finish(self, approval: dict, status: str, result: dict | None) -> None:
        approval.update(status=status, resolved_at=self.world.now(), result=result)
        self.world.emit(self._account(approval), "approval.confirmed", approval["id"], approval.get("job_id"),
                        {"approvalId": approval["id"], "status": status})

    def _account(self, approval: dict) -> str:
        return approval.get("account_id") or self._account_of(approval) or ""

    def _execute(self, approval: dict) -> dict:
        kind = approval["type"]
        if kind == "proposal_hire":
            return self._hire(approval)
        if kind == "milestone_fund":
            milestone = self.milestones[approval["milestone_id"]]
            milestone.invoice_id = new_id("inv")
            self._set_status(milestone, FUNDED)
            return {"invoiceId": milestone.invoice_id, "paymentIntentId": new_id("pi")}
        if kind == "milestone_approve":
            milestone = self.milestones[approval["milestone_id"]]
            self._set_status(milestone, PAID)
            return {"invoiceId": milestone.invoice_id, "payoutTransactionId": new_id("po")}
        contract = self.contracts[approval["contract_id"]]
        contract.status, contract.ended_at = "ended", self.world.now()
        return {"contractEnded": True}

    # ---- hires and contracts -------------------------------------------------------------------------------

    def check_payment_method(self, token: Token) -> None:
        if token.account_id in self.without_payment_method:
            raise conflict("Add a payment method or credit before moving money.", reason="payment_method_required",
                           billingUrl=f"{APP_URL}/settings/billing")

    def _hire(self, approval: dict) -> dict:
        proposal = self.world.proposals[approval["proposal_id"]]
        job = self.world.jobs[proposal.job_id]
        contract = self._new_contract(job.account_id, proposal, job.title, job.fields.get("paymentType"))
        self.world.set_proposal_status(proposal.id, "HIRED")
        self.world.emit(job.account_id, "contract.created", contract.id, job.id,
                        {"contractId": contract.id, "jobId": job.id, "proposalId": proposal.id})
        name, description, amount, due = approval["terms"]
        first = self._new_milestone(contract, description or name or "", name, float(amount), None, due)
        first.invoice_id = new_id("inv")
        self._set_status(first, FUNDED)
        return {"hired": True, "contractId": contract.id, "jobId": job.id,
                "freelancerUserId": contract.freelancer["userId"]}

    def _new_contract(self, account_id: str, proposal: Proposal, title: str, job_payment_type: Json) -> Contract:
        bid, candidate = proposal.profile["bid"], proposal.profile["candidate"]
        payment_type = BID_PAYMENT_TYPES.get(bid.get("unit"), "FIXED_PRICE")
        if job_payment_type == "FIXED_PRICE":
            payment_type = "FIXED_PRICE"
        contract = Contract(
            id=new_id("ctr"), account_id=account_id, job_id=proposal.job_id, proposal_id=proposal.id,
            title=f"{title} Contract", payment_type=payment_type, rate_usd=float(bid.get("amountUsd") or 0),
            freelancer={"userId": candidate["id"], "displayName": candidate["displayName"],
                        "country": candidate.get("country"), "profilePath": f"/profile/{candidate['profileSlug']}"},
            created_at=self.world.now())
        self.contracts[contract.id] = contract
        return contract

    def own_contract(self, token: Token, contract_id: str) -> Contract:
        contract = self.contracts.get(contract_id)
        if contract is None or contract.account_id != token.account_id:
            raise not_found("No such contract.", resource="contracts", contractId=contract_id)
        return contract

    def list_contracts(self, token: Token, job_id: str | None, status: str | None) -> list[dict]:
        if status is not None and status not in ("active", "ended"):
            raise bad_request("status must be active or ended.", field="status")
        if job_id is not None:
            self.world.own_job(token, job_id, foreign_is_forbidden=True)
        found = [c for c in reversed(self.contracts.values()) if c.account_id == token.account_id
                 and (job_id is None or c.job_id == job_id) and (status is None or c.status == status)]
        return [self.contract_wire(c) for c in found]

    def contract_wire(self, contract: Contract, *, detail: bool = False) -> dict:
        milestones = [self.milestones[m] for m in contract.milestone_ids]
        wire = {
            "id": contract.id, "status": contract.status, "title": contract.title, "jobId": contract.job_id,
            "proposalId": contract.proposal_id, "paymentType": contract.payment_type, "rateUsd": contract.rate_usd,
            "estimatedTotalUsd": sum(m.amount_usd for m in milestones), "estimatedVolume": None,
            "hasActiveMilestone": any(m.status == FUNDED for m in milestones),
            "startDate": iso(contract.created_at), "endDate": iso(contract.ended_at),
            "createdAt": iso(contract.created_at), "updatedAt": iso(self.world.now()),
            "freelancer": dict(contract.freelancer),
            "milestones": [m.wire(self._pending_on(m) is not None) for m in milestones],
        }
        if detail:
            wire["jobDmConversationId"] = None
            wire["budget"] = self.budget(contract)
        return wire

    def _pending_on(self, milestone: Milestone) -> dict | None:
        return (self._pending("milestone_fund", milestone_id=milestone.id)
                or self._pending("milestone_approve", milestone_id=milestone.id))

    # ---- milestones ----------------------------------------------------------------------------------------

    def _new_milestone(self, contract: Contract, description: str, name: str | None, amount: float,
                       volume: float | None, due: str | None) -> Milestone:
        if volume is None and contract.payment_type in VOLUME_TYPES and contract.rate_usd:
            volume = round(amount / contract.rate_usd, 4)
        milestone = Milestone(new_id("mil"), contract.id, len(contract.milestone_ids) + 1, description, name,
                              amount, volume, due, self.world.now())
        self.milestones[milestone.id] = milestone
        contract.milestone_ids.append(milestone.id)
        self._emit_milestone(milestone)
        return milestone

    def add_milestone(self, token: Token, contract_id: str, body: Json) -> Milestone:
        contract = self.own_contract(token, contract_id)
        if not isinstance(body, dict):
            raise bad_request("The body must be a JSON object.")
        if contract.status != "active":
            raise conflict("This contract has ended.", reason="contract_ended")
        description, name, due = body.get("description"), body.get("name"), body.get("dueDate")
        if not isinstance(description, str) or not description.strip():
            raise bad_request("description is required.", field="description")
        amount, volume = _positive(body, "amountUsd"), _positive(body, "volume")
        if contract.payment_type in VOLUME_TYPES:
            if volume is None:
                raise bad_request("volume is required for hourly and per-label contracts.", field="volume")
            expected = round(contract.rate_usd * volume, 2)
            if amount is not None and abs(amount - expected) > 0.005:
                raise bad_request("amountUsd must equal the contract rate times volume.", field="amountUsd",
                                  expectedAmountUsd=expected)
            amount = expected
        elif amount is None:
            raise bad_request("amountUsd is required for fixed-price contracts.", field="amountUsd")
        if due is not None:
            _check_date(due)
        assert amount is not None
        return self._new_milestone(contract, description, name if isinstance(name, str) else None, amount, volume,
                                   due)

    def own_milestone(self, token: Token, milestone_id: str) -> tuple[Contract, Milestone]:
        milestone = self.milestones.get(milestone_id)
        contract = self.contracts.get(milestone.contract_id) if milestone else None
        if milestone is None or contract is None or contract.account_id != token.account_id:
            raise not_found("No such milestone.", resource="milestones", milestoneId=milestone_id)
        if contract.status != "active":
            raise conflict("This contract has ended.", reason="contract_ended")
        return contract, milestone

    def fund(self, token: Token, milestone_id: str) -> dict:
        contract, milestone = self.own_milestone(token, milestone_id)
        self.check_payment_method(token)
        if milestone.status != NOT_FUNDED:
            raise conflict("Only an unfunded milestone can be funded.", reason="milestone_not_fundable")
        existing = self._pending("milestone_fund", milestone_id=milestone.id)
        if existing:
            return existing
        approval = self.new_approval(contract.account_id, "milestone_fund", contract.job_id,
                                     contract_id=contract.id, milestone_id=milestone.id)
        self.world.emit(contract.account_id, "payment.pending", milestone.id, contract.job_id,
                        {"invoiceId": new_id("inv"), "milestoneId": milestone.id, "contractId": contract.id})
        return approval

    def release(self, token: Token, milestone_id: str) -> dict:
        contract, milestone = self.own_milestone(token, milestone_id)
        if milestone.status != FUNDED:
            raise conflict("Only a funded milestone can be released.", reason="milestone_not_funded")
        return self._pending("milestone_approve", milestone_id=milestone.id) or self.new_approval(
            contract.account_id, "milestone_approve", contract.job_id, contract_id=contract.id,
            milestone_id=milestone.id)

    def end(self, token: Token, contract_id: str) -> dict:
        """`{"ok", "contractId", "status"}` when it ended at once, else the pending approval."""
        contract = self.own_contract(token, contract_id)
        if contract.status != "active":
            raise conflict("This contract has already ended.", reason="contract_ended")
        if not any(self.milestones[m].status == FUNDED for m in contract.milestone_ids):
            contract.status, contract.ended_at = "ended", self.world.now()
            return {"ok": True, "contractId": contract.id, "status": "ended"}
        return self._pending("contract_end", contract_id=contract.id) or self.new_approval(
            contract.account_id, "contract_end", contract.job_id, contract_id=contract.id)

    def _set_status(self, milestone: Milestone, status: str) -> None:
        milestone.status = status
        self._emit_milestone(milestone)
        self._budget_moved(self.contracts[milestone.contract_id])

    def _emit_milestone(self, milestone: Milestone) -> None:
        contract = self.contracts[milestone.contract_id]
        self.world.emit(contract.account_id, "milestone.status_changed", milestone.id, contract.job_id,
                        {"milestoneId": milestone.id, "contractId": contract.id, "status": milestone.status})

    # ---- budgets -------------------------------------------------------------------------------------------

    def report_usage(self, contract_id: str, body: dict) -> Contract:
        contract = self.contracts.get(contract_id)
        if contract is None:
            raise not_found("No such contract.", contractId=contract_id)
        unit = VOLUME_TYPES.get(contract.payment_type)
        amount = _positive(body, unit or "hours")
        if unit is None or amount is None:
            raise bad_request(f"Report a positive {unit or 'volume'} for this {contract.payment_type} contract.",
                              field=unit or "paymentType")
        contract.consumed += amount
        self._budget_moved(contract)
        return contract

    def budget(self, contract: Contract) -> dict:
        funded = self._funded_volume(contract)
        fraction = contract.consumed / funded if funded else 0.0
        active = next((self.milestones[m] for m in contract.milestone_ids
                       if self.milestones[m].status == FUNDED), None)
        hours = contract.consumed if contract.payment_type == "PAY_PER_HOUR" else 0
        return {
            "contractId": contract.id, "paymentType": contract.payment_type, "state": contract.budget_state,
            "fundedVolume": funded, "fundedAmountUsd": sum(self.milestones[m].amount_usd for m in contract.milestone_ids
                                                           if self.milestones[m].status in (FUNDED, PAID)),
            "consumed": {"seconds": hours * 3600, "hours": hours,
                         "labels": contract.consumed if contract.payment_type == "PAY_PER_LABEL" else 0, "tasks": 0},
            "consumedVolume": contract.consumed, "remainingVolume": max(funded - contract.consumed, 0),
            "consumedFraction": round(fraction, 4),
            "activeMilestone": None if active is None else {"id": active.id, "name": active.name,
                                                            "amountUsd": active.amount_usd, "volume": active.volume,
                                                            "status": active.status},
            "lastUsageAt": None,
        }

    def _funded_volume(self, contract: Contract) -> float:
        return sum(self.milestones[m].volume or 0 for m in contract.milestone_ids
                   if self.milestones[m].status in (FUNDED, PAID))

    def _budget_moved(self, contract: Contract) -> None:
        if contract.payment_type not in VOLUME_TYPES:
            return  # a fixed price never depletes
        funded = self._funded_volume(contract)
        fraction = contract.consumed / funded if funded else 0.0
        state = "DEPLETED" if fraction >= 1 else "LOW" if fraction >= LOW_FRACTION else "OK"
        if state == contract.budget_state:
            return
        previous, contract.budget_state = contract.budget_state, state
        budget = self.budget(contract)
        self.world.emit(contract.account_id, "contract.budget_state_changed", contract.id, contract.job_id, {
            "contractId": contract.id, "previousState": previous, "state": state,
            "paymentType": contract.payment_type, "fundedVolume": budget["fundedVolume"],
            "consumedVolume": budget["consumedVolume"], "remainingVolume": budget["remainingVolume"],
            "consumedFraction": budget["consumedFraction"]})


def approval_wire(approval: dict) -> dict:
    return {
        "id": approval["id"], "type": approval.get("type", "proposal_hire"), "status": approval["status"],
        "contractId": approval.get("contract_id"), "milestoneId": approval.get("milestone_id"),
        "jobId": approval.get("job_id"), "proposalId": approval.get("proposal_id"),
        "approvalUrl": f"{APP_URL}/approvals/{approval['id']}", "expiresAt": iso(approval["expires_at"]),
        "resolvedAt": iso(approval.get("resolved_at")), "result": approval.get("result"),
        "createdAt": iso(approval["created_at"]),
    }


def _positive(body: dict, name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise bad_request(f"{name} must be a number above zero.", field=name)
    return float(value)


def _check_date(value: Json) -> None:
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise bad_request("dueDate must be an ISO 8601 date.", field="dueDate") from None
