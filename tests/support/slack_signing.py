"""Sign requests exactly as Slack does, and build the bodies Slack sends to `POST /slack/events`.

Signature: `v0=hex(HMAC_SHA256(signing_secret, f"v0:{timestamp}:{raw_body}"))` in `X-Slack-Signature`, with the
timestamp in `X-Slack-Request-Timestamp`. Slash commands and interactivity payloads are form-encoded; events are JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode


def signature(secret: str, timestamp: int | str, raw_body: str) -> str:
    base = f"v0:{timestamp}:{raw_body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, raw_body: str, content_type: str, *, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(secret, ts, raw_body),
    }


FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def slash_command_body(
    text: str,
    *,
    user_id: str,
    channel_id: str,
    response_url: str = "https://hooks.slack.invalid/commands/1",
    trigger_id: str = "trigger-1",
    team_id: str = "T1",
    command: str = "/hire",
) -> str:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": team_id,
            "channel_id": channel_id,
            "channel_name": "hiring",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def message_event_body(
    *,
    event_id: str,
    user_id: str,
    channel_id: str,
    text: str,
    ts: str,
    thread_ts: str | None = None,
    team_id: str = "T1",
    channel_type: str = "channel",
    extra: dict[str, Any] | None = None,
) -> str:
    event: dict[str, Any] = {
        "type": "message",
        "user": user_id,
        "text": text,
        "ts": ts,
        "channel": channel_id,
        "channel_type": channel_type,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    event.update(extra or {})
    return json.dumps(event_envelope(event, event_id=event_id, team_id=team_id))


def event_envelope(event: dict[str, Any], *, event_id: str, team_id: str = "T1") -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "api_app_id": "A1",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team_id, "user_id": "UBOT", "is_bot": True}],
    }


def block_action_payload(
    *,
    user_id: str,
    channel_id: str,
    message_ts: str,
    action_id: str,
    value: str | None = None,
    button_label: str | None = None,
    selected: str | None = None,
    selected_label: str | None = None,
    block_id: str = "b1",
    thread_ts: str | None = None,
    team_id: str = "T1",
    action_ts: str | None = None,
) -> dict[str, Any]:
    stamp = action_ts or f"{time.time():.6f}"
    if selected is not None:
        action = {
            "type": "static_select",
            "action_id": action_id,
            "block_id": block_id,
            "selected_option": {"text": {"type": "plain_text", "text": selected_label or selected}, "value": selected},
            "action_ts": stamp,
        }
    else:
        action = {
            "type": "button",
            "action_id": action_id,
            "block_id": block_id,
            "value": value or "",
            "text": {"type": "plain_text", "text": button_label or ""},
            "action_ts": stamp,
        }
    message: dict[str, Any] = {"type": "message", "ts": message_ts, "text": ""}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "acme"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": False},
        "trigger_id": "trigger-2",
        "channel": {"id": channel_id, "name": "hiring"},
        "message": message,
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [action],
    }


def block_action_body(**kwargs: Any) -> str:
    return urlencode({"payload": json.dumps(block_action_payload(**kwargs))})
