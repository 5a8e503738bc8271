"""What the conversation shows, computed from its record alone: the next question, the review card, the status.

Pure functions: no Redis, no OpenTrain, no state changes. The draft report is the truth; a field asked again with
`back` or `edit` is described by what the report said of it before, or guessed from the contract and its value.
"""

from __future__ import annotations

import re
from typing import Any

from bot.hiring.answers import enum_label
from bot.hiring.record import Conversation, FieldSpec
from bot.hiring.views import Question, ReviewCard, ReviewField, Status, UnmappedField
from bot.opentrain.fields import DOCUMENTED_KEY_TYPES


def humanize(name: str) -> str:
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
    return words[:1].upper() + words[1:]


def display(value: Any, enum_values: frozenset[str] | set[str] = frozenset()) -> str:
    """A field value as a person reads it: enum values by their label, lists joined."""
    if isinstance(value, list):
        return ", ".join(display(v, enum_values) for v in value) or "—"
    if isinstance(value, str) and value in enum_values:
        return enum_label(value)
    return "—" if value is None or value == "" else str(value)


def next_question(conversation: Conversation) -> Question | None:
    """The field asked again on request, else the report's first gap; None when nothing is missing."""
    report = conversation.report
    if conversation.reask:
        spec = spec_of(conversation, conversation.reask)
    elif report.missing:
        spec = report.missing[0]
    else:
        return None
    keys = spec.update_keys or [spec.field]
    key = next((k for k in keys if k not in conversation.partial), keys[-1])
    # One gap with several keys asks one question per key, each with the key's own type and choices.
    single = len(keys) == 1
    kind = spec.type if single else DOCUMENTED_KEY_TYPES.get(key, spec.type)
    values = report.enums.get(key) or (spec.enum_values if single else None) or []
    label = spec.label if single else f"{spec.label} ({humanize(key).lower()})"
    current = report.normalized.get(key)
    text = spec.prompt
    listed = f"({', '.join(values)})"
    if values and text.endswith(listed):  # the choices are shown as choices
        text = text[: -len(listed)].rstrip()
    return Question(
        field=spec.field, key=key, label=label, text=text,
        type="enum" if values and kind in ("enum", "string") else kind,
        position=_position(conversation, spec, keys.index(key)),
        hint=spec.hint, example=spec.example,
        choices=[(v, enum_label(v)) for v in values],
        current=None if current is None else display(current, set(values)))


def spec_of(conversation: Conversation, name: str) -> FieldSpec:
    report = conversation.report
    for spec in report.missing:
        if spec.field == name:
            return spec
    return report.known.get(name) or _guessed_spec(conversation, name)


def _guessed_spec(conversation: Conversation, name: str) -> FieldSpec:
    """A field the API did not ask about (edit/back): its type from the enums, the contract, or its value."""
    value = conversation.report.normalized.get(name)
    enums = conversation.report.enums.get(name)
    if enums:
        kind = "enum"
    elif name in DOCUMENTED_KEY_TYPES:
        kind = DOCUMENTED_KEY_TYPES[name]
    elif isinstance(value, list):
        kind = "array"
    elif isinstance(value, bool):
        kind = "boolean"
    elif isinstance(value, (int, float)):
        kind = "number"  # 18 may well be a rate: let the API say when it must be whole
    else:
        kind = "string"
    label = humanize(name)
    return FieldSpec(field=name, label=label, prompt=f"What should the {label.lower()} be?", type=kind,
                     enum_values=list(enums or []), update_keys=[name])


def _position(conversation: Conversation, spec: FieldSpec, key_index: int) -> str:
    """"2 of 5" over the questions of this conversation; "" for a field opened with `edit`."""
    answered = conversation.answered
    missing = [m for m in conversation.report.missing if m.field not in answered]
    total = sum(len(m.update_keys) for m in missing) + len(answered)
    if spec.field in answered:
        return f"{answered.index(spec.field) + 1 + key_index} of {total}"
    if conversation.reask:
        return ""
    return f"{len(answered) + 1 + key_index} of {total}"


def editable(conversation: Conversation) -> set[str]:
    report = conversation.report
    return {*report.update_keys, *report.normalized, *report.known}


def review_card(conversation: Conversation) -> ReviewCard:
    report = conversation.report
    flagged = set(report.low_confidence)
    labels = {name: spec.label for name, spec in report.known.items()}
    enum_values = {v for values in report.enums.values() for v in values}
    fields = [ReviewField(key=name, label=labels.get(name) or humanize(name), value=display(value, enum_values),
                          low_confidence=name in flagged, confirmed=name in conversation.confirmed)
              for name, value in report.normalized.items()]
    return ReviewCard(
        job_id=conversation.job_id or "", fields=fields, warnings=[*report.warnings, *report.issues],
        unmapped=[UnmappedField(path=u.path, reason=u.reason, preview=u.preview) for u in report.unmapped],
        review_url=report.review_url, publish_ready=report.publish_ready,
        missing=[m.field for m in report.missing])


def status(conversation: Conversation) -> Status:
    card = review_card(conversation)
    return Status(state=conversation.state, job_id=conversation.job_id, fields=card.fields, missing=card.missing)
