"""Proposal cards: one candidate per message, or a digest listing a burst. Block Kit plus a plain-text fallback.

The card's data (`ProposalCard`, masked name and no contact details) comes from the ledger; the proposal actions'
outcomes (`bot.hiring.proposals`) are rendered here as mrkdwn. A candidate's name, title and country and a job's title
are set by whoever wrote them: they pass `safe.escape` in the blocks and in the `text` fallback alike.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.hiring.views import Link, Mention, Strong, Words
from bot.ledger.cards import ProposalCard
from bot.slack.blocks.conversation import (
    MAX_BLOCKS,
    SlackMessage,
    button,
    context,
    mrkdwn_text,
    option,
    section,
)
from bot.slack.blocks.safe import bare_url, escape, link, mention

# action_ids of the card's elements (the conversation's own start with "hire:").
OPEN_CONVERSATION = "proposal:open"
REQUEST_HIRE = "proposal:hire"
REVIEW_LINK = "proposal:review"
DIGEST_MENU = "proposal:menu"
HIRE_MODAL = "proposal:hire-modal"
HIRED = "HIRED"
# A digest keeps room for its header and footer within Slack's 50 blocks.
MAX_DIGEST_ENTRIES = MAX_BLOCKS - 3

UNIT_WORDS = {"PER_HOUR": "per hour", "PER_LABEL": "per label", "FIXED_PRICE": "fixed price", "PER_TASK": "per task"}


def money(amount: float | None) -> str:
    if amount is None:
        return "—"
    return f"${amount:,.2f}" if round(amount, 2) == amount else f"${amount:,.3f}".rstrip("0")


def bid_text(card: ProposalCard) -> str:
    unit = UNIT_WORDS.get(card.bid_unit.upper(), card.bid_unit.replace("_", " ").lower())
    return escape(f"{money(card.bid_amount)} {unit}".strip())


def score(value: float | None) -> str:
    """As given: OpenTrain documents two scales for the same field, so no unit is assumed."""
    return "—" if value is None else f"{value:g}"


def _who(card: ProposalCard) -> str:
    details = " · ".join(escape(part) for part in (card.title, card.country) if part)
    name = f"*{link(card.review_url, card.name)}*"
    return f"{name} — {details}" if details else name


def card_version(card: ProposalCard) -> str:
    """Which rendering of a card a button was drawn on: a button clicked after the card changed is stale."""
    return hashlib.sha256(card.to_json().encode()).hexdigest()[:12]


def _action_value(card: ProposalCard) -> str:
    return json.dumps({"p": card.proposal_id, "j": card.job_id, "v": card_version(card)}, separators=(",", ":"))


def parse_action_value(value: str) -> tuple[str, str, str]:
    """(proposal id, job id, card version) from a card button or digest menu option: hints, checked on use."""
    data = json.loads(value)
    return str(data["p"]), str(data["j"]), str(data.get("v") or "")


def _fallback(card: ProposalCard) -> str:
    who = escape(", ".join(p for p in (card.title, card.country) if p) or "candidate")
    return (f"{escape(card.name)} ({who}): bid {bid_text(card)}, interview score {score(card.interview_score)}, "
            f"match score {score(card.match_score)}, status {escape(card.status_label)}. Review: "
            f"{bare_url(card.review_url) or 'in OpenTrain'}")


def proposal_card(card: ProposalCard) -> SlackMessage:
    facts = [f"*Bid*\n{bid_text(card)}", f"*Status*\n{escape(card.status_label)}",
             f"*Interview score*\n{score(card.interview_score)}", f"*Match score*\n{score(card.match_score)}"]
    review = button("Review in OpenTrain", REVIEW_LINK, card.proposal_id)
    actions = [{**review, "url": card.review_url} if bare_url(card.review_url) else review,
               button("Message candidate", OPEN_CONVERSATION, _action_value(card))]
    if card.status != HIRED:
        actions.append(button("Request hire", REQUEST_HIRE, _action_value(card), style="primary"))
    blocks = [
        section(f":inbox_tray: New proposal on *{escape(card.job_title or card.job_id)}*\n{_who(card)}"),
        {"type": "section", "fields": [mrkdwn_text(fact) for fact in facts]},
        {"type": "actions", "elements": actions},
    ]
    return SlackMessage(text=f"New proposal on {escape(card.job_title or card.job_id)}: {_fallback(card)}",
                        blocks=blocks)


def _digest_menu(card: ProposalCard) -> dict[str, Any]:
    choices = [option("Message candidate", json.dumps({"a": "open", **json.loads(_action_value(card))}))]
    if card.status != HIRED:
        choices.append(option("Request hire", json.dumps({"a": "hire", **json.loads(_action_value(card))})))
    return {"type": "overflow", "action_id": DIGEST_MENU, "options": choices}


def proposal_digest(cards: list[ProposalCard]) -> SlackMessage:
    """A burst in one message: a line per proposal with a menu for its actions."""
    shown = cards[:MAX_DIGEST_ENTRIES]
    titles = {card.job_title or card.job_id for card in cards}
    on_job = f" on *{escape(next(iter(titles)))}*" if len(titles) == 1 else ""
    blocks = [section(f":inbox_tray: *{len(cards)} new proposals*{on_job}")]
    for card in shown:
        line = (f"{_who(card)}\nBid {bid_text(card)} · interview {score(card.interview_score)} · match "
                f"{score(card.match_score)} · _{escape(card.status_label)}_")
        blocks.append(section(line, accessory=_digest_menu(card)))
    if len(cards) > len(shown):
        blocks.append(context(f"…and {len(cards) - len(shown)} more in OpenTrain."))
    text = f"{len(cards)} new proposals: " + "; ".join(_fallback(card) for card in cards)
    return SlackMessage(text=_clip_entries(text, 3900), blocks=blocks)


def mrkdwn(words: Words) -> str:
    """A proposal action's outcome as Slack text: links, mentions and bold in Slack's own markup, every word (a
    candidate's name, OpenTrain's refusal, the milestone's name) escaped."""
    return "".join(_mrkdwn(part) for part in words)


def _mrkdwn(part: str | Link | Mention | Strong) -> str:
    if isinstance(part, Link):
        return link(part.url, part.label)
    if isinstance(part, Mention):
        return mention(part.user_id)
    if isinstance(part, Strong):
        return f"*{escape(part.text)}*"
    return escape(part)


def _clip_entries(text: str, limit: int) -> str:
    """Clip already-escaped text without cutting an entity (`&lt;`) in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def hire_modal(card_ref: str, candidate: str) -> dict[str, Any]:
    """The first milestone of a hire request: name, amount (USD), due date."""
    return {
        "type": "modal",
        "callback_id": HIRE_MODAL,
        "private_metadata": card_ref,
        "title": {"type": "plain_text", "text": "Request hire"},
        "submit": {"type": "plain_text", "text": "Request"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"First milestone for *{escape(candidate, 200)}*. A human confirms the hire and the "
                    "payment in OpenTrain; I'll DM you the approval link."),
            {"type": "input", "block_id": "name", "label": {"type": "plain_text", "text": "Milestone name"},
             "element": {"type": "plain_text_input", "action_id": "value", "max_length": 200}},
            {"type": "input", "block_id": "amount", "label": {"type": "plain_text", "text": "Amount (USD)"},
             "element": {"type": "number_input", "action_id": "value", "is_decimal_allowed": True,
                         "min_value": "1"}},
            {"type": "input", "block_id": "due", "label": {"type": "plain_text", "text": "Due date"},
             "element": {"type": "datepicker", "action_id": "value"}},
        ],
    }
