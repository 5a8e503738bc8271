"""Message events: a reply in a known thread (or the requester's DM line the bot asked for) goes to the engine; a
file shared in a DM with the bot starts a job from it (`slack/file_share.py`).

Ignored: bot messages, edits, deletions and other subtypes, messages outside known threads, and Slack's retries of
an event already handled (event id, Redis SET NX EX).
"""

from __future__ import annotations

import html
import logging
import re
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack.deps import SlackDeps
from bot.slack.file_share import is_dm_file_share, start_from_file, start_id
from bot.slack.registry import SlackConversation

log = logging.getLogger(__name__)

# A user's own words; thread_broadcast is a reply also shown in the channel, file_share a reply with a file.
ANSWER_SUBTYPES = {None, "thread_broadcast", "file_share"}
SLACK_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def plain_text(slack_text: str) -> str:
    """Undo Slack's formatting: `<mailto:a@b.co|a@b.co>` -> `a@b.co`, `<https://x|x>` -> `x`, entities decoded."""

    def unwrap(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if label:
            return label
        return target.removeprefix("mailto:")

    return html.unescape(SLACK_LINK.sub(unwrap, slack_text)).strip()


def is_users_answer(event: dict[str, Any]) -> bool:
    return (
        event.get("subtype") in ANSWER_SUBTYPES
        and not event.get("bot_id")
        and bool(event.get("user"))
        and bool((event.get("text") or "").strip())
    )


def register(app: AsyncApp, deps: SlackDeps) -> None:
    deps.inbox.handler("answer", partial(_take_answer, deps))
    deps.inbox.handler("file", partial(start_from_file, deps))

    @app.event("message")
    async def on_message(event: dict[str, Any], body: dict[str, Any]) -> None:
        received = {"team_id": body.get("team_id") or event.get("team") or "", "event_id": body.get("event_id", ""),
                    "event": event}
        if is_dm_file_share(event):
            await deps.inbox.accept("file", start_id(event), received)
        elif is_users_answer(event):
            await deps.inbox.accept("answer", message_id(event), received)


def slack_time(ts: Any) -> float | None:
    """A Slack timestamp ("1700000000.000100") as epoch seconds: when the message was sent."""
    try:
        return float(ts) if ts else None
    except (TypeError, ValueError):
        return None


def message_id(event: dict[str, Any]) -> str:
    """The engine's id of a Slack message: the same for Slack's retries of its event."""
    return f"message:{event['channel']}:{event['ts']}"


async def _take_answer(deps: SlackDeps, answer: dict[str, Any], redelivered: bool) -> bool:
    """False: a retry of an event another process took first; the inbox keeps it in case that process died."""
    team_id, event = answer["team_id"], answer["event"]
    if await _to_candidate(deps, team_id, event):
        return True
    conversation = await _conversation_of(deps, team_id, event)
    if conversation is None:
        return True
    # A replay from the inbox may follow a first try that got this far: the engine's message id dedupes it.
    if not redelivered and not await deps.deduper.first_delivery(team_id, answer["event_id"]):
        return False
    # Who may say what is the engine's to decide (bot/hiring/authz.py), at the moment it applies the message.
    await deps.dialogue.answer(team_id, conversation, event["user"], message_id(event), plain_text(event["text"]),
                               redelivered=redelivered,
                               channel=event["channel"], sent_at=slack_time(event.get("ts")))
    return True


async def _to_candidate(deps: SlackDeps, team_id: str, event: dict[str, Any]) -> bool:
    """A reply in a candidate conversation's thread goes to the relay (queued once per message ts)."""
    thread_ts = event.get("thread_ts")
    if not thread_ts or thread_ts == event.get("ts"):
        return False
    return await deps.relay.take(team_id, event["channel"], thread_ts, event["ts"], event["user"],
                                 plain_text(event["text"]))


async def _conversation_of(deps: SlackDeps, team_id: str, event: dict[str, Any]) -> SlackConversation | None:
    thread_ts = event.get("thread_ts")
    if thread_ts and thread_ts != event.get("ts"):
        return await deps.registry.get(team_id, f"{event['channel']}:{thread_ts}")
    if event.get("channel_type") == "im" and not thread_ts:
        routed = await deps.registry.dm_route(team_id, event["user"])
        return await deps.registry.get(team_id, routed) if routed else None
    return None
