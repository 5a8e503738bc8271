"""The one link policy: which URLs from OpenTrain may be shown, and the pages built from ids."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.opentrain.links import LinkPolicy, is_opentrain_id, is_user_code

POLICY = LinkPolicy("https://api.opentrain.ai", "https://app.opentrain.ai")
SANDBOX = LinkPolicy("http://127.0.0.1:8700")


@pytest.mark.parametrize("url", [
    "https://app.opentrain.ai/jobs/job_1",
    "https://api.opentrain.ai/claim?token=ot_cat_x",
    "https://APP.opentrain.ai:443/job-post?jobId=job_1&tab=review",
    "https://app.opentrain.ai/approvals/apr_1#top",
])
def test_https_on_the_configured_hosts_is_trusted(url):
    assert POLICY.trusted(url) == url


@pytest.mark.parametrize("url", [
    "https://evil.example/jobs/job_1",
    "http://app.opentrain.ai/jobs/job_1",                  # plain http off loopback
    "https://app.opentrain.ai.evil.example/jobs/job_1",    # a look-alike host
    "https://app.opentrain.ai@evil.example/jobs/job_1",    # userinfo: the host is evil.example
    "https://user@app.opentrain.ai/jobs/job_1",            # any userinfo at all
    "https://app.opentrain.ai:8443/jobs/job_1",            # another port is another origin
    "javascript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "//app.opentrain.ai/jobs/job_1",                       # scheme-relative
    "/jobs/job_1",
    "https://app.opentrain.ai/jobs/job_1|<!here>",          # would end a Slack link early
    "https://app.opentrain.ai/jobs/job 1",
    "https://app.opentrain.ai/jobs/job_1>",
    "https://app.opentrain.ai/" + "a" * 2100,
    "",
    None,
    42,
])
def test_anything_else_is_dropped(url):
    assert POLICY.trusted(url) is None


def test_plain_http_only_on_loopback():
    assert SANDBOX.trusted("http://127.0.0.1:8700/claim?token=ot_cat_x") == "http://127.0.0.1:8700/claim?token=ot_cat_x"
    assert SANDBOX.trusted("http://127.0.0.1:8701/claim") is None  # another port: another server
    assert SANDBOX.trusted("https://app.opentrain.ai/jobs/job_1")  # the web app stays trusted
    assert LinkPolicy("http://localhost:8700").trusted("http://localhost:8700/x") == "http://localhost:8700/x"
    assert LinkPolicy("http://10.0.0.5:8700").trusted("http://10.0.0.5:8700/x") is None


def test_a_dropped_url_is_logged_once_without_its_query(caplog):
    caplog.set_level("WARNING")
    assert POLICY.trusted("https://evil.example/claim?token=ot_cat_secret#frag", what="verification_uri") is None
    [record] = caplog.records
    assert "evil.example/claim" in record.getMessage() and "ot_cat_secret" not in record.getMessage()
    assert "frag" not in record.getMessage() and "verification_uri" in record.getMessage()


def test_pages_built_from_ids():
    assert POLICY.job_page("job_1") == "https://app.opentrain.ai/jobs/job_1"
    assert POLICY.conversation_page("conv_1") == "https://app.opentrain.ai/messages?conversationId=conv_1"
    assert POLICY.approval_page("apr-1") == "https://app.opentrain.ai/approvals/apr-1"
    trusted_job = "https://app.opentrain.ai/jobs/job_1/"
    assert POLICY.proposal_page(trusted_job, "job_1", "prop_1") == "https://app.opentrain.ai/jobs/job_1/proposals/prop_1"
    # A foreign job URL is not the base: the job page is built from the id instead.
    assert POLICY.proposal_page("https://evil.example/j", "job_1", "prop_1") == \
        "https://app.opentrain.ai/jobs/job_1/proposals/prop_1"
    with pytest.raises(ValueError):
        POLICY.conversation_page("conv|<!here>")


@pytest.mark.parametrize("value, ok", [
    ("job_46bba5e5882da0aa", True), ("cl9x-3b_Z", True), ("1000", True), ("a" * 128, True),
    ("", False), ("a" * 129, False), ("job|x", False), ("job>x", False), ("job x", False), ("job/x", False),
    ("job\n", False), ("jöb", False), (None, False), (5, False),
])
def test_ids(value, ok):
    assert is_opentrain_id(value) is ok


@pytest.mark.parametrize("value, ok", [("123456", True), ("000000", True), ("12345", False), ("1234567", False),
                                       ("12345a", False), ("１２３４５６", False), ("123456\n", False),
                                       (123456, False)])
def test_user_codes(value, ok):
    assert is_user_code(value) is ok


HOSTS = ("app.opentrain.ai", "api.opentrain.ai")


def _on_a_configured_origin(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and parts.hostname in HOSTS and parts.port in (None, 443) and not parts.username


@given(st.text(max_size=300))
def test_nothing_but_the_configured_origins_is_ever_trusted(url):
    trusted = POLICY.trusted(url)
    if trusted is not None:
        assert _on_a_configured_origin(trusted) and not set(trusted) & set("<>| \"\\`\n\t")


@given(st.sampled_from(["https://evil.example", "https://app.opentrain.ai.evil.example", "javascript:",
                        "https://app.opentrain.ai@evil.example", "http://app.opentrain.ai", "data:"]),
       st.text(alphabet=st.characters(codec="ascii"), max_size=60))
def test_foreign_prefixes_never_pass_whatever_follows(prefix, rest):
    assert POLICY.trusted(prefix + rest) is None


@pytest.mark.parametrize("given, slug", [
    ("maria-g", "maria-g"),
    ("  usr_46bba5e5  ", "usr_46bba5e5"),
    ("https://app.opentrain.ai/profile/maria-g", "maria-g"),
    ("https://app.opentrain.ai/profile/maria-g/?ref=slack#reviews", "maria-g"),
    ("https://evil.example/profile/maria-g", None),
    ("https://app.opentrain.ai.evil.example/profile/maria-g", None),
    ("https://app.opentrain.ai@evil.example/profile/maria-g", None),
    ("http://app.opentrain.ai/profile/maria-g", None),  # plain http off loopback
    ("https://app.opentrain.ai/jobs/job_1", None),  # a page, but not a profile
    ("https://app.opentrain.ai/profile/maria-g/reviews", None),
    ("javascript:alert(1)", None),
    ("maria g", None),
    ("<@U123>", None),
    ("", None),
])
def test_a_trainer_is_named_by_a_profile_link_on_opentrain_or_a_bare_slug(given, slug):
    assert POLICY.profile_slug(given) == slug


def test_profile_and_draft_pages_built_from_ids():
    assert POLICY.profile_page("maria-g") == "https://app.opentrain.ai/profile/maria-g"
    assert POLICY.draft_page("job_1") == "https://app.opentrain.ai/job-post?jobId=job_1"
    with pytest.raises(ValueError):
        POLICY.profile_page("maria|<!here>")
