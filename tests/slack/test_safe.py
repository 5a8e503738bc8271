"""The one escaping helper for Slack: outside text never forms a mention, a broadcast or a link."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.blocks.safe import WORD_JOINER, bare_url, escape, link, mention

CONTROL = re.compile(r"[<>]|&(?!amp;|lt;|gt;)")


@pytest.mark.parametrize("raw, shown", [
    ("<!here>", "&lt;!here&gt;"),
    ("<!channel> and <!everyone>", "&lt;!channel&gt; and &lt;!everyone&gt;"),
    ("<@U123>", "&lt;@U123&gt;"),
    ("<https://evil.example|click>", f"&lt;https:{WORD_JOINER}//evil.example|click&gt;"),
    ("Tom & Jerry", "Tom &amp; Jerry"),
    ("&lt;!here&gt;", "&amp;lt;!here&amp;gt;"),  # already-escaped text stays the text it was
    ("hey @here, @Channel and @everyone", f"hey @{WORD_JOINER}here, @{WORD_JOINER}Channel and @{WORD_JOINER}everyone"),
    ("mail me at rita@example.com", "mail me at rita@example.com"),
    ("see https://evil.example/x", f"see https:{WORD_JOINER}//evil.example/x"),
    (None, ""),
    (42, "42"),
])
def test_escape(raw, shown):
    assert escape(raw) == shown


def test_a_limit_never_cuts_an_entity():
    assert escape("<<<<", 6) == "&lt;…"
    assert escape("ab<cd", 10) == "ab&lt;cd"
    assert len(escape("x" * 500, 80)) == 80


def test_links_and_mentions_the_bot_writes():
    assert link("https://app.opentrain.ai/jobs/job_1", "<!here>") == "<https://app.opentrain.ai/jobs/job_1|&lt;!here&gt;>"
    assert link("https://app.opentrain.ai/x?a=1&b=2", "x") == "<https://app.opentrain.ai/x?a=1&amp;b=2|x>"
    assert link("javascript:alert(1)", "click") == "click"
    assert link("https://app.opentrain.ai/x|<!here>", "click") == "click"
    assert link(None, "Job <1>") == "Job &lt;1&gt;"
    assert bare_url("https://app.opentrain.ai/jobs/job_1") == "https://app.opentrain.ai/jobs/job_1"
    assert bare_url("https://app.opentrain.ai/x>") == "" and bare_url(None) == ""
    assert mention("UREQ") == "<@UREQ>" and mention("W123") == "<@W123>"
    assert mention("U1> <!here") == "U1&gt; &lt;!here" and mention("") == ""


@given(st.text())
def test_escaped_text_has_no_slack_control_characters(text):
    shown = escape(text)
    assert not CONTROL.search(shown)
    assert not re.search(r"(?i)@(here|channel|everyone)\b", shown)
    assert not re.search(r"(?i)[a-z][a-z0-9+.-]*://", shown)


@given(st.text())
def test_escaping_loses_nothing_but_the_invisible_joiners(text):
    assert html.unescape(escape(text)).replace(WORD_JOINER, "") == text.replace(WORD_JOINER, "")


@given(st.text(), st.integers(min_value=2, max_value=200))
def test_a_clipped_escape_fits_and_stays_inert(text, limit):
    shown = escape(text, limit)
    assert len(shown) <= limit and not CONTROL.search(shown)
