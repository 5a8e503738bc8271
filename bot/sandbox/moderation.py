"""Content rules checked at publish: a job that breaks one is refused with a reason a person can act on.

Every rule lives in the two tables below. Text rules match the draft's words; pay floors compare rate fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.sandbox import catalog


@dataclass(frozen=True)
class TextRule:
    pattern: re.Pattern
    reason: str


def _rule(pattern: str, reason: str) -> TextRule:
    return TextRule(re.compile(pattern, re.IGNORECASE), reason)


TEXT_RULES: list[TextRule] = [
    _rule(r"\b(?:scrap\w*|harvest\w*|collect\w*|gather\w*)\b.{0,60}\b(?:personal (?:data|info\w*|"
          r"details)|home addresses|phone numbers|e-?mail addresses|social security numbers?|SSNs?|passport "
          r"(?:numbers|scans)|contact details of)|\bdox\w*",
          "Job asks workers to harvest people's personal data, which is not allowed."),
    _rule(r"\b(?:solv\w*|bypass\w*|break\w*|crack\w*|defeat\w*|complet\w*|enter\w*|type)\b.{0,40}\bcaptchas?\b|"
          r"\bcaptchas?\b.{0,30}\b(?:solv\w*|bypass\w*|solver|farm)",
          "Job asks workers to solve CAPTCHAs, which is not allowed."),
    _rule(r"\bfake (?:reviews?|ratings?|testimonials?|followers|likes|accounts?)\b|\b(?:write|post|leave)\w*\b.{0,30}"
          r"\b(?:5|five)[- ]star reviews?\b|\bbuy\w* (?:reviews?|followers|upvotes)\b|\bupvote (?:farm|ring)",
          "Job asks for fake reviews, ratings or accounts, which is not allowed."),
    _rule(r"\b(?:do|write|complete|finish|take)\b (?:my|our|his|her|their|the student'?s) (?:homework|essays?|"
          r"assignments?|thesis|dissertation|coursework|exams?|tests?|quiz(?:zes)?|online class(?:es)?)\b",
          "Job asks for a student's academic work to be done for them, which is not allowed."),
    _rule(r"\bporn\w*|\bsexually explicit\b|\bnudes?\b|\bxxx\b|\berotic\w*|\bescort\w*",
          "Job involves sexually explicit content, which is not allowed."),
    _rule(r"\b(?:pay|payment|paid)\b.{0,30}\b(?:outside|off) (?:of )?(?:the )?(?:platform|opentrain)\b|"
          r"\b(?:western union|gift cards?)\b",
          "Job asks to take payment off OpenTrain, which is not allowed."),
    _rule(r"\b(?:pay|deposit)\w*\b.{0,20}\b(?:registration|training|starter|joining|application) (?:fee|kit)\b",
          "Job asks workers to pay a fee to take part, which is not allowed."),
]


@dataclass(frozen=True)
class PayFloor:
    key: str
    minimum: float
    name: str


# Floors in USD; below them the pay is not a real offer for the work.
PAY_FLOORS: list[PayFloor] = [
    PayFloor("pricePerHour", 1.0, "hourly pay"),
    PayFloor("pricePerLabel", 0.001, "per-label pay"),
    PayFloor("fixedPrice", 5.0, "fixed price"),
]


def _text_of(fields: dict) -> str:
    parts: list[str] = []
    for value in fields.values():
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts += [item for item in value if isinstance(item, str)]
    return "\n".join(parts)


def _usd(amount: float) -> str:
    return f"${amount:,.2f}" if amount >= 0.01 else f"${amount:g}"


def _pay_reasons(fields: dict) -> list[str]:
    rate_key = catalog.rate_key(fields.get("paymentType"))
    reasons = []
    for floor in PAY_FLOORS:
        amount = fields.get(floor.key)
        if floor.key == rate_key and isinstance(amount, (int, float)) and amount < floor.minimum:
            reasons.append(f"The {floor.name} of {_usd(amount)} is below the {_usd(floor.minimum)} minimum.")
    return reasons


def moderate(fields: dict) -> list[str]:
    """Reasons the job may not be published; [] means it is allowed."""
    text = _text_of(fields)
    return [rule.reason for rule in TEXT_RULES if rule.pattern.search(text)] + _pay_reasons(fields)
