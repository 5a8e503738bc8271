"""The job-draft validation report (contract §3), turned into the `Report` the conversation keeps.

The client's `DraftReport` already reads every tolerated variant of the payload; this module only keeps what the
conversation needs, and carries over what a partial PATCH answer left out.
"""

from __future__ import annotations

from typing import Any

from bot.hiring.record import FieldSpec, Report, Unmapped
from bot.opentrain.models import DraftReport, MissingField


def field_spec(gap: MissingField) -> FieldSpec:
    return FieldSpec(
        field=gap.field,
        label=gap.label or gap.field,
        prompt=gap.question,
        type=gap.type or "string",
        enum_values=list(gap.enum_values or []),
        update_keys=list(gap.update_keys),
        example=None if gap.example is None else str(gap.example),
        hint=gap.hint,
    )


def _missing(report: DraftReport, previous: Report) -> list[FieldSpec]:
    if report.missing_fields:
        return [field_spec(gap) for gap in report.missing_fields]
    # Only names came back: reuse what the last full report said about each field.
    known = {spec.field: spec for spec in previous.missing}
    return [known.get(name) or field_spec(MissingField(field=name)) for name in report.validation.missing_fields]


def _unmapped(report: DraftReport) -> list[Unmapped]:
    return [Unmapped(path=entry.path, reason=entry.reason, preview=entry.value_preview or "")
            for entry in report.unmapped_fields]


def _low_confidence(report: DraftReport, previous: Report, sent: dict[str, Any]) -> list[str]:
    if "low_confidence_fields" in report.model_fields_set:
        return [entry.field for entry in report.low_confidence_fields]
    # A partial answer: the old flags stand, except on the keys just answered (an answer is not a guess).
    return [name for name in previous.low_confidence if name not in sent]


def read_report(report: DraftReport, previous: Report | None = None, sent: dict[str, Any] | None = None) -> Report:
    """The report after a create or PATCH; a PATCH answer may omit parts, which then carry over from `previous`.

    What the conversation learned besides the report (choices, update keys, every field asked about) carries over
    too, so a later question about a field the API no longer reports missing still knows its type and label.
    """
    previous, sent = previous or Report(), sent or {}
    normalized = report.normalized_fields
    if normalized is None:
        normalized = {**previous.normalized, **sent}
    return Report(
        job_id=report.job_id or previous.job_id,
        draft_url=report.draft_url or previous.draft_url,
        review_url=report.review_url or report.draft_url or previous.review_url,
        publish_ready=report.validation.publish_ready,
        missing=_missing(report, previous),
        normalized=dict(normalized),
        low_confidence=_low_confidence(report, previous, sent),
        unmapped=_unmapped(report) or previous.unmapped,
        warnings=list(report.warnings) or previous.warnings,
        issues=list(report.validation.issues),
        enums=previous.enums,
        update_keys=previous.update_keys,
        known={**previous.known, **{spec.field: spec for spec in previous.missing}},
    )
