"""Bad requests are cheap: what reaches the app from outside, unsigned, malformed, stale or simply unknown, is
answered at once with the right status, costs a bounded amount of log and never a traceback, and never makes the bot
call OpenTrain. Everything goes over real HTTP to the app started in-process, its log captured as `serve` writes it
(the project's logging set-up, at INFO)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import httpx

import bot.app
import bot.web
from bot.app import serve_http
from bot.ledger.webhooks import WEBHOOK_PATH, WebhookStore
from bot.slack.listeners.fallback import NO_LONGER_ACTIVE
from tests.slack.conftest import CHANNEL, REQUESTER, SIGNING_SECRET, TEAM, HttpSlack, Person
from tests.slack.story import eventually, root_of
from tests.support import slack_signing as signing
from tests.support.clock import HandClock

MIB = 1024 * 1024
# What a line of the log looks like; a request must never be able to start one of its own.
FORGED = "2026-11-30 23:59:59,999 INFO bot.slack.app: FORGED admin signed in"



def forged_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith(FORGED[:23]) and "FORGED" in line]


async def test_a_flood_of_unsigned_megabyte_posts_adds_little_log_and_forges_no_line(make_settings, slack_api,
                                                                                     app_log, capsys):
    async with serve_http(make_settings(), port=0, run_worker=False) as server, \
            httpx.AsyncClient(timeout=30) as http:
        before = len(app_log.getvalue())
        line = f"padding\n{FORGED}\r\n".encode()
        body = (line * (MIB // len(line) + 1))[:MIB - 1]  # just under aiohttp's 1 MiB limit on a request body
        url = f"{server.url}/slack/events"
        now = str(int(time.time()))
        unsigned = [http.post(url, content=body, headers={"Content-Type": signing.FORM}) for _ in range(25)]
        badly_signed = [http.post(url, content=body, headers={  # fresh timestamp: the body is read and checked
            "Content-Type": signing.JSON, "X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "0" * 64})
            for _ in range(25)]
        replies = await asyncio.gather(*unsigned, *badly_signed)

        # A signed click whose action id carries a line break: the app logs the id, on one line.
        clicker = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        payload = signing.block_action_payload(user_id=clicker.user_id, channel_id=CHANNEL,
                                               message_ts="1700000001.000001", action_id=f"old\n{FORGED}")
        assert await clicker.slack.action(payload) == 200
        await slack_api.wait_for("chat.postEphemeral")

    log = app_log.getvalue()
    growth = len(log.encode()) - len(log[:before].encode())
    with capsys.disabled():
        print(f"\nlog growth for 50 bad 1 MiB posts and one click: {growth} bytes")
    assert growth < 100_000
    assert "padding" not in log  # no request body reaches the log, not even clipped
    assert not forged_lines(log)
    assert "old\\n2026-11-30" in log  # the click's id was logged, escaped
    assert [r.status_code for r in replies] == [401] * 50


async def test_bad_timestamps_are_401_and_signed_unreadable_bodies_400_with_no_traceback(make_settings, slack_api,
                                                                                         app_log):
    async with serve_http(make_settings(), port=0, run_worker=False) as server, \
            httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        url = f"{server.url}/slack/events"
        event = json.dumps(signing.event_envelope({"type": "app_mention", "text": "hi"}, event_id="Ev1"))

        def signed_at(timestamp: str, body: str) -> dict[str, str]:
            return {"Content-Type": signing.JSON, "X-Slack-Request-Timestamp": timestamp,
                    "X-Slack-Signature": signing.signature(SIGNING_SECRET, timestamp, body)}

        refused = {
            "non-numeric timestamp": await http.post(url, content=event, headers=signed_at("soon", event)),
            "negative timestamp": await http.post(url, content=event, headers=signed_at("-1", event)),
            "huge timestamp": await http.post(url, content=event, headers=signed_at("9" * 40, event)),
            "stale timestamp": await slack.deliver(event, signing.JSON, timestamp=int(time.time()) - 301),
            "future timestamp": await slack.deliver(event, signing.JSON, timestamp=int(time.time()) + 301),
            "no signature": await http.post(url, content=event, headers={"Content-Type": signing.JSON}),
            "wrong secret": await slack.deliver(event, signing.JSON, secret="someone-else"),
        }
        assert {name: r.status_code for name, r in refused.items()} == dict.fromkeys(refused, 401)

        unreadable = {
            "truncated JSON": (event[: len(event) // 2], signing.JSON),
            "JSON array": ("[1, 2, 3]", signing.JSON),
            "JSON without a type": ('{"token": "x"}', signing.JSON),
            "deeply nested JSON": ("{\"a\":" + "[" * 100_000, signing.JSON),
            "form without payload or command": ("user_id=U1&text=hello", signing.FORM),
            "payload that is truncated JSON": (urlencode({"payload": '{"type": "block_actions"'}), signing.FORM),
            "payload that is a JSON array": (urlencode({"payload": "[]"}), signing.FORM),
            "empty body": ("", signing.JSON),
        }
        statuses = {name: (await slack.deliver(body, kind)).status_code for name, (body, kind) in unreadable.items()}
        assert statuses == dict.fromkeys(unreadable, 400)
        not_utf8 = b'{"type": "event_callback", "x": "\xff\xfe"}'
        now = str(int(time.time()))
        headers = {"Content-Type": signing.JSON, "X-Slack-Request-Timestamp": now,
                   "X-Slack-Signature": _sign_bytes(now, not_utf8)}
        assert (await http.post(url, content=not_utf8, headers=headers)).status_code == 400

        # A good request still goes through after all that.
        assert await slack.event(json.loads(event)) == 200

    log = app_log.getvalue()
    assert "Traceback" not in log and "Error handling request" not in log
    assert "refused Slack requests" in log  # counted, once a minute at most, not echoed


def _sign_bytes(timestamp: str, raw: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + raw
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


async def test_unknown_actions_views_and_other_requests_are_acked(make_settings, slack_api, app_log):
    async with serve_http(make_settings(), port=0, run_worker=False) as server, \
            httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        person = Person(REQUESTER, slack, slack_api)
        user = {"id": REQUESTER, "username": "ureq", "team_id": TEAM}
        team = {"id": TEAM, "domain": "acme"}

        # An old button after a deploy, in a thread: 200, and a note to the person who clicked.
        click = signing.block_action_payload(user_id=REQUESTER, channel_id=CHANNEL, message_ts="1700000002.000001",
                                             thread_ts="1700000001.000001", action_id="gone_after_deploy",
                                             value="x")
        assert await slack.action(click) == 200
        note = (await slack_api.wait_for("chat.postEphemeral"))[0].args
        assert (note["channel"], note["user"], note["text"]) == (CHANNEL, REQUESTER, NO_LONGER_ACTIVE)
        assert note["thread_ts"] == "1700000001.000001"

        view = {"id": "V1", "type": "modal", "callback_id": "modal_of_an_old_version", "private_metadata": "",
                "state": {"values": {}}}
        submitted = await slack.deliver(urlencode({"payload": json.dumps(
            {"type": "view_submission", "team": team, "user": user, "view": view, "api_app_id": "A1"})}),
            signing.FORM)
        assert submitted.status_code == 200 and submitted.text == ""  # an empty ack closes the modal
        others = {
            "view_closed": {"type": "view_closed", "team": team, "user": user, "view": view, "api_app_id": "A1"},
            "action in a modal": {**click, "container": {"type": "view", "view_id": "V1"}, "channel": None,
                                  "view": view},
            "global shortcut": {"type": "shortcut", "callback_id": "retired", "team": team, "user": user,
                                "trigger_id": "t1"},
            "message shortcut": {"type": "message_action", "callback_id": "retired", "team": team, "user": user,
                                 "channel": {"id": CHANNEL}, "message": {"ts": "1.0", "text": "hi"},
                                 "trigger_id": "t2"},
            "options": {"type": "block_suggestion", "action_id": "retired_menu", "block_id": "b", "value": "a",
                        "team": team, "user": user},
        }
        statuses = {name: await slack.action(payload) for name, payload in others.items()}
        assert statuses == dict.fromkeys(others, 200)

        command = signing.slash_command_body("hello", user_id=REQUESTER, channel_id=CHANNEL, command="/fire")
        assert await slack.command(command) == 200
        mention = signing.event_envelope({"type": "app_mention", "user": REQUESTER, "text": "<@UBOT> hi",
                                          "channel": CHANNEL, "ts": "1.0"}, event_id="EvMention")
        assert await slack.event(mention) == 200
        rate_limited = {"token": "x", "type": "app_rate_limited", "team_id": TEAM, "minute_rate_limited": 1,
                        "api_app_id": "A1"}
        assert await slack.event(rate_limited) == 200  # no listener kind at all: the endpoint acks it

        # bolt alone would read a form that has the word "payload" anywhere as an interactivity payload, and drop it.
        assert await person.hire("We need 3 payload integration engineers, $40/hour, English") == 200
        await eventually(lambda: root_of(slack_api), "the root message of a /hire that says 'payload'")

        assert len(slack_api.calls_to("chat.postEphemeral")) == 1  # only the click in a channel was told
    assert "Traceback" not in app_log.getvalue()


async def test_healthz_checks_redis_only_and_readyz_asks_opentrain_once_per_interval(make_settings, slack_api,
                                                                                    sandbox_url, monkeypatch):
    clock = HandClock(start=1_000.0)
    monkeypatch.setattr(bot.web, "monotonic", clock)  # the readiness cache's clock, moved by hand
    async with serve_http(make_settings(), port=0, run_worker=False) as server, \
            httpx.AsyncClient(timeout=10) as http:
        (await http.delete(f"{sandbox_url}/_sandbox/requests")).raise_for_status()

        async def opentrain_requests() -> int:
            return int((await http.get(f"{sandbox_url}/_sandbox/requests")).json()["count"])

        live = [await http.get(f"{server.url}/healthz") for _ in range(300)]
        assert {r.status_code for r in live} == {200} and live[0].json() == {"ok": True, "redis": "ok"}
        assert await opentrain_requests() == 0

        ready = await asyncio.gather(*(http.get(f"{server.url}/readyz") for _ in range(50)))
        assert {r.status_code for r in ready} == {200}
        assert all(r.json() == {"ok": True, "redis": "ok", "opentrain": "ok"} for r in ready)
        assert await opentrain_requests() == 1  # fifty probes at once share one check

        for _ in range(50):
            clock.advance(bot.web.OPENTRAIN_CHECK_SECONDS / 100)
            assert (await http.get(f"{server.url}/readyz")).status_code == 200
        assert await opentrain_requests() == 1  # half an interval of probes, one after another
        clock.advance(bot.web.OPENTRAIN_CHECK_SECONDS / 2 + 1)
        await asyncio.gather(*(http.get(f"{server.url}/readyz") for _ in range(50)))
        assert await opentrain_requests() == 2  # the next interval: one more


async def test_a_replayed_webhook_rings_nothing(make_settings, slack_api, redis, namespace, monkeypatch):
    rings: list[str] = []
    real_doorbell = bot.app.doorbell  # schedules a ledger read

    def counting_doorbell(scheduler):
        ring = real_doorbell(scheduler)

        async def counted(workspace_id: str) -> None:
            rings.append(workspace_id)
            await ring(workspace_id)

        return counted

    monkeypatch.setattr(bot.app, "doorbell", counting_doorbell)
    secret = "whsec_replay-test"
    async with serve_http(make_settings(), port=0, run_worker=False) as server, \
            httpx.AsyncClient(timeout=10) as http:
        core = server.runtime.core
        store = WebhookStore(core.redis, namespace, core.secretbox)
        await store.save(TEAM, "wh_1", f"{server.url}{WEBHOOK_PATH}?workspace={TEAM}", secret, checked_at=0)
        body = json.dumps({"id": "3001", "type": "proposal.received", "data": {"proposalId": "p1"}}).encode()
        at = int(time.time())
        signature = f"t={at},v1=" + hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
        url = f"{server.url}{WEBHOOK_PATH}?workspace={TEAM}"
        first = await http.post(url, content=body, headers={"X-OpenTrain-Signature": signature,
                                                             "X-OpenTrain-Delivery": "dlv-1"})
        replayed = await http.post(url, content=body, headers={"X-OpenTrain-Signature": signature,
                                                                "X-OpenTrain-Delivery": "dlv-2"})
    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert (replayed.status_code, replayed.json()["duplicate"]) == (200, True)
    assert rings == [TEAM]
