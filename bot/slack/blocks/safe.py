"""The one escaping helper for Slack: every value from outside (a user, a candidate, OpenTrain) goes through it.

Slack parses `&`, `<` and `>` as control characters in mrkdwn and in a message's `text` (the fallback phones show in
notifications): `<!here>`, `<!channel>`, `<@U1>` and `<https://x|label>` are all made of them. `escape` turns them
into entities, so outside text can never form a mention, a broadcast or a link. Bare `@here`, `@channel` and
`@everyone` ping only when a message is posted with `link_names` (the bot never sets it), and Slack turns a bare
`https://...` in text into a link by itself; both are made inert anyway with an invisible WORD JOINER (U+2060), after
the `@` and inside the `://`, which Slack renders as nothing. (The section and context builders also mark their
mrkdwn `verbatim`, so Slack does no such auto-parsing in blocks at all.)

The few pieces of markup the bot does write go through `link` (a URL the link policy already trusted, and an escaped
label) and `mention` (a Slack user id, checked to look like one).
"""

from __future__ import annotations

import re
from typing import Any

from bot.opentrain.links import URL_CHARACTERS, allowed_scheme

ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
WORD_JOINER = "\u2060"
BROADCASTS = re.compile(r"@(here|channel|everyone)\b", re.IGNORECASE)
SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(//)")
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{1,20}")


def escape(value: Any, limit: int | None = None) -> str:
    """`value` as inert Slack text; with `limit`, clipped (with "…") so that the escaped text fits, never cutting
    an entity in half."""
    text = "" if value is None else str(value)
    text = BROADCASTS.sub(lambda m: "@" + WORD_JOINER + m.group(1), text)
    text = SCHEME.sub(lambda m: m.group(1) + ":" + WORD_JOINER + m.group(2), text)
    pieces = [ENTITIES.get(ch, ch) for ch in text]
    if limit is None or sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    kept, size = [], 0
    for piece in pieces:
        if size + len(piece) > limit - 1:
            break
        kept.append(piece)
        size += len(piece)
    return "".join(kept) + "…"


def is_linkable(url: Any) -> bool:
    """A URL that cannot break out of `<url|label>`: http(s) only (https, or http on loopback) in plain URL
    characters. Which hosts may be linked is the link policy's call (`bot.opentrain.links`), made earlier."""
    return isinstance(url, str) and URL_CHARACTERS.fullmatch(url) is not None and allowed_scheme(url)


def link(url: str | None, label: Any) -> str:
    """`<url|label>` with the label escaped; just the escaped label when there is no usable URL."""
    if url and is_linkable(url):
        return f"<{url.replace('&', '&amp;')}|{escape(label)}>"
    return escape(label)


def bare_url(url: str | None) -> str:
    """A URL written out in a `text` fallback (Slack links it): the escaped URL when usable, else nothing."""
    return url.replace("&", "&amp;") if url and is_linkable(url) else ""


def mention(user_id: Any) -> str:
    """`<@U…>` for a Slack user id the bot itself got from Slack; anything else as inert text."""
    if isinstance(user_id, str) and SLACK_USER_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    return escape(user_id)


def input_value(value: Any, limit: int) -> str | None:
    """A value prefilled into a modal's text input, or None when it does not fit. Slack shows an input's value as
    typed and sends it back as typed, never parsing it as markup, so it is not escaped: entities would come back as
    `&amp;` in the person's own text. A value longer than `limit` is not offered (cut, it would be saved cut)."""
    if value is None:
        return ""
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= limit else None
