"""Block Kit for the hiring conversation: each builder returns a `SlackMessage` (plain `text` fallback + blocks).

Limits respected everywhere (field notes): 50 blocks a message, 3,000 characters a section, 100 options a
static_select, 75 characters of button text, 2,000 of a button value (150 of an option value).

Every value from outside (the requester's words, OpenTrain's labels, values, warnings and links) passes
`bot.slack.blocks.safe` in the blocks and in the `text` fallback alike: `escape` for text, `link` and `mention` for
the markup the bot writes itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.hiring.views import (
    ClaimConfirm,
    ClaimInstructions,
    EmailRequest,
    Notice,
    Published,
    Question,
    ReviewCard,
    Status,
)
from bot.slack.blocks.safe import bare_url, escape, link, mention

__all__ = ["escape"]  # re-exported: the one helper lives in safe.py

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_OPTIONS = 100
MAX_BUTTON_TEXT = 75
MAX_OPTION_TEXT = 75
MAX_BUTTONS_INLINE = 5

# Every interactive element's action_id starts with this; the value says which conversation and what to "type".
ACTION_PREFIX = "hire:"


@dataclass(frozen=True)
class SlackMessage:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


def action_value(conversation_id: str, says: str) -> str:
    """Button/option value: the conversation it belongs to and the words a click stands for."""
    return json.dumps({"c": conversation_id, "s": says}, separators=(",", ":"))


def parse_action_value(value: str) -> tuple[str, str]:
    data = json.loads(value)
    return str(data["c"]), str(data["s"])


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str, accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": mrkdwn_text(text)}
    if accessory:
        block["accessory"] = accessory
    return block


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn_text(text)]}


def mrkdwn_text(text: str) -> dict[str, Any]:
    """A mrkdwn text object. `verbatim`: Slack links only the markup the bot wrote (`safe.link`), never a bare URL,
    channel name or mention it would otherwise auto-parse."""
    return {"type": "mrkdwn", "text": clip(text, MAX_SECTION_CHARS), "verbatim": True}


def button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": escape(label, MAX_BUTTON_TEXT), "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def option(label: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": escape(label, MAX_OPTION_TEXT)}, "value": value}


def chunked_sections(lines: list[str]) -> list[dict[str, Any]]:
    """Pack lines into as few sections as fit under the per-section character limit."""
    sections, current = [], ""
    for raw in lines:
        line = clip(raw, MAX_SECTION_CHARS)
        if current and len(current) + 1 + len(line) > MAX_SECTION_CHARS:
            sections.append(section(current))
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        sections.append(section(current))
    return sections


def limited(blocks: list[dict[str, Any]], text: str) -> SlackMessage:
    """Keep the message within 50 blocks; the actions (last block) always survive."""
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 2], context("…more in the review link"), blocks[-1]]
    return SlackMessage(text=text, blocks=blocks)


# --- the thread -------------------------------------------------------------------------------------------------

def root_message(requester: str, description: str, state: str = "drafting", job_url: str | None = None) -> SlackMessage:
    summary = escape(description.strip().splitlines()[0] if description.strip() else "a new job", 200)
    lines = [f":briefcase: {mention(requester)} is hiring: *{summary}*"]
    status = escape(STATE_LABELS.get(state, state))
    lines.append(f"Status: {status}" + (f" · {link(job_url, 'view the job')}" if job_url else ""))
    return SlackMessage(
        text=f"{mention(requester)} is hiring: {summary} ({status})",
        blocks=[section("\n".join(lines)), context("Answer my questions in this thread.")],
    )


STATE_LABELS = {
    "drafting": "drafting",
    "asking": "collecting details",
    "review": "ready for review",
    "publishing": "publishing",
    "published": ":white_check_mark: published",
    "claim_pending": ":white_check_mark: published",
    "claimed": ":white_check_mark: published",
    "cancelled": "cancelled",
    "expired": "expired",
    "failed": ":warning: needs attention",
    "closed": "closed on OpenTrain",  # not a conversation state: the job was closed from Slack after publishing
}
IN_PROGRESS = ("drafting", "asking", "review", "publishing", "failed")


def notice(view: Notice) -> SlackMessage:
    text = (":warning: " if view.level == "error" else "") + escape(view.text)
    return SlackMessage(text=text, blocks=[section(text)])


def question(view: Question, conversation_id: str) -> SlackMessage:
    # A field re-opened with `edit` has no position ("2 of 5"): nothing to show then.
    position = f" ({view.position})" if view.position else ""
    lines = [f"*{escape(view.label)}*{escape(position)}", escape(view.text)]
    if view.current:
        lines.append(f"Current value: `{escape(view.current)}`")
    blocks = [section("\n".join(lines))]
    hints = [h for h in (view.hint, f"e.g. {view.example}" if view.example else None) if h]
    if hints:
        blocks.append(context(escape(" · ".join(hints))))
    if view.choices:
        blocks.append(_choice_block(view, conversation_id))
    fallback = f"{view.label}{position}: {view.text}"
    if view.choices:
        fallback += " Options: " + ", ".join(label for _, label in view.choices[:MAX_OPTIONS])
    return SlackMessage(text=escape(fallback, 3000), blocks=blocks)


def _choice_block(view: Question, conversation_id: str) -> dict[str, Any]:
    """A choice says its number, never its value: a value OpenTrain chose (`cancel`, `edit x`) must not become a
    command when clicked. The live-message check keeps a number from landing on another question."""
    if len(view.choices) <= MAX_BUTTONS_INLINE:
        return {
            "type": "actions",
            "block_id": f"choice:{view.key}",
            "elements": [
                button(label, f"{ACTION_PREFIX}choice:{number - 1}", action_value(conversation_id, str(number)))
                for number, (_, label) in enumerate(view.choices, start=1)
            ],
        }
    options = [option(label, action_value(conversation_id, str(number)))
               for number, (_, label) in enumerate(view.choices[:MAX_OPTIONS], start=1)]
    return {
        "type": "actions",
        "block_id": f"choice:{view.key}",
        "elements": [
            {
                "type": "static_select",
                "action_id": f"{ACTION_PREFIX}select",
                "placeholder": {"type": "plain_text", "text": escape(f"Choose {view.label}", 150)},
                "options": options,
            }
        ],
    }


def answered_question(label: str, answer: str) -> SlackMessage:
    """A question once answered: the answer shown, the buttons gone."""
    text = f":white_check_mark: *{escape(label)}*: {escape(answer, 500)}"
    return SlackMessage(text=f"{escape(label)}: {escape(answer, 500)}", blocks=[section(text)])


def review_card(view: ReviewCard, conversation_id: str) -> SlackMessage:
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": "Review your job"}}]
    sure = [f"*{escape(f.label)}*: {escape(f.value)}" for f in view.fields if not f.low_confidence or f.confirmed]
    blocks.extend(chunked_sections(sure))
    for item in view.fields:
        if item.low_confidence and not item.confirmed:
            blocks.append(
                section(
                    f":grey_question: *{escape(item.label)}*: {escape(item.value)}\n"
                    "_I guessed this one; please check it._",
                    accessory=button("Looks right", f"{ACTION_PREFIX}confirm:{item.key}",
                                     action_value(conversation_id, f"confirm {item.key}")),
                )
            )
    if view.warnings:
        blocks.extend(chunked_sections([":warning: " + escape(w) for w in view.warnings]))
    if view.unmapped:
        lines = ["*Not used from your description:*"]
        lines += [f"• `{escape(u.path)}`: {escape(u.reason)} ({escape(u.preview, 80)})" for u in view.unmapped]
        blocks.extend(chunked_sections(lines))
    if view.missing:
        blocks.append(context("Still missing: " + escape(", ".join(view.missing))))
    if view.review_url:
        blocks.append(context(link(view.review_url, "Open the draft on OpenTrain")))
    blocks.append(_review_actions(view, conversation_id))
    fallback = "Review your job: " + "; ".join(f"{f.label}: {f.value}" for f in view.fields)
    return limited(blocks, escape(fallback, 3000))


def _review_actions(view: ReviewCard, conversation_id: str) -> dict[str, Any]:
    elements: list[dict[str, Any]] = []
    if view.publish_ready:
        elements.append(button("Publish", f"{ACTION_PREFIX}publish", action_value(conversation_id, "publish"),
                               "primary"))
    fields = view.fields[:MAX_OPTIONS]
    if fields:
        elements.append(
            {
                "type": "static_select",
                "action_id": f"{ACTION_PREFIX}edit",
                "placeholder": {"type": "plain_text", "text": "Edit a field"},
                "options": [option(f.label, action_value(conversation_id, f"edit {f.key}")) for f in fields],
            }
        )
    elements.append(button("Cancel", f"{ACTION_PREFIX}cancel", action_value(conversation_id, "cancel"), "danger"))
    return {"type": "actions", "block_id": "review", "elements": elements}


def review_closed(view_text: str) -> SlackMessage:
    """The review card once acted on: no buttons left to click twice."""
    return SlackMessage(text=escape(view_text), blocks=[section(escape(view_text))])


def published(view: Published) -> SlackMessage:
    job = link(view.job_url, view.job_id) if view.job_url else f"`{escape(view.job_id)}`"
    head = "This job was already published" if view.already_published else ":tada: Your job is live"
    blocks = [section(f"{head}: {job}")]
    if view.warnings:
        blocks.extend(chunked_sections([":warning: " + escape(w) for w in view.warnings]))
    return SlackMessage(text=f"{head}: {bare_url(view.job_url) or escape(view.job_id)}", blocks=blocks)


def status_list(entries: list[tuple[str, Status]]) -> SlackMessage:
    """`/hire status`: one line per conversation of the requester, newest first."""
    if not entries:
        text = "You have no drafts or jobs yet. Start one with `/hire <description>`."
        return SlackMessage(text=text, blocks=[section(text)])
    lines = ["*Your drafts and jobs*"]
    for title, status in entries:
        job = f" · job `{escape(status.job_id)}`" if status.job_id else ""
        missing = f" · missing {', '.join(status.missing)}" if status.missing else ""
        state = escape(STATE_LABELS.get(status.state, status.state))
        lines.append(f"• {escape(title, 120)}: {state}{job}{escape(missing)}")
    return SlackMessage(text="\n".join(lines), blocks=chunked_sections(lines)[: MAX_BLOCKS])


def usage() -> SlackMessage:
    text = (
        "*Hire on OpenTrain from Slack*\n"
        "• `/hire <job description>`: start a job; I ask what's missing in a thread, then show a review card.\n"
        "• `/hire` alone: a form for the description (or a file with it) and the channel to work in.\n"
        "• `/hire status`: your drafts and jobs with their state.\n"
        "• `/hire list`: your published jobs on OpenTrain, with their proposals (also in my Home tab).\n"
        "• `/hire digest on` / `off`: (hiring managers) a daily list of this channel's unreviewed proposals.\n"
        "• `/hire subscribe #channel [job id …]`: (hiring managers) send these jobs' proposal cards there.\n"
        "• `/hire claim`: (account admins) hand the bot's OpenTrain account to a person, in a DM with me.\n"
        "• `/hire help`: this message.\n"
        "In the thread you can also type `back`, `status`, `cancel` or `help`."
    )
    return SlackMessage(text=text, blocks=[section(text)])


def plain(text: str) -> SlackMessage:
    return SlackMessage(text=escape(text), blocks=[section(escape(text))])


# --- the claim DM -----------------------------------------------------------------------------------------------

def email_request(view: EmailRequest, conversation_id: str, suggestion: str | None = None) -> SlackMessage:
    """Which email should own the account; the admin's own Slack email is offered as a button, never assumed."""
    lines = [escape(view.text)]
    if view.reason:
        lines.append(f"_{escape(view.reason)}_")
    lines.append("Reply here with the email address to use.")
    blocks = [section("\n".join(lines))]
    if suggestion:
        blocks.append({"type": "actions", "elements": [
            button(f"Use {suggestion}", f"{ACTION_PREFIX}claim-email", action_value(conversation_id, suggestion))]})
    return SlackMessage(text=escape(" ".join([view.text, view.reason or ""]).strip()), blocks=blocks)


