"""What a failed send means, cell by cell, and the length rule: pure decisions of the candidate relay."""

from __future__ import annotations

import pytest

from bot.hiring.talk import MAX_MESSAGE_CHARS, after_failure, too_long
from bot.opentrain import errors
from bot.opentrain.errors import error_from_response


def refused(status: int, reason: str | None = None, **details) -> errors.OpenTrainError:
    body = {"error": "Refused.", "code": "X", "details": {**({"reason": reason} if reason else {}), **details}}
    return error_from_response(status, body)


@pytest.mark.parametrize(("error", "kind", "words"), [
    (refused(403, "message_policy_blocked", policy="contact_information"), "refused", "messaging policy"),
    (refused(409, "employer_first_message_required"), "refused", "owner to write to Maria G. first"),
    (refused(409, "read_only_conversation"), "refused", "read-only"),
    (refused(409, "message_blocked"), "refused", "blocked this message"),
    (refused(403, "account_claim_required", claimUrl="https://app.opentrain.ai/claim"), "refused", "claimed"),
    (refused(400), "refused", "Not sent."),
    (refused(404), "refused", "Not sent."),
    (errors.ServerError("down", status=503), "unknown", ""),
    (errors.TransportError("timed out"), "unknown", ""),
])
def test_each_failure_is_refused_or_looked_into(error, kind, words):
    verdict = after_failure(error, "Maria G.")
    assert verdict.kind == kind
    assert words in "".join(str(w) for w in verdict.words)
    assert (verdict.retry_in > 0) == (kind != "refused")


def test_a_rate_limit_waits_what_opentrain_asks_and_says_so():
    verdict = after_failure(error_from_response(429, {"error": "Slow down", "code": "RATE_LIMITED",
                                                      "details": {"retryAfterSeconds": 42}}), "Maria G.")
    assert verdict.kind == "later" and verdict.retry_in == 42 and "about 42 seconds" in verdict.words[0]
    assert after_failure(errors.RateLimited("Slow down"), "Maria G.").retry_in == 30  # no hint: a default wait


def test_the_length_rule_refuses_never_cuts():
    assert too_long("x" * MAX_MESSAGE_CHARS) is None
    [note] = too_long("x" * (MAX_MESSAGE_CHARS + 1))
    assert "10,001 characters" in note and "at most 10,000" in note and "Nothing was cut or sent" in note
