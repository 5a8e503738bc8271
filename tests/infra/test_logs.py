"""The logging set-up: every record app_log is redacted, one line, bounded; bolt's verifier stays quiet."""

from __future__ import annotations

import logging

from slack_bolt.middleware.request_verification.async_request_verification import AsyncRequestVerification
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.infra.logs import MAX_MESSAGE_CHARS, MAX_TRACEBACK_CHARS

FORGED = "2026-11-30 23:59:59,999 INFO bot: FORGED"




def test_a_message_is_one_escaped_bounded_line_with_its_secrets_redacted(app_log):
    log = logging.getLogger("hirebot.test.logs")
    log.info("answer: %s", f"fine\n{FORGED}\r\x1b[31mred\x00\u2028end")
    log.info("body: %s", "a" * 1_000_000 + " xoxb-1234-secret")
    log.info("token at the edge: %s", "b" * (MAX_MESSAGE_CHARS - 30) + "ot_pat_ab12_verysecretvalue")
    lines = app_log.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("answer: fine\\n" + FORGED + "\\r\\x1b[31mred\\x00\\x2028end")
    assert "\\n" + FORGED in lines[0] and "\\x1b[31m" in lines[0] and "\\x00" in lines[0]
    assert not any(line.startswith(FORGED[:23]) for line in lines)
    assert MAX_MESSAGE_CHARS < len(lines[1]) < MAX_MESSAGE_CHARS + 200 and "more characters]" in lines[1]
    assert "secret" not in app_log.getvalue() and "verysecret" not in app_log.getvalue()


def test_a_traceback_is_redacted_indented_and_bounded(app_log):
    log = logging.getLogger("hirebot.test.logs")
    try:
        raise ValueError("x" * 50_000 + f"\n{FORGED}\nslack said no to xoxb-1234-secret")
    except ValueError:
        log.exception("failed")
    try:
        deep(200)
    except RecursionError:
        log.exception("failed deep")
    text = app_log.getvalue()
    lines = text.splitlines()
    assert lines[0].endswith("failed") and "ValueError: xxx" in text and "1234-secret" not in text
    assert not any(line.startswith(FORGED[:23]) for line in lines)
    second = next(n for n, line in enumerate(lines) if line.endswith("failed deep"))
    assert all(line.startswith("  | ") for line in lines[1:second] + lines[second + 1:])
    assert len("\n".join(lines[:second])) < MAX_TRACEBACK_CHARS + 200
    assert len("\n".join(lines[second:])) < MAX_TRACEBACK_CHARS + 200
    assert "lines clipped]" in text and lines[-1] == "  | RecursionError: too deep"


def deep(n: int) -> None:
    if n == 0:
        raise RecursionError("too deep")
    deeper(n - 1)  # two functions in turn: Python does not fold the frames into "[Previous line repeated]"


def deeper(n: int) -> None:
    deep(n)


async def test_bolts_request_verifier_writes_nothing_of_a_bad_request(app_log):
    verifier = AsyncRequestVerification("the-secret", base_logger=logging.getLogger("bot.slack.bolt"))
    request = AsyncBoltRequest(body="text=" + "a" * 100_000 + f"%0A{FORGED}", headers={
        "x-slack-request-timestamp": "1", "x-slack-signature": "v0=bad", "content-type": "text/plain"})

    async def next_() -> BoltResponse:
        raise AssertionError("a bad signature must not pass")

    response = await verifier.async_process(req=request, resp=BoltResponse(status=200), next=next_)
    assert response.status == 401
    assert app_log.getvalue() == ""
    logging.getLogger("slack_bolt.RequestVerification").warning("its warnings still show")
    assert "its warnings still show" in app_log.getvalue()
