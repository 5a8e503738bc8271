"""Parse what the requester typed into the typed value a missing job field needs (opentrain-api.md §3.3).

`parse_answer` never raises: every input ends as `Accepted(value)` (ready for the PATCH body) or
`Refused(reason)` (short, human, says what would work). Refusals never echo the typed text back, so a pasted
secret cannot travel further in a reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

MAX_TEXT_CHARS = 10_000
MAX_NUMBER_CHARS = 200  # a typed amount is short; the cap also bounds the Decimal work
MAX_SAFE_INTEGER = 2**53 - 1  # the API is JavaScript: larger integers lose precision in JSON

__all__ = ["Accepted", "Refused", "parse_answer", "enum_label", "choice_labels"]


@dataclass(frozen=True)
class Accepted:
    value: Any


@dataclass(frozen=True)
class Refused:
    reason: str


Outcome = Accepted | Refused


def parse_answer(field_type: str, text: str, *, enum_values: Sequence[str] | None = None,
                 field: str | None = None) -> Outcome:
    """Parse `text` by the API's field type; unknown types are read as free text."""
    kind = _TYPE_ALIASES.get(str(field_type or "").strip().lower(), "string")
    text = _drop_unencodable(str(text or ""))
    if kind == "enum" and enum_values:
        return _parse_enum(text, list(enum_values))
    return _PARSERS.get(kind, _parse_string)(text, _subject(field))


def enum_label(value: str) -> str:
    """"ENTRY_LEVEL" -> "Entry level"; values that aren't CONSTANT_CASE keep their spelling."""
    if value != value.upper():
        return value.replace("_", " ").strip() or value
    words = re.sub(r"[_\-\s]+", " ", value).strip().lower()
    return words[:1].upper() + words[1:] or value


def choice_labels(enum_values: Sequence[str] | None) -> list[tuple[str, str]]:
    """(value, human label) pairs in the API's order."""
    return [(value, enum_label(value)) for value in enum_values or []]


# ---- cleaning


def _drop_unencodable(text: str) -> str:
    """Drop control characters (keeping newlines and tabs) and lone surrogates, which UTF-8 can't carry."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))


def _as_token(text: str) -> str:
    """Compatibility-normalized, lowercase, without invisible format characters (zero-width spaces, BOMs)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip().lower()


def _subject(field: str | None) -> str:
    """"pricePerHour" -> "Price per hour", for reasons that name the field."""
    if not field:
        return "This answer"
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", field).replace("_", " ").strip().lower()
    return words[:1].upper() + words[1:] or "This answer"


# ---- enum


# Common wording for the documented enum values; used only when that value is among the offered choices.
_ENUM_SYNONYMS: dict[str, tuple[str, ...]] = {
    "ANY_EXPERIENCE_LEVEL": ("any", "any level", "anyone", "all levels"),
    "PAY_PER_HOUR": ("hourly", "per hour", "by the hour"),
    "PAY_PER_LABEL": ("per label", "per item", "per task"),
    "FIXED_PRICE": ("fixed", "flat", "flat fee", "flat rate"),
    "NUMBER_OF_FILES": ("files", "images"),
    "NUMBER_OF_WORDS": ("words",),
    "HOURS_OF_RECORDING_AUDIO_VIDEO": ("hours", "audio", "video", "hours of audio", "hours of video"),
    "UNKNOWN_NOT_SPECIFIED": ("unknown", "not sure", "don't know", "dont know"),
}


def _enum_key(text: str) -> str:
    """One spelling for every case / spacing / hyphen / underscore form: "Entry-Level" -> "entry level"."""
    return " ".join(re.split(r"[\W_]+", _as_token(text))).strip()


def _parse_enum(text: str, values: list[str]) -> Outcome:
    key = _enum_key(text)
    if not key:
        return Refused("Pick one of the choices: " + _numbered(values) + ".")
    if text.strip() in values:
        return Accepted(text.strip())
    for matches in (_exact_matches(key, values), _synonym_matches(key, values)):
        if matches:
            return _one_of(matches, values)
    if key.isascii() and key.isdigit() and len(key) <= 6:
        return _by_number(int(key), values)
    prefixed = [value for value in values if any(name.startswith(key) for name in _names(value))]
    if prefixed:
        return _one_of(prefixed, values)
    return Refused("That isn't one of the choices. Reply with a number or a name: " + _numbered(values) + ".")


