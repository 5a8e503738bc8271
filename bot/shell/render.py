"""Plain-text rendering of the engine's views, laid out the way the Slack messages read."""

from __future__ import annotations

import time
from functools import singledispatch

from bot.hiring.views import (
    ClaimConfirm,
    ClaimInstructions,
    EmailRequest,
    Link,
    Mention,
    NotAllowed,
    Notice,
    Published,
    Question,
    ReviewCard,
    ReviewField,
    Status,
    View,
    Words,
)


def plain_words(words: Words) -> str:
    """Words as the terminal shows them: people by id, links as "label (url)"."""
    return "".join(part if isinstance(part, str) else part.user_id if isinstance(part, Mention)
                   else f"{part.label} ({part.url})" if isinstance(part, Link) else part.text for part in words)


def indent(lines: list[str]) -> str:
    return "\n".join(f"  {line}" if line else "" for line in lines)


@singledispatch
def render(view: View) -> str:
    return str(view)


@render.register
def _notice(view: Notice) -> str:
    return ("! " if view.level == "error" else "") + view.text


@render.register
def _not_allowed(view: NotAllowed) -> str:
    return "! " + plain_words(view.words)


@render.register
def _claim_confirm(view: ClaimConfirm) -> str:
    return (f"[DM] Hand this workspace's OpenTrain account to {view.email}? That email will own every job the bot "
            "posts and approve every hire.\n  Type `confirm`, or another email.")


@render.register
def _question(view: Question) -> str:
    lines = [f"[{view.position}] {view.label}" if view.position else view.label, view.text]
    if view.current:
        lines.append(f"Currently: {view.current}")
    if view.hint:
        lines.append(f"Hint: {view.hint}")
    if view.example:
        lines.append(f"Example: {view.example}")
    lines += [f"  {n}. {label}" for n, (_, label) in enumerate(view.choices, start=1)]
    if view.choices:
        lines.append("(type a number or the value)")
    return "Question " + lines[0] + "\n" + indent(lines[1:])


def _field_line(field: ReviewField) -> str:
    flag = ""
    if field.low_confidence:
        flag = ("  (confirmed)" if field.confirmed
                else "  ⚠ low confidence: `confirm " + field.key + "` or `edit " + field.key + "`")
    return f"{field.label} [{field.key}]: {field.value}{flag}"


@render.register
def _review(view: ReviewCard) -> str:
    lines = [_field_line(f) for f in view.fields]
    if view.warnings:
        lines += ["", "Warnings:"] + [f"- {w}" for w in view.warnings]
    if view.unmapped:
        lines += ["", "Not mapped to any field:"] + [
            f"- {u.path}: {u.reason}" + (f" ({u.preview})" if u.preview else "") for u in view.unmapped]
    if view.missing:
        lines += ["", "Still missing: " + ", ".join(view.missing)]
    if view.review_url:
        lines += ["", f"Review online: {view.review_url}"]
    lines += ["", "Type `publish`, `edit <field>`, `confirm <field>`, `back` or `cancel`."]
    return f"Review draft {view.job_id}\n" + indent(lines)


@render.register
def _published(view: Published) -> str:
    head = "Already published" if view.already_published else "Published!"
    lines = [f"Job {view.job_id}: {view.job_url or '(no link)'}"] + [f"Warning: {w}" for w in view.warnings]
    return head + "\n" + indent(lines)


@render.register
def _email(view: EmailRequest) -> str:
    return view.text


@render.register
def _claim(view: ClaimInstructions) -> str:
    if view.state == "waiting":
        minutes = max(0, round(((view.expires_at or time.time()) - time.time()) / 60))
        return "[DM] Claim your OpenTrain account\n" + indent([
            f"1. Open {view.verification_uri}",
            f"2. Sign in as {view.email} and enter the code {view.user_code}",
            f"The code is valid for about {minutes} minutes. I'll tell you when it's done.",
            "(sandbox: type `:confirm-claim` to play the human)"])
    if view.state == "claimed":
        return "[DM] Your OpenTrain account is claimed. You can now hire from your jobs."
    return f"[DM] {view.message or view.state}"


@render.register
def _status(view: Status) -> str:
    lines = [f"State: {view.state}", f"Draft: {view.job_id or '(not created yet)'}"]
    lines += [_field_line(f) for f in view.fields]
    if view.missing:
        lines.append("Still missing: " + ", ".join(view.missing))
    return "Status\n" + indent(lines)
