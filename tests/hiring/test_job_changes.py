"""Reading a submitted edit form, without Slack or OpenTrain: typed values, only what changed, and what is wrong."""

from __future__ import annotations

import pytest

from bot.hiring.job_changes import EditableField, EditForm, read_edit

FORM = EditForm("job_1", "Dashcam boxes", (
    EditableField("jobTitle", "Title", "string", "Dashcam boxes"),
    EditableField("jobDescription", "Description", "string", "Draw boxes."),
    EditableField("languages", "Languages", "array", ["English"]),
    EditableField("headcount", "Trainers to hire", "integer", 10),
    EditableField("experienceLevel", "Experience level", "enum", "INTERMEDIATE", ("EXPERT", "INTERMEDIATE")),
    EditableField("pricePerHour", "Pay per hour (USD)", "number", 18),
    EditableField("fixedPrice", "Fixed price (USD)", "number", None),
))
AS_SHOWN = {"jobTitle": "Dashcam boxes", "jobDescription": "Draw boxes.", "languages": "English", "headcount": "10",
            "experienceLevel": "INTERMEDIATE", "pricePerHour": "18", "fixedPrice": None}


def test_nothing_changed_sends_nothing():
    assert read_edit(FORM, AS_SHOWN).changes == {} and read_edit(FORM, AS_SHOWN).problems == {}
    assert read_edit(FORM, {**AS_SHOWN, "pricePerHour": "18.0"}).changes == {}  # the same number


def test_only_the_changed_fields_are_sent_typed():
    reading = read_edit(FORM, {**AS_SHOWN, "headcount": "12", "pricePerHour": " 20.5 ", "experienceLevel": "EXPERT",
                               "languages": "English, Spanish, English", "jobTitle": "  Dashcam boxes v2 "})
    assert reading.problems == {}
    assert reading.changes == {"headcount": 12, "pricePerHour": 20.5, "experienceLevel": "EXPERT",
                               "languages": ["English", "Spanish"], "jobTitle": "Dashcam boxes v2"}


def test_an_empty_optional_input_leaves_its_field_and_a_missing_input_is_not_read():
    assert read_edit(FORM, {"fixedPrice": "", "pricePerHour": None}).changes == {}
    assert read_edit(FORM, {"headcount": "3"}).changes == {"headcount": 3}


@pytest.mark.parametrize("key, value", [
    ("headcount", "2.5"), ("headcount", "0"), ("headcount", "ten"), ("pricePerHour", "-3"), ("pricePerHour", "nan"),
    ("pricePerHour", "inf"), ("experienceLevel", "GURU"), ("jobTitle", "   "), ("jobDescription", ""),
])
def test_a_bad_input_is_named_and_nothing_is_sent(key, value):
    reading = read_edit(FORM, {**AS_SHOWN, key: value, "headcount": AS_SHOWN["headcount"] if key != "headcount"
                               else value, "fixedPrice": "100"})
    assert list(reading.problems) == [key] and reading.problems[key]