def _names(value: str) -> list[str]:
    return [_enum_key(value), _enum_key(enum_label(value)), *_ENUM_SYNONYMS.get(value, ())]


def _exact_matches(key: str, values: list[str]) -> list[str]:
    return [value for value in values if key in (_enum_key(value), _enum_key(enum_label(value)))]


def _synonym_matches(key: str, values: list[str]) -> list[str]:
    return [value for value in values if key in _ENUM_SYNONYMS.get(value, ())]


def _by_number(number: int, values: list[str]) -> Outcome:
    if 1 <= number <= len(values):
        return Accepted(values[number - 1])
    return Refused(f"There's no choice {number} (pick 1 to {len(values)}): " + _numbered(values) + ".")


def _one_of(matches: list[str], values: list[str]) -> Outcome:
    if len(matches) == 1:
        return Accepted(matches[0])
    candidates = " or ".join(f"{values.index(v) + 1}. {enum_label(v)}" for v in matches)
    return Refused(f"That could be {candidates}. Which one?")


def _numbered(values: list[str]) -> str:
    return ", ".join(f"{n}. {label}" for n, (_, label) in enumerate(choice_labels(values), start=1))


# ---- number and integer


_NUMBER_WORDS = {word: n for n, word in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
     "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"])}
_NUMBER_WORD = re.compile(r"(?<!-)\b(" + "|".join(_NUMBER_WORDS) + r")\b(?!-)")  # not "twenty-five"
_DIGITS = re.compile(r"[0-9][0-9,.]*|\.[0-9]+")
_RANGE = re.compile(r"[0-9]\s*(?:-|–|—|~|\bto\b|\band\b|\bor\b)\s*[-+−$]?\s*[0-9.]")
_NON_USD = re.compile(
    r"\b(?:eur|euros?|gbp|pounds?|sterling|jpy|yen|inr|rupees?|cad|aud|nzd|chf|francs?|cny|rmb|yuan|mxn|pesos?"
    r"|brl|reais|sgd|hkd|sek|nok|dkk|kroner|kronor|pln|zloty|zar|rand|krw|rub|roubles?|rubles?)\b"
    r"|\b(?:a|au|c|ca|nz|hk|s|sg|mx|r)\$")
_USD = r"(?:us\$|usd|\$|us\s+dollars?|dollars?|bucks)"
_SCALES = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "mm": 1_000_000, "mn": 1_000_000,
           "million": 1_000_000, "b": 1_000_000_000, "bn": 1_000_000_000, "billion": 1_000_000_000}
# Approximation and currency may lead; after the number anything without digits is a unit ("/hour", "people").
_AMOUNT = re.compile(
    rf"(?:(?:about|around|approx(?:imately|\.)?|roughly|~|≈)\s*)?(?P<minus>[-−]\s*)?(?:{_USD}\s*)?"
    rf"(?P<minus_after_currency>[-−]\s*)?(?P<number>[0-9][0-9,.]*|\.[0-9]+)"
    rf"\s*(?:(?P<scale>{'|'.join(_SCALES)})\b)?[^0-9]*")


def _parse_number(text: str, subject: str) -> Outcome:
    amount = _read_amount(text, subject, "a number like 18.50")
    if isinstance(amount, Refused):
        return amount
    if amount == amount.to_integral_value() and amount <= MAX_SAFE_INTEGER:
        return Accepted(int(amount))
    return Accepted(float(amount))  # finite and non-zero: MAX_NUMBER_CHARS keeps it far inside float range


def _parse_integer(text: str, subject: str) -> Outcome:
    amount = _read_amount(text, subject, "a whole number like 3")
    if isinstance(amount, Refused):
        return amount
    if amount != amount.to_integral_value():
        return Refused(f"{subject} needs a whole number like 3, not a fraction.")
    if amount > MAX_SAFE_INTEGER:
        return Refused(f"{subject} is too large a number.")
    return Accepted(int(amount))


