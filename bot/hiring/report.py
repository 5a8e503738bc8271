"""The job-draft validation report (contract §3), turned into the plain dict the conversation stores.

The client's `DraftReport` already reads every tolerated variant of the payload; this module only keeps what the
conversation needs, and carries over what a partial PATCH answer left out.
"""

from __future__ import annotations

from typing import Any

from bot.opentrain.models import DraftReport, MissingField


def _question_spec(gap: MissingField) -> dict[str, Any]:
    return {
        "field": gap.field,
        "label": gap.label or gap.field,
        "prompt": gap.question,
        "type": gap.type or "string",
        "enum_values": list(gap.enum_values or []),
        "update_keys": list(gap.update_keys),
        "example": None if gap.example is None else str(gap.example),
        "hint": gap.hint,
    }


def _missing(report: DraftReport, previous: dict[str, Any]) -> list[dict[str, Any]]:
    if report.missing_fields:
        return [_question_spec(gap) for gap in report.missing_fields]
    # Only names came back: reuse what the last full report said about each field.
    known = {spec["field"]: spec for spec in previous.get("missing", [])}
    return [known.get(name) or _question_spec(MissingField(field=name)) for name in report.validation.missing_fields]


def _unmapped(report: DraftReport) -> list[dict[str, str]]:
    return [{"path": entry.path, "reason": entry.reason, "preview": entry.value_preview or ""}
            for entry in report.unmapped_fields]


def _low_confidence(report: DraftReport, previous: dict[str, Any], sent: dict[str, Any]) -> list[str]:
    if "low_confidence_fields" in report.model_fields_set:
        return [entry.field for entry in report.low_confidence_fields]
    # A partial answer: the old flags stand, except on the keys just answered (an answer is not a guess).
    return [name for name in previous.get("low_confidence", []) if name not in sent]


def read_report(report: DraftReport, previous: dict[str, Any] | None = None,
                sent: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report after a create or PATCH; a PATCH answer may omit parts, which then carry over from `previous`."""
    previous, sent = previous or {}, sent or {}
    normalized = report.normalized_fields
    if normalized is None:
        normalized = {**previous.get("normalized", {}), **sent}
    return {
        "job_id": report.job_id or previous.get("job_id"),
        "draft_url": report.draft_url or previous.get("draft_url"),
        "review_url": report.review_url or report.draft_url or previous.get("review_url"),
        "publish_ready": report.validation.publish_ready,
        "missing": _missing(report, previous),
        "normalized": dict(normalized),
        "low_confidence": _low_confidence(report, previous, sent),
        "unmapped": _unmapped(report) or previous.get("unmapped", []),
        "warnings": list(report.warnings) or previous.get("warnings", []),
        "issues": list(report.validation.issues),
    }
