"""How a money refusal reads: the cause in plain words and, when a person can act on it, the way to fix it."""

from __future__ import annotations

from bot.hiring import wording
from bot.hiring.contracts import ENDED, UNCLAIMED, money_refusal
from bot.hiring.views import Link
from bot.opentrain.errors import error_from_response


def refused(status: int, details: dict) -> tuple:
    exc = error_from_response(status, {"error": "Refused.", "code": "X", "requestId": "r1", "details": details})
    return money_refusal(exc, "fund the milestone")


def test_an_unclaimed_account_points_to_who_can_claim_it():
    assert refused(403, {"reason": "account_claim_required", "claimUrl": "https://app.opentrain.ai/claim"}) \
        == UNCLAIMED


def test_a_missing_scope_names_it_and_who_can_fix_it():
    words = "".join(map(str, refused(403, {"requiredScopes": ["payments:write"], "grantedScopes": []})))
    assert "`payments:write`" in words and wording.SCOPE_FIX in words


def test_a_disabled_feature_names_it_and_who_can_turn_it_on():
    words = "".join(map(str, refused(403, {"featureKey": "public_api_payments_write"})))
    assert "`public_api_payments_write`" in words and wording.FEATURE_FIX in words


def test_a_missing_payment_method_links_the_billing_page():
    words = refused(409, {"reason": "payment_method_required", "billingUrl": "https://app.opentrain.ai/billing"})
    assert Link("https://app.opentrain.ai/billing", "billing") in words and wording.PAYMENT_NEEDED in words[0]


def test_an_ended_contract_says_so_and_an_unexplained_refusal_has_no_fix():
    assert refused(409, {"reason": "contract_ended"}) == ENDED
    words = refused(409, {"reason": "milestone_not_fundable"})
    assert len(words) == 1 and "OpenTrain said" in words[0]
