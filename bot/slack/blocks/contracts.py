"""Money in Slack: the hire request on a proposal card, the contract card with its milestones, budget and approvals,
the add-milestone modal, and the budget notice. Block Kit plus a plain-text fallback.

Names, milestone names and descriptions come from people and from OpenTrain: they pass `safe.escape` in blocks and
fallback text alike; approval links were trusted by the client's link policy and are written with `safe.link` or as
URL buttons only when `safe.is_linkable`.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bot.opentrain.models import Contract, Milestone
from bot.slack.blocks.conversation import SlackMessage, button, context, mrkdwn_text, section
from bot.slack.blocks.proposals import REQUEST_HIRE, money
from bot.slack.blocks.safe import escape, is_linkable, mention

ADD_MILESTONE = "contract:add"
FUND_MILESTONE = "contract:fund"
RELEASE_PAYMENT = "contract:release"
END_CONTRACT = "contract:end"
ADD_MILESTONE_MODAL = "contract:add-modal"
APPROVAL_LINK = "money:approval"  # a URL button: Slack opens it, the app only acks

PAYMENT_TYPES = {"PAY_PER_HOUR": "Per hour", "PAY_PER_LABEL": "Per label", "FIXED_PRICE": "Fixed price"}
RATE_UNITS = {"PAY_PER_HOUR": "/ hour", "PAY_PER_LABEL": "/ label"}
VOLUME_WORDS = {"PAY_PER_HOUR": "Hours", "PAY_PER_LABEL": "Labels"}
MILESTONE_STATUS = {"NOT_FUNDED": "Not funded", "ACTIVE_FUNDED": "Funded", "PAID": "Paid"}
BUDGET_STATES = {"OK": ":large_green_circle: OK", "LOW": ":large_yellow_circle: Low",
                 "DEPLETED": ":red_circle: Depleted"}
APPROVAL_WHAT = {"proposal_hire": "Hire", "milestone_fund": "Funding", "milestone_approve": "Payment release",
                 "contract_end": "Ending the contract"}
MAX_APPROVALS_SHOWN = 5


@dataclass(frozen=True)
class ApprovalBadge:
    """What a card shows of one approval: pending with its link, or how it ended."""

    approval_id: str
    type: str
    status: str
    url: str
    requested_by: str
    expires_at: str | None
    milestone_id: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> ApprovalBadge:
        return cls(**json.loads(raw))


def when(iso: str | None) -> str:
    """"Dec 4, 10:00 UTC" from an ISO time; "" when there is none."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return ""
    return time.strftime("%b %-d, %H:%M UTC", time.gmtime(moment.timestamp()))


def masked(name: str | None) -> str:
    """A trainer as the marketplace shows them: first name and last initial."""
    parts = (name or "").split()
    if not parts:
        return "The trainer"
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0]}."


def _link_button(label: str, url: str) -> dict[str, Any] | None:
    return {**button(label, APPROVAL_LINK, "approval"), "url": url} if is_linkable(url) else None


# ---- the hire request on a proposal card ----------------------------------------------------------------------

def hire_request_blocks(badge: ApprovalBadge) -> list[dict[str, Any]]:
    """The hire approval's state on the proposal card: pending with its link, or Hired / Declined / Expired."""
    by = mention(badge.requested_by)
    if badge.status == "pending":
        expires = f" · expires {when(badge.expires_at)}" if badge.expires_at else ""
        blocks = [section(f":hourglass_flowing_sand: *Hire requested — waiting for approval in OpenTrain*\n"
                          f"Requested by {by}{expires}")]
        link = _link_button("Review and approve in OpenTrain", badge.url)
        return [*blocks, {"type": "actions", "elements": [link]}] if link else blocks
    ended = {"confirmed": ":white_check_mark: *Hired* — approved in OpenTrain.",
             "declined": ":no_entry_sign: *Declined* — the hire was declined in OpenTrain; nobody was hired.",
             "expired": ":hourglass: *Expired* — nobody approved the hire within 72 hours; request it again to hire."}
    return [context(f"{ended.get(badge.status, escape(badge.status))} Requested by {by}.")]


def hire_request_text(badge: ApprovalBadge) -> str:
    words = {"pending": "Hire requested — waiting for approval in OpenTrain", "confirmed": "Hired",
             "declined": "Hire declined", "expired": "Hire request expired"}
    return words.get(badge.status, escape(badge.status))


