"""LOG_FORMAT=json: one JSON object per record, with the text format's redaction and escaping (RedactingFilter)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.infra.logs import configure_logging
from bot.infra.settings import SettingsError, load_settings

FORGED_RECORD = '{"time": "2026-11-30T23:59:59.999+00:00", "level": "ERROR", "logger": "bot", "message": "FORGED"}'
SECRETS = ("xoxb-1234-verysecret", "ot_pat_ab12_verysecret", "whsec_verysecret", "xapp-1-verysecret")


@pytest.fixture
def json_log():
    root, quieted = logging.getLogger(), logging.getLogger("httpx")
    saved_handlers, saved_level, saved_quiet = root.handlers[:], root.level, quieted.level
    buffer = io.StringIO()
    configure_logging("INFO", stream=buffer, log_format=load_settings(log_format="JSON").log_format)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        quieted.setLevel(saved_quiet)


def records(buffer: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_each_record_is_one_json_object_and_a_forged_newline_makes_no_second_record(json_log):
    log = logging.getLogger("hirebot.test.json")
    log.warning("answer: %s", f"fine\n{FORGED_RECORD}\r\n{FORGED_RECORD}\u2028{FORGED_RECORD}\x1b[31m")
    log.info("plain %d", 7)
    written = records(json_log)
    assert len(written) == 2 and len(json_log.getvalue().splitlines()) == 2
    first = written[0]
    assert set(first) == {"time", "level", "logger", "message"}
    assert (first["level"], first["logger"]) == ("WARNING", "hirebot.test.json")
    # The forged records stay inside the message, escaped as in the text format.
    assert first["message"] == (f"answer: fine\\n{FORGED_RECORD}\\r\\n{FORGED_RECORD}\\x2028{FORGED_RECORD}"
                                "\\x1b[31m")
    assert written[1]["message"] == "plain 7" and written[1]["time"].endswith("+00:00")


def test_no_secret_reaches_the_json_output_in_a_message_an_argument_or_a_traceback(json_log):
    log = logging.getLogger("hirebot.test.json")
    log.info("token %s and %s", SECRETS[0], SECRETS[1])
    log.info(f"inline {SECRETS[2]} and redis://:hunter2pass@redis:6379/0")  # noqa: G004 - a careless caller
    try:
        raise RuntimeError(f"Slack refused {SECRETS[3]}\n{FORGED_RECORD}")
    except RuntimeError:
        log.exception("call failed")
    output = json_log.getvalue()
    assert "verysecret" not in output and "hunter2pass" not in output
    written = records(json_log)
    assert len(written) == 3
    assert written[0]["message"] == "token xoxb-12******** and ot_pat_********"
    assert "redis://:********@redis:6379/0" in written[1]["message"]
    failure = written[2]
    assert failure["message"] == "call failed" and failure["level"] == "ERROR"
    traceback = failure["exception"].splitlines()
    assert traceback[-2:] == ["  | RuntimeError: Slack refused xapp-1-********", f"  | {FORGED_RECORD}"]
    assert all(line.startswith("  | ") for line in traceback)


def test_log_format_takes_text_or_json_only():
    assert load_settings().log_format == "text"
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        load_settings(log_format="xml")
