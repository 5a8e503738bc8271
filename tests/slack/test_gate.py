"""The /slack/events gate on its own: which requests it refuses with what, and how little it logs doing so."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

from bot.slack.gate import ParsedRequest, Refusal, RefusalLog, SlackGate, check_headers, parse_body
from tests.support import slack_signing as signing
from tests.support.clock import HandClock

SECRET = "gate-secret"
NOW = 1_800_000_000.0


def test_headers_are_refused_before_the_body_is_read():
    good = signing.signature(SECRET, int(NOW), "")
    assert check_headers(SECRET, str(int(NOW)), good, NOW) is None
    assert check_headers(SECRET, str(int(NOW) - 300), good, NOW) is None
    for timestamp in (None, "", "soon", "-5", "1.5", " 1800000000", "١٨٠٠٠٠٠٠٠٠", "9" * 13):
        assert check_headers(SECRET, timestamp, good, NOW) == Refusal(401, "missing or non-numeric timestamp")
    for timestamp in (str(int(NOW) - 301), str(int(NOW) + 301), "0"):
        assert check_headers(SECRET, timestamp, good, NOW) == Refusal(401, "stale timestamp")
    for signature in (None, "", "v0=", "v1=" + "0" * 64, "v0=" + "G" * 64, good + "0"):
        assert check_headers(SECRET, str(int(NOW)), signature, NOW) == Refusal(401, "missing or malformed signature")
    assert check_headers("", str(int(NOW)), good, NOW) == Refusal(401, "no signing secret configured")


def test_bodies_read_as_the_shapes_slack_sends():
    event = json.dumps({"type": "event_callback", "event": {"type": "message"}})
    assert parse_body(event.encode(), "application/json; charset=utf-8") == ParsedRequest(event, json.loads(event))
    command = signing.slash_command_body("3 payload engineers", user_id="U1", channel_id="C1")
    parsed = parse_body(command.encode(), signing.FORM)
    assert isinstance(parsed, ParsedRequest) and parsed.body["text"] == "3 payload engineers"
    click = urlencode({"payload": json.dumps({"type": "block_actions", "actions": []})})
    assert parse_body(click.encode(), signing.FORM) == ParsedRequest(click, {"type": "block_actions", "actions": []})
    assert isinstance(parse_body(b"ssl_check=1&token=x", signing.FORM), ParsedRequest)
    for raw, kind in ((b'{"type": "event_callback"', signing.JSON), (b"[]", signing.JSON), (b"{}", signing.FORM),
                      (b'{"type": 3}', signing.JSON), (b"null", signing.JSON), (b"", signing.JSON),
                      (b"text=hi", signing.FORM), (b"payload=%7B", signing.FORM), (b"payload=%5B%5D", signing.FORM),
                      (b'{"type": "x", "t": "\xff"}', signing.JSON)):
        refused = parse_body(raw, kind)
        assert isinstance(refused, Refusal) and refused.status == 400, raw


async def test_a_signed_request_passes_and_the_body_is_read_only_when_the_headers_pass():
    gate = SlackGate(SECRET, clock=lambda: NOW)
    body = json.dumps({"type": "url_verification", "challenge": "c"})
    headers = {"X-Slack-Request-Timestamp": str(int(NOW)), "X-Slack-Signature": signing.signature(SECRET, int(NOW),
                                                                                                   body)}
    reads: list[int] = []

    async def read() -> bytes:
        reads.append(1)
        return body.encode()

    assert isinstance(await gate.check(headers, read), ParsedRequest)
    assert await gate.check({}, read) == Refusal(401, "missing or non-numeric timestamp")
    assert len(reads) == 1


def test_refusals_are_logged_as_counts_at_most_once_a_minute(caplog):
    clock = HandClock()
    refusals = RefusalLog(every=60, clock=clock)
    with caplog.at_level(logging.INFO, logger="bot.slack.gate"):
        for _ in range(1_000):
            refusals.note(Refusal(401, "stale timestamp"))
            clock.advance(0.01)
        refusals.note(Refusal(400, "JSON body is not an event envelope"))
        clock.advance(60)
        refusals.note(Refusal(401, "stale timestamp"))
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["refused Slack requests: 401 stale timestamp: 1",
                     "refused Slack requests: 400 JSON body is not an event envelope: 1, 401 stale timestamp: 1000"]