# ---- the contract card ----------------------------------------------------------------------------------------

def _value(contract: Contract, milestone: Milestone | None = None) -> str:
    return json.dumps({"c": contract.id, "m": milestone.id if milestone else None}, separators=(",", ":"))


def parse_contract_value(value: str) -> tuple[str, str | None]:
    """(contract id, milestone id) from a contract card button: hints, checked on use."""
    data = json.loads(value)
    milestone = data.get("m")
    return str(data["c"]), str(milestone) if milestone else None


def _confirm(title: str, text: str, yes: str) -> dict[str, Any]:
    return {"title": {"type": "plain_text", "text": title}, "text": mrkdwn_text(text),
            "confirm": {"type": "plain_text", "text": yes}, "deny": {"type": "plain_text", "text": "Cancel"},
            "style": "danger" if "End" in yes else "primary"}


def _milestone_line(contract: Contract, milestone: Milestone) -> str:
    name = escape(milestone.name or milestone.description or f"Milestone {milestone.milestone_number or ''}", 200)
    status = MILESTONE_STATUS.get(milestone.status, escape(milestone.status.replace("_", " ").capitalize()))
    volume = ""
    if milestone.volume and contract.payment_type in VOLUME_WORDS:
        volume = f" · {milestone.volume:g} {VOLUME_WORDS[contract.payment_type].lower()}"
    due = f" · due {escape(milestone.due_date[:10])}" if milestone.due_date else ""
    pending = " · _approval pending_" if milestone.pending_approval else ""
    return f"*{name}* — {money(milestone.amount_usd)}{volume} · {status}{due}{pending}"


def _milestone_button(contract: Contract, milestone: Milestone) -> dict[str, Any] | None:
    if contract.status != "active" or milestone.pending_approval:
        return None
    name = escape(milestone.name or milestone.description or "this milestone", 100)
    if milestone.status == "NOT_FUNDED":
        return {**button("Fund milestone", FUND_MILESTONE, _value(contract, milestone)),
                "confirm": _confirm("Fund milestone?", f"Ask OpenTrain to fund *{name}* "
                                    f"({money(milestone.amount_usd)} plus fees). A human approves the payment "
                                    "in OpenTrain.", "Request funding")}
    if milestone.status == "ACTIVE_FUNDED":
        return {**button("Release payment", RELEASE_PAYMENT, _value(contract, milestone)),
                "confirm": _confirm("Release payment?", f"Ask OpenTrain to pay out *{name}* "
                                    f"({money(milestone.amount_usd)}) to the trainer. A human approves it in "
                                    "OpenTrain.", "Request release")}
    return None