def claim_confirm(view: ClaimConfirm, conversation_id: str) -> SlackMessage:
    text = (f"Hand this workspace's OpenTrain account to {view.email}? That email will own every job the bot "
            "posts and approve every hire. Confirm, or reply with another email.")
    return SlackMessage(text=escape(text), blocks=[
        section(escape(text)),
        {"type": "actions", "elements": [
            button("Confirm", f"{ACTION_PREFIX}claim-confirm", action_value(conversation_id, f"confirm {view.tag}"),
                   "primary"),
        ]},
    ])


def claim_dm(view: ClaimInstructions, conversation_id: str) -> SlackMessage:
    if view.state == "waiting":
        expiry = (
            f"<!date^{int(view.expires_at)}^{{time}} on {{date_short}}|in 30 minutes>" if view.expires_at else "soon"
        )
        lines = [
            ":key: *Claim your OpenTrain account* so you can hire from Slack.",
            f"1. Open {link(view.verification_uri, 'this verification link')}"
            + (f" and sign in as *{escape(view.email)}*." if view.email else "."),
            f"2. Enter the code *{escape(view.user_code)}*.",
            f"The code expires {expiry}. I'll update this message when it's done.",
        ]
        text = (
            f"Claim your OpenTrain account: open {bare_url(view.verification_uri) or 'the verification link'} and "
            f"enter code {escape(view.user_code)}."
        )
        return SlackMessage(text=text, blocks=[section("\n".join(lines))])
    if view.state == "claimed":
        text = ":white_check_mark: Your OpenTrain account is claimed. You can now hire from Slack."
        return SlackMessage(text=text, blocks=[section(text)])
    if view.state == "needs_email":
        text = escape(view.message or "Which email should own the OpenTrain account? Reply here with it.")
        return SlackMessage(text=text, blocks=[section(text)])
    reason = view.message or ("The verification code expired." if view.state == "expired" else "The claim failed.")
    restart = button("Restart", f"{ACTION_PREFIX}restart", action_value(conversation_id, "restart"), "primary")
    return SlackMessage(
        text=f"{escape(reason)} Click Restart for a new code.",
        blocks=[section(f":hourglass: {escape(reason)}"),
                {"type": "actions", "block_id": "claim", "elements": [restart]}],
    )
