"""Logging set-up with one filter that makes every record safe to write: tokens scrubbed, one bounded line.

`RedactingFilter` sits on the handler, so it sees every record that is written, whichever logger made it:

- secrets (OpenTrain, webhook and Slack tokens) are replaced by their prefix and a mask;
- newlines and other control characters in the message are escaped (`\\n`, `\\x1b`), so text that came from outside
  (a request body, a user's answer, an id) can never start a line of its own and pass for a record;
- the message is clipped to `MAX_MESSAGE_CHARS`, a traceback to `MAX_TRACEBACK_CHARS` (its end, where the error is);
  every traceback line is indented, so an exception's text cannot pass for a record either;
- records of loggers in `QUIET_LOGGERS` below their level are dropped: bolt's request verifier logs the whole raw
  body of every badly signed request at INFO (50 unsigned 1 MiB posts were 52 MB of log).

With LOG_FORMAT=json, `JsonFormatter` writes each record the filter has made safe as one JSON object on one line
(`time`, `level`, `logger`, `message`, and `exception` / `stack` when there are any): the same redaction and escaping,
then JSON's own escaping, so neither a secret nor a forged line gets through in either format.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import TextIO

SECRET_PATTERN = re.compile(
    r"(ot_(?:pat|clm|cat|ptk)_[A-Za-z0-9_\-]+|whsec_[A-Za-z0-9_\-]+|xox[abposr]-[A-Za-z0-9\-]+|xapp-[A-Za-z0-9\-]+)"
)
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators some viewers break lines at.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
MAX_MESSAGE_CHARS = 2_000
MAX_TRACEBACK_CHARS = 8_000
# Loggers whose records below a level are never written, whatever the configured level.
QUIET_LOGGERS = {
    "slack_bolt.RequestVerification": logging.WARNING,  # writes the raw body of a badly signed request at INFO
}

# The password in a Redis URL: `redis://:pw@host`, `rediss://user:pw@host` -> `redis://:********@host`.
URL_PASSWORD_PATTERN = re.compile(r"(\b(?:rediss?|unix)://[^:/@\s]*:)[^@\s]+@")


def redact(text: str) -> str:
    """Replace anything shaped like a token with its prefix and a mask, and the password of a Redis URL."""
    text = URL_PASSWORD_PATTERN.sub(r"\1********@", text)
    return SECRET_PATTERN.sub(lambda m: m.group(0)[:7] + "********", text)


def escape_controls(text: str) -> str:
    """Newlines, carriage returns and every other control character as visible escapes: one line, always."""
    return CONTROL_CHARACTERS.sub(lambda m: ESCAPES.get(m.group(0)) or f"\\x{ord(m.group(0)):02x}", text)


def clip(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def safe_message(text: str) -> str:
    """What a record's message becomes: redacted first (a clipped token must not escape the pattern), then one
    escaped line, then clipped."""
    return clip(escape_controls(redact(text)))


def safe_traceback(text: str) -> str:
    """A traceback keeps its lines, each indented, escaped and clipped, and its last `MAX_TRACEBACK_CHARS` characters
    (the end, where the error is)."""
    lines = ["  | " + clip(escape_controls(line)) for line in redact(text).split("\n")]
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        size += len(line) + 1
        if size > MAX_TRACEBACK_CHARS and kept:
            kept.append(f"  | [{len(lines) - len(kept)} lines clipped]")
            break
        kept.append(line)
    return "\n".join(reversed(kept))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        quiet_below = QUIET_LOGGERS.get(record.name)
        if quiet_below is not None and record.levelno < quiet_below:
            return False
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not cost the record: keep its template
            message = str(record.msg)
        cleaned = safe_message(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text and not record.exc_text.startswith("  | "):  # not already made safe by another handler
            record.exc_text = safe_traceback(record.exc_text)
        if record.stack_info and not record.stack_info.startswith("  | "):
            record.stack_info = safe_traceback(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line; meant behind `RedactingFilter`, which has made the record safe."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:  # the filter has turned exc_info into this, made safe
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str = "INFO", stream: TextIO | None = None, log_format: str = "text") -> logging.Handler:
    """One handler on the root logger (stderr unless `stream`), every record through `RedactingFilter`, written as
    text or (`log_format="json"`) as one JSON object per line."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every URL at INFO; keep it quiet unless debugging.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    return handler