def _approval_blocks(badges: list[ApprovalBadge]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for badge in badges[-MAX_APPROVALS_SHOWN:]:
        what = APPROVAL_WHAT.get(badge.type, "Request")
        by = mention(badge.requested_by)
        if badge.status == "pending":
            expires = f", expires {when(badge.expires_at)}" if badge.expires_at else ""
            text = f":hourglass_flowing_sand: {what} requested by {by} — waiting for approval in OpenTrain{expires}"
            link = _link_button("Review and approve", badge.url)
            blocks.append(section(text, accessory=link) if link else section(text))
        else:
            blocks.append(context(f"{what} requested by {by}: *{escape(badge.status)}* in OpenTrain."))
    return blocks


def contract_card(contract: Contract, badges: list[ApprovalBadge]) -> SlackMessage:
    trainer = escape(masked(contract.freelancer.display_name))
    unit = RATE_UNITS.get(contract.payment_type, "")
    rate = f"{money(contract.rate_usd)} {unit}".strip()
    budget = contract.budget.state if contract.budget else "OK"
    facts = [f"*Payment type*\n{PAYMENT_TYPES.get(contract.payment_type, escape(contract.payment_type))}",
             f"*Rate*\n{rate}", f"*Budget*\n{BUDGET_STATES.get(budget, escape(budget))}",
             f"*Status*\n{escape(contract.status.capitalize())}"]
    blocks: list[dict[str, Any]] = [
        section(f":handshake: *Contract with {trainer}*" + (f" — {escape(contract.title, 200)}"
                                                            if contract.title else "")),
        {"type": "section", "fields": [mrkdwn_text(fact) for fact in facts]},
    ]
    for milestone in contract.milestones[:20]:
        blocks.append(section(_milestone_line(contract, milestone), accessory=_milestone_button(contract, milestone)))
    if not contract.milestones:
        blocks.append(context("No milestones yet."))
    blocks += _approval_blocks(badges)
    if contract.status == "active":
        end = {**button("End contract", END_CONTRACT, _value(contract), style="danger"),
               "confirm": _confirm("End contract?", f"End the contract with *{trainer}*? With funded milestones "
                                   "a human approves it in OpenTrain.", "End contract")}
        blocks.append({"type": "actions", "elements": [button("Add milestone", ADD_MILESTONE, _value(contract)),
                                                       end]})
    text = (f"Contract with {trainer}: {PAYMENT_TYPES.get(contract.payment_type, escape(contract.payment_type))}, "
            f"{rate}, budget {escape(budget)}, {len(contract.milestones)} milestone(s), {escape(contract.status)}.")
    return SlackMessage(text=text, blocks=blocks)


def budget_notice(contract: Contract, state: str, fraction: float | None) -> SlackMessage:
    trainer = escape(masked(contract.freelancer.display_name))
    used = f" ({fraction:.0%} of the funded volume used)" if fraction is not None else ""
    if state == "DEPLETED":
        text = (f":red_circle: The budget of the contract with {trainer} is *depleted*{used}. Work beyond it is "
                "not funded: add and fund a milestone from the contract card to continue.")
    else:
        text = (f":large_yellow_circle: The budget of the contract with {trainer} is *running low*{used}. Add "
                "and fund a milestone from the contract card so the work doesn't stop.")
    return SlackMessage(text=text, blocks=[section(text)])


# ---- the add-milestone modal ----------------------------------------------------------------------------------

def add_milestone_modal(metadata: str, contract: Contract) -> dict[str, Any]:
    """Name, description, amount or volume by payment type, due date."""
    by_volume = contract.payment_type in VOLUME_WORDS
    trainer = escape(masked(contract.freelancer.display_name))
    measure: list[dict[str, Any]]
    if by_volume:
        unit = VOLUME_WORDS[contract.payment_type]
        measure = [
            {"type": "input", "block_id": "volume", "label": {"type": "plain_text", "text": unit},
             "element": {"type": "number_input", "action_id": "value", "is_decimal_allowed": True}},
            {"type": "input", "block_id": "amount", "optional": True,
             "label": {"type": "plain_text", "text": "Amount (USD, optional)"},
             "hint": {"type": "plain_text", "text": f"Must equal the rate ({money(contract.rate_usd)}) times "
                                                   f"{unit.lower()}; left empty, it is worked out for you."},
             "element": {"type": "number_input", "action_id": "value", "is_decimal_allowed": True}},
        ]
    else:
        measure = [{"type": "input", "block_id": "amount", "label": {"type": "plain_text", "text": "Amount (USD)"},
                    "element": {"type": "number_input", "action_id": "value", "is_decimal_allowed": True}}]
    return {
        "type": "modal", "callback_id": ADD_MILESTONE_MODAL, "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Add milestone"},
        "submit": {"type": "plain_text", "text": "Add"}, "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"A new, unfunded milestone on the contract with *{trainer}*. No money moves until it is funded "
                    "and a human approves that in OpenTrain."),
            {"type": "input", "block_id": "name", "optional": True, "label": {"type": "plain_text", "text": "Name"},
             "element": {"type": "plain_text_input", "action_id": "value", "max_length": 200}},
            {"type": "input", "block_id": "description", "label": {"type": "plain_text", "text": "Description"},
             "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 2000}},
            *measure,
            {"type": "input", "block_id": "due", "optional": True,
             "label": {"type": "plain_text", "text": "Due date"},
             "element": {"type": "datepicker", "action_id": "value"}},
        ],
    }


def with_hire_request(card: SlackMessage, badge: ApprovalBadge | None) -> SlackMessage:
    """A proposal card with its hire request drawn below it; while one is pending (or hired) the card offers no
    second "Request hire"."""
    if badge is None:
        return card
    blocks = card.blocks
    if badge.status in ("pending", "confirmed"):
        blocks = [_without_hire_button(block) for block in blocks]
    return SlackMessage(text=f"{card.text} {hire_request_text(badge)}.", blocks=blocks + hire_request_blocks(badge))


def _without_hire_button(block: dict[str, Any]) -> dict[str, Any]:
    if block.get("type") != "actions":
        return block
    return {**block, "elements": [e for e in block["elements"] if e.get("action_id") != REQUEST_HIRE]}
