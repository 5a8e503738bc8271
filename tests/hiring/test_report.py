"""A PATCH answer carrying only `validation` (contract §2.4.3) keeps what the last full report said."""

from __future__ import annotations

from bot.hiring.report import read_report
from bot.opentrain.models import DraftReport
from tests.opentrain import payloads

GUESSED = {**payloads.DRAFT_REPORT, "lowConfidenceFields": [{"field": "headcount", "confidence": 0.5}, "languages"],
           "warnings": ["Pay looks low"]}


def test_a_partial_patch_answer_keeps_the_prompts_values_and_unanswered_flags():
    full = read_report(DraftReport.model_validate(GUESSED))
    answered = {"headcount": 8}

    after = read_report(DraftReport.model_validate(payloads.PATCH_REPORT), full, answered)

    assert after.low_confidence == ["languages"]
    assert after.normalized == {**full.normalized, **answered}
    assert after.warnings == full.warnings and after.unmapped == full.unmapped
    assert after.publish_ready is True and after.missing == []


def test_a_full_answer_replaces_the_flags():
    full = read_report(DraftReport.model_validate(GUESSED))
    cleared = read_report(DraftReport.model_validate(payloads.DRAFT_REPORT), full)
    assert full.low_confidence == ["headcount", "languages"] and cleared.low_confidence == []
