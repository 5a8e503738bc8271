"""Moderation: prohibited work and pay below the floor are refused with reasons; ordinary jobs pass."""

from __future__ import annotations

import pytest

from bot.sandbox.moderation import moderate
from bot.sandbox.parser import parse_description

ORDINARY = [
    "We need 10 annotators for 50,000 dashcam images, $18/hour, English",
    "Redact phone numbers and email addresses from 5,000 support transcripts. $20/hour.",
    "Flag hate speech in 100k comments. $15 per hour.",
    "Label 2,000 receipts with OCR boxes; we collect feedback weekly. $0.10 per label.",
]
PROHIBITED = [
    ("Scrape personal data (home addresses, phone numbers) of 10,000 LinkedIn users. $15/hour.",
     "Job asks workers to harvest people's personal data, which is not allowed."),
    ("Solve 1,000 CAPTCHAs a day for our bots. $2/hour.",
     "Job asks workers to solve CAPTCHAs, which is not allowed."),
    ("Write 5-star reviews for our app on the Play Store. $1 per review.",
     "Job asks for fake reviews, ratings or accounts, which is not allowed."),
    ("Do my homework and write my thesis on NLP. Fixed price $300.",
     "Job asks for a student's academic work to be done for them, which is not allowed."),
    ("Tag 10,000 pornographic images. $10/hour.",
     "Job involves sexually explicit content, which is not allowed."),
    ("Label images, we will pay you outside the platform via Western Union. $20/hour.",
     "Job asks to take payment off OpenTrain, which is not allowed."),
    ("Annotators must pay a registration fee of $50 first. $12/hour.",
     "Job asks workers to pay a fee to take part, which is not allowed."),
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_jobs_pass(text):
    assert moderate(parse_description(text).fields) == []


@pytest.mark.parametrize(("text", "reason"), PROHIBITED)
def test_prohibited_jobs_are_refused_with_a_reason(text, reason):
    assert moderate(parse_description(text).fields) == [reason]


def test_pay_floor_applies_to_the_chosen_rate_only():
    fields = {"jobDescription": "Label images.", "paymentType": "PAY_PER_HOUR", "pricePerHour": 0.5,
              "fixedPrice": 1}
    assert moderate(fields) == ["The hourly pay of $0.50 is below the $1.00 minimum."]
    assert moderate({**fields, "pricePerHour": 1}) == []
    assert moderate({"paymentType": "FIXED_PRICE", "fixedPrice": 2}) == [
        "The fixed price of $2.00 is below the $5.00 minimum."]
    # Rules read every text field, arrays included.
    both = moderate({"jobTitle": "Ranking", "labelTypes": ["captcha solving"], "paymentType": "PAY_PER_LABEL",
                     "pricePerLabel": 0.0001})
    assert both == ["Job asks workers to solve CAPTCHAs, which is not allowed.",
                    "The per-label pay of $0.0001 is below the $0.001 minimum."]