def _read_amount(text: str, subject: str, example: str) -> Decimal | Refused:
    """The one positive amount in the answer, in USD when it names a currency."""
    token = _as_token(text)
    if len(token) > MAX_NUMBER_CHARS:
        return Refused(f"{subject} needs just {example}; that answer is too long.")
    if not _DIGITS.search(token):
        token = _NUMBER_WORD.sub(lambda m: str(_NUMBER_WORDS[m.group(1)]), token)
    if _NON_USD.search(token) or any(unicodedata.category(ch) == "Sc" and ch != "$" for ch in token):
        return Refused(f"{subject} is in US dollars: give the amount in USD, like 18.50.")
    numbers = _DIGITS.findall(token)
    if not numbers:
        return Refused(f"{subject} needs {example}; I couldn't find a number in that answer.")
    if len(numbers) > 1:
        what = "not a range" if _RANGE.search(token) else "not several"
        return Refused(f"{subject} needs one number, {what}: pick one, like {example.split()[-1]}.")
    match = _AMOUNT.fullmatch(token)
    if match is None:
        return Refused(f"{subject} needs just {example} (a unit after it is fine, like '18 per hour').")
    if match["minus"] or match["minus_after_currency"]:
        return Refused(f"{subject} can't be negative: it must be more than zero.")
    amount = _decimal(match["number"])
    if amount is None:
        return Refused(f"{subject} needs {example}; write thousands as 1,000 and decimals as 18.50.")
    amount *= _SCALES.get(match["scale"] or "", 1)
    if amount <= 0:
        return Refused(f"{subject} must be more than zero.")
    return amount


def _decimal(number: str) -> Decimal | None:
    """"18.50", "1,000.5", ".5", European "18,50" (one comma, exactly two digits after it is a decimal comma)."""
    number = number.rstrip(".,") if number[-1:] in ".," and len(number) > 1 else number
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+", number):
        return Decimal(number)
    if re.fullmatch(r"[0-9]+,[0-9]{2}", number):
        return Decimal(number.replace(",", "."))
    if re.fullmatch(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?", number):
        return Decimal(number.replace(",", ""))
    return None


# ---- boolean, array, string


_BOOLEANS = {"yes": True, "y": True, "true": True, "1": True, "on": True,
             "no": False, "n": False, "false": False, "0": False, "off": False}


def _parse_boolean(text: str, subject: str) -> Outcome:
    word = _as_token(text).strip(" .!'\"`*")
    if word in _BOOLEANS:
        return Accepted(_BOOLEANS[word])
    return Refused(f"{subject} needs yes or no.")


_BULLET = re.compile(r"^\s*(?:[-*•·–—+]|[0-9]{1,3}[.)])\s+")
_LIST_SEPARATORS = re.compile(r"[,;]|\s/\s|\band\b", re.IGNORECASE)


def _parse_array(text: str, subject: str) -> Outcome:
    """Items one per line (each line kept whole), or on one line split at , ; " / " and "and"."""
    if len(text) > MAX_TEXT_CHARS:
        return Refused(f"{subject} is too long: keep the list under {MAX_TEXT_CHARS:,} characters.")
    lines = [_BULLET.sub("", line).strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    pieces = lines if len(lines) > 1 else _LIST_SEPARATORS.split(lines[0] if lines else "")
    items = _unique(piece.strip(" \t-*•·,;") for piece in pieces)
    if not items:
        return Refused(f"{subject} needs at least one item, e.g. 'English, Spanish'.")
    return Accepted(items)


def _unique(pieces: Any) -> list[str]:
    """Non-empty items, duplicates dropped case-insensitively, the first spelling kept."""
    seen: set[str] = set()
    items = []
    for piece in pieces:
        if piece and piece.casefold() not in seen:
            seen.add(piece.casefold())
            items.append(piece)
    return items


def _parse_string(text: str, subject: str) -> Outcome:
    text = text.strip()
    if not text:
        return Refused(f"{subject} needs some text.")
    if len(text) > MAX_TEXT_CHARS:
        return Refused(f"{subject} is too long: keep it under {MAX_TEXT_CHARS:,} characters (it has {len(text):,}).")
    return Accepted(text)


_PARSERS: dict[str, Callable[[str, str], Outcome]] = {
    "number": _parse_number,
    "integer": _parse_integer,
    "boolean": _parse_boolean,
    "array": _parse_array,
    "string": _parse_string,
}
_TYPE_ALIASES = {
    "enum": "enum", "number": "number", "float": "number", "double": "number", "decimal": "number",
    "integer": "integer", "int": "integer", "boolean": "boolean", "bool": "boolean",
    "array": "array", "list": "array", "string[]": "array", "string": "string", "text": "string",
}
