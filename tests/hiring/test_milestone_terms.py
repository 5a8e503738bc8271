"""Milestone terms checked before they are sent (contract §2.9.3): pure decisions, no I/O."""

from __future__ import annotations

from bot.hiring.contracts import MilestoneTerms, check_terms, sendable
from bot.opentrain.models import Contract


def test_a_fixed_price_milestone_needs_an_amount():
    assert check_terms("FIXED_PRICE", 300, MilestoneTerms("Batch 2")) == {"amount": "Enter an amount in USD above "
                                                                                    "zero."}
    assert check_terms("FIXED_PRICE", 300, MilestoneTerms("Batch 2", amount_usd=150)) == {}
    assert set(check_terms("FIXED_PRICE", 300, MilestoneTerms("  ", amount_usd=150))) == {"description"}


def test_a_volume_milestone_needs_a_volume_and_an_amount_equal_to_rate_times_volume():
    assert set(check_terms("PAY_PER_HOUR", 18.5, MilestoneTerms("Week 2"))) == {"volume"}
    assert check_terms("PAY_PER_HOUR", 18.5, MilestoneTerms("Week 2", volume=10)) == {}
    assert check_terms("PAY_PER_HOUR", 18.5, MilestoneTerms("Week 2", volume=10, amount_usd=185)) == {}
    wrong = check_terms("PAY_PER_LABEL", 0.05, MilestoneTerms("More", volume=1000, amount_usd=60))
    assert set(wrong) == {"amount"} and "$50.00" in wrong["amount"]
    assert set(check_terms("PAY_PER_LABEL", None, MilestoneTerms("More", volume=1000))) == {"volume"}


def test_sent_terms_carry_the_amount_a_volume_comes_to():
    hourly = Contract.model_validate({"id": "ctr_1", "paymentType": "PAY_PER_HOUR", "rateUsd": 18.5})
    assert sendable(hourly, MilestoneTerms("Week 2", volume=10)).amount_usd == 185.0
    fixed = Contract.model_validate({"id": "ctr_2", "paymentType": "FIXED_PRICE", "rateUsd": 300})
    assert sendable(fixed, MilestoneTerms("Batch", amount_usd=100, volume=3)).volume is None
