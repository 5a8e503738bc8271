"""Hostile input for the end-to-end tests, and the check run over every message the Slack stand-in received.

`HOSTILE_TEXT` is what an attacker types or writes into OpenTrain; `assert_nothing_from_outside` reads every call that
shows something to someone (posts, updates, ephemerals, DMs, response_url answers, modals) and fails on any Slack
markup the bot did not write itself: a mention of a user other than the ones the bot names, a broadcast, a link or
URL to a host other than OpenTrain's, a `javascript:` URL, or a bare `@here`/`@channel`/`@everyone`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from tests.support.slack_api import SlackApiStandIn

HOSTILE_TEXT = "<!here> <!channel> <@U1> <https://evil.example|x> @everyone javascript:alert(1)"
# What Slack delivers when a person types HOSTILE_TEXT literally: its control characters as entities.
HOSTILE_TYPED = HOSTILE_TEXT.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

SHOWN = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url", "views.open", "views.update",
         "views.push")
MARKUP = re.compile(r"<([^<>]*)>")
URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*)://([^\s/?#|<>\"'\\]*)")
BROADCAST = re.compile(r"(?i)@(here|channel|everyone)\b")


def shown_texts(api: SlackApiStandIn) -> Iterable[tuple[str, str]]:
    """(method, everything that call shows) for every call that shows something."""
    for call in api.calls:
        if call.method in SHOWN:
            parts = [str(call.args.get("text") or "")]
            for name in ("blocks", "view", "attachments"):
                value = call.args.get(name)
                if value:
                    # Strings as Slack reads them (no JSON escapes hiding or faking anything).
                    parts += list(_strings(json.loads(value) if isinstance(value, str) else value))
            yield call.method, "\n".join(parts)


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def outside_markup(text: str, *, users: set[str], hosts: frozenset[str] = frozenset({"app.opentrain.ai", "127.0.0.1"})
                   ) -> list[str]:
    """What in `text` (a message's text or a block's string) is markup the bot did not write."""
    found = []
    for markup in MARKUP.findall(text):
        if markup.startswith("@"):
            if markup[1:] not in users:
                found.append(f"a mention the bot did not make, <{markup}>")
        elif markup.startswith("!"):
            if not markup.startswith("!date^"):
                found.append(f"a broadcast <{markup}>")
        else:
            target = markup.split("|", 1)[0]
            parts = urlsplit(target)
            if parts.scheme not in ("https", "http") or parts.hostname not in hosts or parts.username:
                found.append(f"a link to {target!r}")
    for scheme, netloc in URL.findall(text):
        host = urlsplit(f"{scheme}://{netloc}").hostname
        if scheme.lower() not in ("https", "http") or host not in hosts or "@" in netloc:
            found.append(f"a URL to {scheme}://{netloc}")
    if "javascript:" in text.replace("javascript:alert(1)", ""):
        found.append("a javascript: URL")
    if BROADCAST.search(text):
        found.append("a bare broadcast")
    return found


def assert_nothing_from_outside(api: SlackApiStandIn, *, users: set[str],
                                hosts: frozenset[str] = frozenset({"app.opentrain.ai", "127.0.0.1"})) -> int:
    """Fails on outside markup in any shown call; returns how many calls it read (so a test can tell it read some)."""
    read = 0
    for method, text in shown_texts(api):
        read += 1
        found = outside_markup(text, users=users, hosts=hosts)
        assert not found, f"{found[0]} in {method}: {text[:600]!r}"
    return read
