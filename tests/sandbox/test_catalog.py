"""The field catalog: what a draft still needs, how paymentType moves the rate gap, and PATCH validation."""

from __future__ import annotations

import math

from bot.sandbox import catalog

READY = {
    "jobTitle": "Bounding Box Annotation — Dashcam Images", "jobDescription": "Draw boxes around cars.",
    "dataType": "Image", "dataVolume": 50000, "dataVolumeUnit": "NUMBER_OF_FILES", "labelTypes": ["Bounding box"],
    "languages": ["English"], "headcount": 10, "experienceLevel": "INTERMEDIATE", "paymentType": "PAY_PER_HOUR",
    "pricePerHour": 18,
}


def test_draft_story_from_empty_to_ready_and_back_through_payment_type():
    fields: dict = {}
    gaps = catalog.missing_fields(fields)
    # Asking order: title, what, how much, who, pay; no rate until the payment type says which one.
    assert [gap["field"] for gap in gaps] == ["jobTitle", "jobDescription", "dataType", "dataVolume",
                                             "labelTypes", "languages", "headcount",
                                             "experienceLevel", "paymentType"]
    # No volume at all: one gap asks for the amount and its unit, one answer per update key.
    volume = next(gap for gap in gaps if gap["field"] == "dataVolume")
    assert volume["updateKeys"] == ["dataVolume", "dataVolumeUnit"] and volume["enumValues"] is None
    assert "unit" in volume["prompt"]
    assert catalog.validation_report(fields)["missingFields"][3:5] == ["dataVolume", "dataVolumeUnit"]
    # With the amount known, the unit is its own gap.
    assert [gap["updateKeys"] for gap in catalog.missing_fields({"dataVolume": 500})][3] == ["dataVolumeUnit"]
    gaps = [gap for gap in gaps if gap["field"] != "dataVolume"]
    experience = next(gap for gap in gaps if gap["field"] == "experienceLevel")
    assert experience == {
        "field": "experienceLevel", "label": "Experience level",
        "message": "Experience level is required before publishing.", "code": "missing_required_field",
        "prompt": "ask: What experience level should AI trainers have? "
                  "(EXPERT, ENTRY_LEVEL, INTERMEDIATE, ANY_EXPERIENCE_LEVEL)",
        "type": "enum", "enumValues": ["EXPERT", "ENTRY_LEVEL", "INTERMEDIATE", "ANY_EXPERIENCE_LEVEL"],
        "updateKeys": ["experienceLevel"], "example": "INTERMEDIATE",
        "hint": "Pick the minimum level the work realistically needs."}
    for gap in gaps:
        assert gap["prompt"].startswith("ask: ") and gap["updateKeys"] == [gap["field"]]
        assert gap["type"] in ("enum", "number", "integer", "string", "array")
        assert (gap["enumValues"] is not None) == (gap["type"] == "enum")
        assert (isinstance(gap["example"], str) and gap["hint"] is None) or isinstance(gap["hint"], str)

    # Fill everything but the rate: choosing per-label pay makes pricePerLabel the one gap.
    body = {key: value for key, value in READY.items() if key != "pricePerHour"} | {"paymentType": "PAY_PER_LABEL"}
    assert catalog.validate_patch(body) == []
    fields = catalog.apply_patch(fields, body)
    report = catalog.validation_report(fields)
    assert report == {"publishReady": False, "issueCount": 0, "missingFieldCount": 1,
                      "missingFields": ["pricePerLabel"], "issues": []}
    rate_gap = catalog.missing_fields(fields)[0]
    assert (rate_gap["message"], rate_gap["prompt"], rate_gap["type"], rate_gap["example"]) == (
        "A pay rate is required before publishing.", "ask: How much will you pay per label (USD)?", "number",
        "0.05")

    fields = catalog.apply_patch(fields, {"pricePerLabel": 0.05})
    assert catalog.validation_report(fields)["publishReady"] is True
    # Switching to a fixed price needs a fixed price; the old per-label rate does not count.
    switched = catalog.apply_patch(fields, {"paymentType": "FIXED_PRICE"})
    assert catalog.validation_report(switched)["missingFields"] == ["fixedPrice"]
    assert fields["paymentType"] == "PAY_PER_LABEL"  # apply_patch never mutates its input
    assert catalog.validation_report(catalog.apply_patch(switched, {"fixedPrice": 2000}))["publishReady"] is True


def test_apply_patch_normalizes_values():
    fields = catalog.apply_patch({"jobTitle": "old"}, {"jobTitle": "  New title ", "headcount": 3.0,
                                                      "languages": ["English", "English ", "French"]})
    assert fields == {"jobTitle": "New title", "headcount": 3, "languages": ["English", "French"]}
    assert isinstance(fields["headcount"], int)
    blank = catalog.apply_patch(READY, {}) | {"languages": []}
    assert catalog.validation_report(blank)["missingFields"] == ["languages"]


def test_patch_validation_reads_like_zod():
    assert catalog.validate_patch([1]) == [{"path": [], "code": "invalid_type", "message":
                                            "Expected object, received array", "expected": "object",
                                            "received": "array"}]
    assert catalog.validate_patch({})[0]["code"] == "too_small"
    issues = catalog.validate_patch({
        "notAField": 1, "alsoNot": 2, "headcount": "five", "paymentType": "HOURLY", "dataVolume": 0,
        "pricePerHour": math.inf, "languages": ["", 3], "countries": "US", "jobTitle": "   ",
        "fixedPrice": True,
    })
    by_path = {tuple(issue["path"]): issue for issue in issues}
    assert by_path[()] == {"path": [], "code": "unrecognized_keys", "keys": ["notAField", "alsoNot"],
                           "message": "Unrecognized key(s) in object: 'notAField', 'alsoNot'"}
    assert by_path[("headcount",)]["message"] == "Expected number, received string"
    assert by_path[("paymentType",)] == {
        "path": ["paymentType"], "code": "invalid_enum_value", "received": "HOURLY",
        "options": ["PAY_PER_LABEL", "PAY_PER_HOUR", "FIXED_PRICE"],
        "message": "Invalid enum value. Expected 'PAY_PER_LABEL' | 'PAY_PER_HOUR' | 'FIXED_PRICE', received 'HOURLY'"}
    assert by_path[("dataVolume",)]["message"] == "Number must be greater than 0"
    assert by_path[("pricePerHour",)]["code"] == "not_finite"
    assert by_path[("languages", 0)]["code"] == "too_small"
    assert by_path[("languages", 1)]["message"] == "Expected string, received number"
    assert by_path[("countries",)]["message"] == "Expected array, received string"
    assert by_path[("jobTitle",)]["code"] == "too_small"
    assert by_path[("fixedPrice",)]["message"] == "Expected number, received boolean"
    assert catalog.validate_patch({"headcount": 2.5})[0]["message"] == "Expected integer, received float"
    assert catalog.validate_patch({"headcount": 0})[0]["message"] == "Number must be greater than or equal to 1"
    assert catalog.validate_patch({"jobTitle": "x" * 201})[0]["code"] == "too_big"
    # Every update key takes a value of its own type.
    samples = {"string": "text", "number": 1.5, "integer": 2, "array": ["English"]}
    for spec in catalog.FIELDS:
        value = spec.enum_values[0] if spec.enum_values else samples[spec.type]
        assert catalog.validate_patch({spec.key: value}) == [], spec.key
    assert catalog.UPDATE_KEYS[:2] == ["jobTitle", "jobDescription"] and len(set(catalog.UPDATE_KEYS)) == 26
