"""The gate of POST /slack/events: a request is checked on its raw bytes before bolt parses anything.

bolt's aiohttp path parses the body before it checks the signature: a truncated JSON object, a JSON array or a
non-numeric `X-Slack-Request-Timestamp` raised inside bolt (500 with a traceback), and its verifier logged the whole
body of every badly signed request. Here, in order, each step as cheap as it can be:

1. the timestamp header is digits and within `TOLERANCE_SECONDS` of now, and the signature header is `v0=<64 hex>`
   (else 401, without reading the body);
2. `v0=hex(HMAC_SHA256(signing secret, "v0:{timestamp}:{raw body}"))` matches, compared in constant time (else 401);
3. the body is UTF-8 and reads as one of Slack's shapes: a JSON object with a `type` (Events API), a form with a
   `payload` holding a JSON object with a `type` (interactivity), or a form with a `command` or `ssl_check` (slash
   commands) (else 400).

Only then is the request handed to bolt, as the `ParsedRequest` read here. A refusal is logged as a count per reason
at most once a minute, never with anything from the request: a flood of bad requests costs a few lines of log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

log = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300  # Slack's own: a request older (or newer) than five minutes is refused
REFUSAL_LOG_SECONDS = 60.0
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


@dataclass(frozen=True)
class Refusal:
    status: int  # 401: not from Slack; 400: signed, but not a request Slack sends
    reason: str


@dataclass(frozen=True)
class ParsedRequest:
    text: str
    body: dict[str, Any]


def check_headers(secret: str, timestamp: str | None, signature: str | None, now: float) -> Refusal | None:
    """What can be refused before reading a byte of the body."""
    if not secret:
        return Refusal(401, "no signing secret configured")
    if timestamp is None or not TIMESTAMP.fullmatch(timestamp):
        return Refusal(401, "missing or non-numeric timestamp")
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return Refusal(401, "stale timestamp")
    if signature is None or not SIGNATURE.fullmatch(signature):
        return Refusal(401, "missing or malformed signature")
    return None


def signature_matches(secret: str, timestamp: str, raw_body: bytes, signature: str) -> bool:
    expected = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("v0=" + expected, signature)


def parse_body(raw_body: bytes, content_type: str | None) -> ParsedRequest | Refusal:
    """The body as one of the shapes Slack sends to the events URL, or a 400 refusal."""
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "body is not UTF-8")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == "application/json" or text.startswith("{"):  # how bolt tells JSON from a form
        body = _json_object(text)
        if body is None or not isinstance(body.get("type"), str):
            return Refusal(400, "JSON body is not an event envelope")
        return ParsedRequest(text, body)
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in form:
        payload = _json_object(form["payload"])
        if payload is None or not isinstance(payload.get("type"), str):
            return Refusal(400, "interactivity payload is not a JSON object with a type")
        return ParsedRequest(text, payload)
    if form.get("command") or form.get("ssl_check"):
        return ParsedRequest(text, form)
    return Refusal(400, "form body has neither payload nor command")


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


class RefusalLog:
    """Counts refusals by reason and writes them at most once per `every` seconds (the first one at once)."""

    def __init__(self, every: float = REFUSAL_LOG_SECONDS, clock: Callable[[], float] = time.monotonic):
        self._every = every
        self._clock = clock
        self._counts: Counter[str] = Counter()
        self._last: float | None = None

    def note(self, refusal: Refusal) -> None:
        self._counts[f"{refusal.status} {refusal.reason}"] += 1
        now = self._clock()
        if self._last is None or now - self._last >= self._every:
            self._last = now
            summary = ", ".join(f"{reason}: {count}" for reason, count in sorted(self._counts.items()))
            self._counts.clear()
            log.warning("refused Slack requests: %s", summary)


class SlackGate:
    """Checks one request: `await gate.check(headers, read_body)` is the parsed request or the refusal."""

    def __init__(self, signing_secret: str, *, clock: Callable[[], float] = time.time,
                 refusals: RefusalLog | None = None):
        self._secret = signing_secret
        self._clock = clock
        self._refusals = refusals or RefusalLog()
        if not signing_secret:
            log.warning("SLACK_SIGNING_SECRET is not set: every request to /slack/events is refused")

    async def check(self, headers: Mapping[str, str], read_body: Callable[[], Any]) -> ParsedRequest | Refusal:
        timestamp, signature = headers.get("X-Slack-Request-Timestamp"), headers.get("X-Slack-Signature")
        outcome: ParsedRequest | Refusal | None = check_headers(self._secret, timestamp, signature, self._clock())
        if outcome is None:
            assert timestamp is not None and signature is not None  # checked above
            raw_body: bytes = await read_body()
            if not signature_matches(self._secret, timestamp, raw_body, signature):
                outcome = Refusal(401, "signature does not match")
            else:
                outcome = parse_body(raw_body, headers.get("Content-Type"))
        if isinstance(outcome, Refusal):
            self._refusals.note(outcome)
        return outcome
