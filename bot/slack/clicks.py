"""Where a click came from, read once for every interactive payload (buttons, menus, the catch-all)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ClickOrigin:
    team_id: str
    user_id: str
    channel: str  # "" when the payload names none (a click in a modal)
    thread_ts: str | None  # the thread of the message clicked, if it is in one
    message_ts: str  # the message the button was on


def click_origin(body: dict[str, Any]) -> ClickOrigin:
    """Slack puts these in several places depending on the surface: the first one present wins."""
    user = body.get("user") or {}
    container = body.get("container") or {}
    message = body.get("message") or {}
    return ClickOrigin(
        team_id=str((body.get("team") or {}).get("id") or user.get("team_id") or ""),
        user_id=str(user.get("id") or ""),
        channel=str((body.get("channel") or {}).get("id") or container.get("channel_id") or ""),
        thread_ts=message.get("thread_ts") or container.get("thread_ts"),
        message_ts=str(container.get("message_ts") or message.get("ts") or ""),
    )
