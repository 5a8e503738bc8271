"""Answer parsing by field type: every rule as a table, then properties over any text (hypothesis)."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.hiring.answers import Accepted, Refused, choice_labels, enum_label, parse_answer

LEVELS = ["EXPERT", "ENTRY_LEVEL", "INTERMEDIATE", "ANY_EXPERIENCE_LEVEL"]
PAYMENT = ["PAY_PER_LABEL", "PAY_PER_HOUR", "FIXED_PRICE"]
UNITS = ["HOURS_OF_RECORDING_AUDIO_VIDEO", "NUMBER_OF_FILES", "NUMBER_OF_WORDS", "UNKNOWN_NOT_SPECIFIED"]
MAX_SAFE_INTEGER = 2**53 - 1


def accepted(outcome: Accepted | Refused) -> object:
    assert isinstance(outcome, Accepted), outcome
    return outcome.value


def refused(outcome: Accepted | Refused) -> str:
    assert isinstance(outcome, Refused), outcome
    assert outcome.reason.strip()
    return outcome.reason.lower()


# ---- labels


def test_labels_are_human_and_keep_the_api_order():
    assert enum_label("ENTRY_LEVEL") == "Entry level"
    assert enum_label("PAY_PER_HOUR") == "Pay per hour"
    assert enum_label("English") == "English"  # not CONSTANT_CASE: the spelling is kept
    assert enum_label("___") == "___"  # never an empty label
    assert choice_labels(PAYMENT) == [("PAY_PER_LABEL", "Pay per label"), ("PAY_PER_HOUR", "Pay per hour"),
                                      ("FIXED_PRICE", "Fixed price")]
    assert choice_labels(None) == []


# ---- enum


@pytest.mark.parametrize("values, text, expected", [
    (LEVELS, "ENTRY_LEVEL", "ENTRY_LEVEL"),
    (LEVELS, "entry level", "ENTRY_LEVEL"),
    (LEVELS, "Entry-Level", "ENTRY_LEVEL"),
    (LEVELS, "entry_level", "ENTRY_LEVEL"),
    (LEVELS, "  *Expert.*  ", "EXPERT"),
    (LEVELS, "Any experience level", "ANY_EXPERIENCE_LEVEL"),
    (LEVELS, "any", "ANY_EXPERIENCE_LEVEL"),
    (LEVELS, "Any level", "ANY_EXPERIENCE_LEVEL"),
    (LEVELS, "2", "ENTRY_LEVEL"),
    (LEVELS, " 4 ", "ANY_EXPERIENCE_LEVEL"),
    (LEVELS, "inter", "INTERMEDIATE"),
    (LEVELS, "ＥＸＰＥＲＴ", "EXPERT"),  # full-width letters
    (PAYMENT, "hourly", "PAY_PER_HOUR"),
    (PAYMENT, "per hour", "PAY_PER_HOUR"),
    (PAYMENT, "Pay per hour", "PAY_PER_HOUR"),
    (PAYMENT, "per label", "PAY_PER_LABEL"),
    (PAYMENT, "per item", "PAY_PER_LABEL"),
    (PAYMENT, "fixed", "FIXED_PRICE"),
    (PAYMENT, "Flat", "FIXED_PRICE"),
    (UNITS, "files", "NUMBER_OF_FILES"),
    (UNITS, "images", "NUMBER_OF_FILES"),
    (UNITS, "words", "NUMBER_OF_WORDS"),
    (UNITS, "hours", "HOURS_OF_RECORDING_AUDIO_VIDEO"),
    (UNITS, "audio", "HOURS_OF_RECORDING_AUDIO_VIDEO"),
    (UNITS, "video", "HOURS_OF_RECORDING_AUDIO_VIDEO"),
    (UNITS, "unknown", "UNKNOWN_NOT_SPECIFIED"),
    (UNITS, "Not sure", "UNKNOWN_NOT_SPECIFIED"),
])
def test_enum_answers_that_are_accepted(values, text, expected):
    assert accepted(parse_answer("enum", text, enum_values=values)) == expected


@pytest.mark.parametrize("values, text, mentions", [
    (LEVELS, "e", ["could be", "1. expert", "2. entry level"]),  # ambiguous prefix: the candidates
    (LEVELS, "wizard", ["isn't one of the choices", "1. expert", "4. any experience level"]),
    (LEVELS, "9", ["no choice 9", "1 to 4"]),
    (LEVELS, "0", ["no choice 0"]),
    (LEVELS, "   ", ["pick one", "3. intermediate"]),
    (LEVELS, "hourly", ["isn't one of the choices"]),  # a synonym counts only when its value is offered
    (["PAY_PER_LABEL", "FIXED_PRICE"], "per hour", ["isn't one of the choices"]),
    (UNITS, "any", ["isn't one of the choices"]),
])
def test_enum_answers_that_are_refused(values, text, mentions):
    reason = refused(parse_answer("enum", text, enum_values=values))
    assert all(m in reason for m in mentions), reason


def test_enum_without_values_is_read_as_text_and_types_are_case_insensitive():
    assert accepted(parse_answer("enum", " Something ", enum_values=None)) == "Something"
    assert accepted(parse_answer("ENUM", "expert", enum_values=LEVELS)) == "EXPERT"


# ---- number and integer


@pytest.mark.parametrize("text, expected", [
    ("18", 18), ("$18/hour", 18), ("18.50", 18.5), ("1,000", 1000), ("1,000,000.25", 1000000.25), ("1.5k", 1500),
    ("2M", 2_000_000), ("0." + "0" * 150 + "1", 1e-151), ("9" * 150 + "k", float("9" * 150 + "000")),
    ("0.05 per label", 0.05), (".5", 0.5),
    ("USD 20", 20), ("20 usd", 20), ("US$ 20", 20),
    ("18 dollars", 18), ("$ 18.50 / hr", 18.5), ("18,50", 18.5), ("18,500", 18500), ("about 20", 20),
    ("18.", 18), ("3 thousand", 3000), ("ten", 10), ("twenty dollars an hour", 20), ("１８", 18),
])
def test_number_answers_that_are_accepted(text, expected):
    value = accepted(parse_answer("number", text, field="pricePerHour"))
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text, mentions", [
    ("€15", ["us dollars"]), ("15 EUR", ["us dollars"]), ("£20", ["us dollars"]), ("CA$ 20", ["us dollars"]),
    ("20 euros", ["us dollars"]),
    ("-4", ["negative"]), ("$-4", ["negative"]), ("−4", ["negative"]),
    ("0", ["more than zero"]), ("0.00", ["more than zero"]), ("zero", ["more than zero"]),
    ("NaN", ["couldn't find a number"]), ("inf", ["couldn't find a number"]), ("infinity", ["couldn't find a number"]),
    ("cheap", ["couldn't find a number"]), ("", ["couldn't find a number"]), ("twenty-five", ["couldn't find"]),
    ("15-20", ["one number", "range"]), ("$15 - $20", ["range"]), ("15 to 20", ["range"]),
    ("18 for 40 hours", ["one number", "not several"]),
    ("1,5", ["decimals as 18.50"]), ("1.000.000", ["thousands as 1,000"]),
    ("pay me 20", ["just a number"]),
    ("9" * 400, ["too long"]),
])
def test_number_answers_that_are_refused(text, mentions):
    reason = refused(parse_answer("number", text, field="pricePerHour"))
    assert reason.startswith("price per hour") and all(m in reason for m in mentions), reason


@pytest.mark.parametrize("text, expected", [
    ("3", 3), ("ten", 10), ("Twenty", 20), ("1,000", 1000), ("1k", 1000), ("1.0", 1), ("10 people", 10),
    (str(MAX_SAFE_INTEGER), MAX_SAFE_INTEGER),
])
def test_integer_answers_that_are_accepted(text, expected):
    value = accepted(parse_answer("integer", text, field="headcount"))
    assert value == expected and type(value) is int


@pytest.mark.parametrize("text, mentions", [
    ("1.5", ["whole number"]), ("0", ["more than zero"]), ("-3", ["negative"]), ("a few", ["couldn't find"]),
    ("3 or 4", ["range"]), (str(MAX_SAFE_INTEGER + 1), ["too large"]), ("2.5 people", ["whole"]),
])
def test_integer_answers_that_are_refused(text, mentions):
    reason = refused(parse_answer("integer", text, field="headcount"))
    assert reason.startswith("headcount") and all(m in reason for m in mentions), reason


# ---- boolean, array, string


@pytest.mark.parametrize("text, expected", [
    ("yes", True), ("Y", True), ("true", True), ("1", True), ("on", True), ("Yes!", True),
    ("no", False), ("n", False), ("FALSE", False), ("0", False), ("off", False), (" no. ", False),
])
@pytest.mark.parametrize("kind", ["boolean", "bool"])
def test_boolean_answers_that_are_accepted(kind, text, expected):
    assert accepted(parse_answer(kind, text)) is expected


@pytest.mark.parametrize("text", ["maybe", "", "yes no", "2"])
def test_boolean_answers_that_are_refused(text):
    assert "yes or no" in refused(parse_answer("boolean", text))


@pytest.mark.parametrize("text, expected", [
    ("English, Spanish and French", ["English", "Spanish", "French"]),
    ("English; Spanish", ["English", "Spanish"]),
    ("English / Spanish", ["English", "Spanish"]),
    ("English\nSpanish\n\nFrench", ["English", "Spanish", "French"]),
    ("- English\n• Spanish\n* french\n1. German", ["English", "Spanish", "french", "German"]),
    ("English, english, ENGLISH, Spanish", ["English", "Spanish"]),  # first spelling kept
    ("english , , spanish,", ["english", "spanish"]),  # user's text kept, empties dropped
    ("Bounding box, Polygon", ["Bounding box", "Polygon"]),
    ("Question and answer pairs\nSentiment", ["Question and answer pairs", "Sentiment"]),  # a line stays whole
    ("Audio/Video", ["Audio/Video"]),
])
@pytest.mark.parametrize("kind", ["array", "list", "string[]"])
def test_array_answers_that_are_accepted(kind, text, expected):
    assert accepted(parse_answer(kind, text, field="languages")) == expected


@pytest.mark.parametrize("text, mention", [("", "at least one"), (" , ; \n - ", "at least one"),
                                           ("x, " * 4000, "too long")])
def test_array_answers_that_are_refused(text, mention):
    assert mention in refused(parse_answer("array", text, field="languages"))


@pytest.mark.parametrize("kind", ["string", "text", "some-future-type", ""])
def test_text_answers(kind):
    assert accepted(parse_answer(kind, "  Label sentiment in tweets.\n  ")) == "Label sentiment in tweets."
    assert accepted(parse_answer(kind, "a\x00b\x1b\u200bc")) == "ab\u200bc"  # control characters dropped
    assert accepted(parse_answer(kind, "x" * 10_000)) == "x" * 10_000
    assert "too long" in refused(parse_answer(kind, "x" * 10_001))
    assert "needs some text" in refused(parse_answer(kind, " \n\t "))
    assert "needs some text" in refused(parse_answer(kind, "\ud800"))  # a lone surrogate can't be sent


# ---- properties: any text parses to the right type or is refused with a reason; nothing escapes

ANY_TEXT = st.text(st.characters(codec=None), max_size=300) | st.text(st.characters(codec="ascii"), max_size=60)
NUMBER_PIECES = [*"0123456789.,-$€kKmM /", "per hour", "usd", " to ", "ten", "−"]
NUMBERISH = (st.lists(st.sampled_from(NUMBER_PIECES), max_size=10).map("".join)
             | st.from_regex(r"\$?[0-9]{1,7}([.,][0-9]{1,3})?[kKmM]?( per hour)?", fullmatch=True))


def assert_refused_with_reason(outcome):
    assert isinstance(outcome, Refused) and outcome.reason.strip(), outcome


@settings(max_examples=300)
@given(ANY_TEXT | NUMBERISH)
def test_any_text_gives_a_number_an_integer_or_a_reason(text):
    number = parse_answer("number", text)
    if isinstance(number, Accepted):
        assert type(number.value) in (int, float) and math.isfinite(number.value) and number.value > 0
    else:
        assert_refused_with_reason(number)
    integer = parse_answer("integer", text)
    if isinstance(integer, Accepted):
        assert type(integer.value) is int and 1 <= integer.value <= MAX_SAFE_INTEGER
        assert number == integer  # an integer answer reads the same as a number
    else:
        assert_refused_with_reason(integer)


@settings(max_examples=200)
@given(ANY_TEXT)
def test_any_text_gives_a_boolean_a_list_a_string_or_a_reason(text):
    for kind, check in (("boolean", lambda v: type(v) is bool),
                        ("array", lambda v: type(v) is list and all(type(i) is str and i.strip() for i in v)),
                        ("string", lambda v: type(v) is str and v == v.strip() and 0 < len(v) <= 10_000)):
        outcome = parse_answer(kind, text)
        if isinstance(outcome, Accepted):
            assert check(outcome.value), (kind, outcome)
        else:
            assert_refused_with_reason(outcome)


ENUM_VALUES = st.lists(st.from_regex(r"[A-Z][A-Z0-9]{0,8}(_[A-Z0-9]{1,8}){0,3}", fullmatch=True),
                       min_size=1, max_size=12, unique_by=lambda v: re.sub(r"[\W_]+", " ", v.lower()))


@settings(max_examples=200)
@given(ENUM_VALUES | st.just(LEVELS) | st.just(UNITS), ANY_TEXT)
def test_any_text_gives_one_of_the_enum_values_or_a_reason(values, text):
    outcome = parse_answer("enum", text, enum_values=values)
    if isinstance(outcome, Accepted):
        assert outcome.value in values
    else:
        assert_refused_with_reason(outcome)


@given(ENUM_VALUES | st.just(LEVELS) | st.just(PAYMENT) | st.just(UNITS))
def test_every_enum_value_its_label_and_its_number_parse_back_to_itself(values):
    for number, (value, label) in enumerate(choice_labels(values), start=1):
        for spelling in (value, label, label.upper(), value.lower().replace("_", "-"), str(number)):
            assert parse_answer("enum", spelling, enum_values=values) == Accepted(value), spelling


@given(st.integers(min_value=1, max_value=MAX_SAFE_INTEGER))
def test_every_positive_integer_reads_back(n):
    assert parse_answer("integer", str(n)) == Accepted(n)
    assert parse_answer("number", str(n)) == Accepted(n)
    assert parse_answer("integer", f"{n:,}") == Accepted(n)


@given(st.decimals(min_value="0.01", max_value="1000000", places=2, allow_nan=False, allow_infinity=False))
def test_every_positive_amount_reads_back(amount):
    value = accepted(parse_answer("number", f"${amount:,.2f}"))
    assert value == pytest.approx(float(amount))


@given(st.lists(st.from_regex(r"[A-Za-z][A-Za-z ]{0,15}[A-Za-z]", fullmatch=True)
                .filter(lambda s: not re.search(r"\band\b", s, re.IGNORECASE)),
                min_size=1, max_size=6, unique_by=str.casefold))
def test_every_list_reads_back_joined_by_commas_or_lines(items):
    assert parse_answer("array", ", ".join(items)) == Accepted(items)
    assert parse_answer("array", "\n".join(f"- {item}" for item in items)) == Accepted(items)
