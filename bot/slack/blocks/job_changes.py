"""The modals of a live job's "Edit" and "Invite a trainer": the edit form, the trainer's link, the trainer's masked
profile to confirm, and the small views shown while working and after.

Each input block's `block_id` is the field's update key (or `trainer`), so `response_action: errors` can point at it.
`private_metadata` carries the job id (and the trainer's id): hints, looked up again on submission. Every value from
OpenTrain shown as text passes the escaping helper; values prefilled into inputs pass `safe.input_value`.
"""

from __future__ import annotations

import json
from typing import Any

from bot.hiring.job_changes import EditableField, EditForm, TrainerCard
from bot.hiring.views import Words
from bot.slack.blocks.conversation import context, section
from bot.slack.blocks.proposals import mrkdwn
from bot.slack.blocks.safe import escape, input_value, link

EDIT_VIEW = "job:edit:form"
INVITE_VIEW = "job:invite:form"
CONFIRM_INVITE_VIEW = "job:invite:confirm"
INPUT = "value"  # the action_id of every input element
TRAINER = "trainer"  # the block_id of the profile link input
MAX_INPUT_CHARS = 3000  # Slack's limit on a plain-text input
MAX_MODAL_TITLE = 24  # Slack's limit on a modal's title and buttons
TEXT_AREAS = frozenset({"jobDescription"})


def modal(title: str, blocks: list[dict[str, Any]], *, callback_id: str = "job:info", submit: str | None = None,
          metadata: dict[str, str] | None = None, close: str = "Close") -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal", "callback_id": callback_id,
        "title": _plain(title[:MAX_MODAL_TITLE]), "close": _plain(close), "blocks": blocks,
        "private_metadata": json.dumps(metadata or {}),
    }
    if submit:
        view["submit"] = _plain(submit)
    return view


def working(title: str, doing: str) -> dict[str, Any]:
    return modal(title, [section(f":hourglass_flowing_sand: {escape(doing)}")])


def said(title: str, words: Words) -> dict[str, Any]:
    """The outcome (or a refusal) in the modal the person is looking at."""
    return modal(title, [section(mrkdwn(words))], close="Done")


def edit_modal(form: EditForm) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [section(f"*{escape(form.title, 150)}*: change what you need; empty fields stay "
                                            "as they are. OpenTrain checks every edit again before it goes live.")]
    for spec in form.fields:
        block = _input(spec)
        if block is None:
            blocks.append(context(f"{escape(spec.label)} is longer than Slack's form can hold: change it on "
                                  "OpenTrain."))
        else:
            blocks.append(block)
    return modal("Edit job", blocks, callback_id=EDIT_VIEW, submit="Save", metadata={"job": form.job_id},
                 close="Cancel")


def invite_modal(job_id: str, problem: str | None = None) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    if problem:
        blocks.append(section(f":warning: {escape(problem)}"))
    blocks.append({"type": "input", "block_id": TRAINER, "label": _plain("Trainer's OpenTrain profile"),
                   "element": {"type": "plain_text_input", "action_id": INPUT, "max_length": 300,
                               "placeholder": _plain("https://app.opentrain.ai/profile/maria-g or maria-g")},
                   "hint": _plain("Paste their profile link, or just its last part. You'll see the profile before "
                                  "anything is sent.")})
    return modal("Invite a trainer", blocks, callback_id=INVITE_VIEW, submit="Look up", metadata={"job": job_id},
                 close="Cancel")


def confirm_invite(job_id: str, card: TrainerCard) -> dict[str, Any]:
    name = link(card.profile_url, card.name) if card.profile_url else escape(card.name)
    about = " · ".join(escape(part) for part in (card.title, card.country) if part)
    facts = []
    if card.hourly_rate_usd is not None:
        facts.append(f"${card.hourly_rate_usd:g}/hour")
    if card.job_success_score is not None:
        facts.append(f"{card.job_success_score:g}% job success")
    if card.average_rating is not None and card.review_count:
        facts.append(f"{card.average_rating:g}★ from {card.review_count} reviews")
    if card.identity_verified:
        facts.append("identity verified")
    blocks = [section(f"*{name}*" + (f"\n{about}" if about else "") + (f"\n{' · '.join(facts)}" if facts else "")),
              context("OpenTrain shows first names and last initials only. Invite this trainer to the job?")]
    return modal("Invite a trainer", blocks, callback_id=CONFIRM_INVITE_VIEW, submit="Invite", close="Cancel",
                 metadata={"job": job_id, "trainer": card.freelancer_id})


def read_inputs(view: dict[str, Any]) -> dict[str, str | None]:
    """Each input's value as text (None when empty), by block_id, whatever the element."""
    found: dict[str, str | None] = {}
    for block_id, elements in ((view.get("state") or {}).get("values") or {}).items():
        element = (elements or {}).get(INPUT) or {}
        selected = element.get("selected_option") or {}
        value = selected.get("value") if element.get("type") == "static_select" else element.get("value")
        found[str(block_id)] = None if value is None else str(value)
    return found


def metadata(view: dict[str, Any]) -> dict[str, str]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _input(spec: EditableField) -> dict[str, Any] | None:
    element: dict[str, Any] = {"action_id": INPUT}
    if spec.type == "enum" and spec.choices:
        options = [_option(value) for value in spec.choices[:100]]
        element.update(type="static_select", options=options, placeholder=_plain("Choose"))
        if spec.value in spec.choices:
            element["initial_option"] = _option(str(spec.value))
    elif spec.type in ("number", "integer"):
        element.update(type="number_input", is_decimal_allowed=spec.type == "number", min_value="0")
        if isinstance(spec.value, (int, float)) and not isinstance(spec.value, bool):
            element["initial_value"] = _number(spec.value)
    else:
        value = input_value(spec.value, MAX_INPUT_CHARS)
        if value is None:
            return None
        element.update(type="plain_text_input", multiline=spec.key in TEXT_AREAS, max_length=MAX_INPUT_CHARS)
        if value:
            element["initial_value"] = value
    return {"type": "input", "block_id": spec.key, "label": _plain(spec.label), "element": element,
            "optional": spec.key not in ("jobTitle", "jobDescription")}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _option(value: str) -> dict[str, Any]:
    label = value.replace("_", " ").capitalize()
    return {"text": _plain(escape(label, 75)), "value": value[:150]}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}
