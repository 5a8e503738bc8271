"""Realistic fake proposals: masked candidates, bids in the job's pay unit, interview and match scores."""

from __future__ import annotations

import random
import secrets

# (first name, last initial, country code, country)
CANDIDATES = [
    ("Maria", "G", "ES", "Spain"), ("Arjun", "K", "IN", "India"), ("Chloe", "B", "FR", "France"),
    ("Kwame", "A", "GH", "Ghana"), ("Sofia", "R", "MX", "Mexico"), ("Liam", "O", "IE", "Ireland"),
    ("Yuki", "T", "JP", "Japan"), ("Ana", "S", "BR", "Brazil"), ("Daniel", "M", "US", "United States"),
    ("Fatima", "Z", "MA", "Morocco"), ("Jonas", "W", "DE", "Germany"), ("Priya", "N", "IN", "India"),
    ("Mateo", "L", "AR", "Argentina"), ("Ewa", "K", "PL", "Poland"), ("Grace", "E", "NG", "Nigeria"),
    ("Minh", "T", "VN", "Vietnam"), ("Olivia", "P", "CA", "Canada"), ("Hassan", "F", "EG", "Egypt"),
]
TITLES = [
    "Text Annotation Specialist", "Bounding Box Annotator", "Audio Transcriptionist", "NLP Data Labeler",
    "Computer Vision Annotator", "Sentiment Analysis Specialist", "Multilingual Data Annotator",
    "RLHF Evaluator", "Medical Data Labeling Expert", "Search Relevance Rater",
]
SUMMARIES = [
    "Strong grasp of labeling edge cases; asked precise questions about the guidelines.",
    "Clear, consistent answers; prior experience with similar datasets.",
    "Good domain knowledge; slightly slower on ambiguous examples.",
    "Excellent attention to detail and quality-control habits.",
]
# Pay type -> (bid unit, typical bid range in USD)
BID_UNITS = {
    "PAY_PER_HOUR": ("PER_HOUR", (8.0, 40.0)),
    "PAY_PER_LABEL": ("PER_LABEL", (0.02, 0.5)),
    "FIXED_PRICE": ("FIXED_PRICE", (150.0, 2500.0)),
}
RATE_FIELDS = {"PAY_PER_HOUR": "pricePerHour", "PAY_PER_LABEL": "pricePerLabel", "FIXED_PRICE": "fixedPrice"}


def fake_proposal(rng: random.Random, job_fields: dict) -> dict:
    """The candidate-facing parts of one proposal on a job with these draft fields."""
    first, initial, country_code, country = rng.choice(CANDIDATES)
    slug = f"{first.lower()}-{initial.lower()}-{secrets.token_hex(2)}"
    score = rng.randint(55, 98)
    return {
        "candidate": {
            "id": f"usr_{secrets.token_hex(8)}", "profileSlug": slug, "displayName": f"{first} {initial}.",
            "firstName": first, "lastNameInitial": initial, "profileTitle": rng.choice(TITLES),
            "profilePhotoUrl": f"https://app.opentrain.ai/avatars/{slug}.png", "countryCode": country_code,
            "country": country, "talentType": "FREELANCER",
            "highestEarningsUsd": rng.choice([0, 350, 1200, 2400, 5800, 12000]), "reviewCount": rng.randint(0, 40),
        },
        "bid": _bid(rng, job_fields),
        "metrics": {"interviewScore": score, "matchScore": round(rng.uniform(0.5, 0.99), 2)},
        "aiInterview": {"score": score, "summary": rng.choice(SUMMARIES), "transcriptAvailable": True},
        "verification": {
            "location": {"status": "PASSED", "method": "GPS", "checkedAt": None},
            "identity": {"verified": rng.random() < 0.8},
        },
    }


def _bid(rng: random.Random, job_fields: dict) -> dict:
    pay_type = job_fields.get("paymentType")
    if not isinstance(pay_type, str) or pay_type not in BID_UNITS:
        pay_type = "PAY_PER_HOUR"
    unit, (low, high) = BID_UNITS[pay_type]
    rate = job_fields.get(RATE_FIELDS[pay_type])
    if isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate > 0:
        low, high = rate * 0.8, rate * 1.25  # candidates bid around the posted rate
    amount = round(rng.uniform(low, high), 3 if unit == "PER_LABEL" else 2)
    return {"amountUsd": amount, "unit": unit, "labelerHourlyRateUsd": amount if unit == "PER_HOUR" else None}
