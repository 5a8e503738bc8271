"""Buttons and menus of the conversation: a click is the same as typing the words its value carries."""

from __future__ import annotations

import json
import logging
import re
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.blocks.conversation import ACTION_PREFIX, parse_action_value
from bot.slack.clicks import click_origin
from bot.slack.deps import SlackDeps
from bot.slack.listeners.messages import slack_time

log = logging.getLogger(__name__)

NO_LONGER_ACTIVE = "This button is no longer active: the conversation has moved on. Type `status` in its thread."


def clicked(action: dict[str, Any]) -> tuple[str, str]:
    """(value, the label the user saw) of a button or a static_select choice."""
    if "selected_option" in action:
        chosen = action["selected_option"] or {}
        return chosen.get("value", ""), chosen.get("text", {}).get("text", "")
    return action.get("value", ""), action.get("text", {}).get("text", "")


def register(app: AsyncApp, deps: SlackDeps) -> None:
    deps.inbox.handler("click", partial(_take_click, deps))

    @app.action(re.compile("^" + re.escape(ACTION_PREFIX)))
    async def on_click(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        click = click_of(body, action)
        await deps.inbox.accept("click", click["message_id"], click)


def click_of(body: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    """What handling a click needs, small enough to keep in Redis until it is handled."""
    value, label = clicked(action)
    origin = click_origin(body)
    return {
        "value": value, "label": label, "action_id": action.get("action_id", ""),
        "team_id": origin.team_id, "user_id": origin.user_id, "channel_id": origin.channel,
        "message_id": f"action:{action.get('action_ts') or json.dumps(body.get('container', {}))}",
        "message_ts": origin.message_ts,
        "action_ts": action.get("action_ts") or "",
    }


async def _take_click(deps: SlackDeps, click: dict[str, Any], redelivered: bool) -> None:
    try:
        conversation_id, says = parse_action_value(click["value"])
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring a click with an unreadable value (action %s)", click["action_id"])
        return
    team_id, user_id, channel_id = click["team_id"], click["user_id"], click["channel_id"]
    label = click["label"]
    conversation = await deps.registry.get(team_id, conversation_id)
    if conversation is None:
        await deps.dialogue.tell_ephemeral(channel_id, user_id, "This hiring conversation is over or expired.")
        return
    live = {conversation.question_ts, conversation.review_ts, conversation.claim_ts} - {""}
    if click.get("message_ts") not in live:
        # A button on a message the conversation has moved past (an old review card's "Publish" while a field is
        # being edited would otherwise be typed into that field).
        await deps.dialogue.tell_ephemeral(
            channel_id, user_id, NO_LONGER_ACTIVE,
            thread_ts=conversation.thread_ts if channel_id == conversation.channel else None)
        return
    await deps.dialogue.answer(team_id, conversation, user_id, click["message_id"], says, channel=channel_id,
                               redelivered=redelivered,
                               shown_as=label or says, sent_at=slack_time(click.get("action_ts")))
