"""Slack scenario fixtures: the stand-in Slack Web API, settings for an in-process app, and "Slack's side" that
delivers signed HTTP requests (or Socket Mode envelopes) the way Slack does."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from cryptography.fernet import Fernet

from bot.infra.settings import Settings, load_settings
from tests.support import slack_signing as signing
from tests.support.slack_api import PostedMessage, SlackApiStandIn
from tests.support.socket_mode import SocketModeServer

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-bot-token"
APP_TOKEN = "xapp-test-app-token"
TEAM = "T1"
REQUESTER = "UREQ"
REQUESTER_EMAIL = "rita@example.com"
STRANGER = "USTRANGER"
CHANNEL = "CHIRING"
DEMO = "We need 10 annotators for 50,000 dashcam images, $18/hour, English"


@pytest.fixture
async def slack_api():
    async with SlackApiStandIn(team_id=TEAM) as api:
        api.add_user(REQUESTER, REQUESTER_EMAIL, "Rita Requester", admin=True)  # a workspace admin: may claim
        api.add_user(STRANGER, "sam@example.com", "Sam Stranger")
        yield api


@pytest.fixture
def make_settings(redis, redis_url, namespace, sandbox_url, slack_api, tmp_path):
    """Settings for one app process; `redis` is requested so the namespace is cleaned after the test."""
    # The claim poll waits `interval` seconds before its first try; 1 s keeps the story quick.
    httpx.post(f"{sandbox_url}/_sandbox/config", json={"claimIntervalSeconds": 1}, timeout=5).raise_for_status()
    key = Fernet.generate_key().decode()

    def make(**overrides: Any) -> Settings:
        values = dict(
            redis_url=redis_url,
            redis_namespace=namespace,
            opentrain_base_url=sandbox_url,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_app_token=APP_TOKEN,
            slack_api_url=slack_api.url,
            encryption_key=key,
            data_dir=tmp_path,
            opentrain_api_token=None,
        )
        values.update(overrides)
        return load_settings(**values)

    return make


class HttpSlack:
    """Slack delivering to `POST /slack/events` over real HTTP, signed; several app URLs are used in turn."""

    def __init__(self, urls: list[str], http: httpx.AsyncClient):
        self._urls = itertools.cycle(urls)
        self._http = http

    async def deliver(self, raw_body: str, content_type: str, *, headers: dict[str, str] | None = None,
                      timestamp: int | None = None, secret: str = SIGNING_SECRET) -> httpx.Response:
        signed = signing.signed_headers(secret, raw_body, content_type, timestamp=timestamp)
        signed.update(headers or {})
        return await self._http.post(f"{next(self._urls)}/slack/events", content=raw_body, headers=signed)

    async def command(self, fields: str) -> int:
        return (await self.deliver(fields, signing.FORM)).status_code

    async def event(self, envelope: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        return (await self.deliver(json.dumps(envelope), signing.JSON, headers=headers)).status_code

    async def action(self, payload: dict[str, Any]) -> int:
        from urllib.parse import urlencode

        return (await self.deliver(urlencode({"payload": json.dumps(payload)}), signing.FORM)).status_code


class SocketSlack:
    """Slack delivering the same payloads as Socket Mode envelopes; 200 stands for an ack received."""

    def __init__(self, server: SocketModeServer):
        self._server = server

    async def command(self, fields: str) -> int:
        await self._server.send("slash_commands", dict(parse_qsl(fields)))
        return 200

    async def event(self, envelope: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        await self._server.send("events_api", envelope)
        return 200

    async def action(self, payload: dict[str, Any]) -> int:
        await self._server.send("interactive", payload)
        return 200


@dataclass
class Person:
    """A Slack user acting through `slack` (HttpSlack or SocketSlack), seen through the Web API stand-in."""

    user_id: str
    slack: Any
    api: SlackApiStandIn
    _ids = itertools.count(1)

    async def hire(self, text: str, channel: str = CHANNEL) -> int:
        n = next(self._ids)
        fields = signing.slash_command_body(text, user_id=self.user_id, channel_id=channel, team_id=TEAM,
                                            response_url=self.api.response_url(str(n)), trigger_id=f"trig-{n}")
        return await self.slack.command(fields)

    def message_envelope(self, text: str, channel: str, thread_ts: str | None, *, event_id: str | None = None,
                         channel_type: str = "channel", **extra: Any) -> dict[str, Any]:
        n = next(self._ids)
        raw = signing.message_event_body(
            event_id=event_id or f"Ev{n:06d}", user_id=self.user_id, channel_id=channel, text=text,
            ts=f"1800000000.{n:06d}", thread_ts=thread_ts, team_id=TEAM, channel_type=channel_type, extra=extra)
        return json.loads(raw)

    async def say(self, text: str, root: PostedMessage, **extra: Any) -> int:
        channel_type = "im" if root.channel.startswith("D") else "channel"
        envelope = self.message_envelope(text, root.channel, root.ts, channel_type=channel_type, **extra)
        return await self.slack.event(envelope)

    async def click(self, message: PostedMessage, label: str) -> int:
        """Click the button labelled `label`, or pick the option `label` of a menu, in `message`."""
        element, chosen = find_control(message.blocks, label)
        payload = signing.block_action_payload(
            user_id=self.user_id, channel_id=message.channel, message_ts=message.ts,
            action_id=element["action_id"], team_id=TEAM, thread_ts=message.thread_ts,
            value=element.get("value"), button_label=label,
            selected=chosen["value"] if chosen else None, selected_label=label if chosen else None,
            action_ts=f"1800000001.{next(self._ids):06d}")
        return await self.slack.action(payload)


def controls(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for block in blocks:
        if block.get("type") == "actions":
            found += block["elements"]
        if block.get("accessory"):
            found.append(block["accessory"])
    return found


def find_control(blocks: list[dict[str, Any]], label: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    for element in controls(blocks):
        if element["type"] == "button" and element["text"]["text"] == label:
            return element, None
        for option in element.get("options", []):
            if option["text"]["text"] == label:
                return element, option
    raise AssertionError(f"no control labelled {label!r} in {json.dumps(blocks)[:800]}")


def labels(message: PostedMessage) -> list[str]:
    names = []
    for element in controls(message.blocks):
        if element["type"] == "button":
            names.append(element["text"]["text"])
        names += [o["text"]["text"] for o in element.get("options", [])]
    return names


def text_of(message: PostedMessage) -> str:
    """Everything a person reads in a message: fallback text plus every block's text."""
    return message.text + "\n" + json.dumps(message.blocks)
