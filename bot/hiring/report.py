"""The job-draft validation report (contract §3), read tolerantly into the plain dict the conversation stores.

The client hands back pydantic models; this module reads them through `model_dump` and accepts both camelCase
and snake_case names, string or object entries where the contract marks a conflict, so the engine sees one shape.
"""

from __future__ import annotations

from typing import Any

ASK_PREFIX = "ask: "


def as_dict(payload: Any) -> dict[str, Any]:
    if payload is None:
        return {}
    if isinstance(payload, dict):
        return payload
    if hasattr(payload, "model_dump"):
        return payload.model_dump(by_alias=True, mode="json")
    return dict(vars(payload))


def pick(data: dict[str, Any], camel: str, default: Any = None) -> Any:
    """`data[camel]`, else its snake_case twin, else `default`."""
    if camel in data and data[camel] is not None:
        return data[camel]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    value = data.get(snake)
    return default if value is None else value


def strip_ask(prompt: str | None) -> str:
    text = (prompt or "").strip()
    return text[len(ASK_PREFIX):].strip() if text.lower().startswith(ASK_PREFIX) else text


def _missing_entry(entry: Any) -> dict[str, Any]:
    data = as_dict(entry) if not isinstance(entry, str) else {"field": entry}
    field = pick(data, "field", "")
    return {
        "field": field,
        "label": pick(data, "label") or field,
        "prompt": strip_ask(pick(data, "prompt")) or f"What should {pick(data, 'label') or field} be?",
        "type": pick(data, "type") or "string",
        "enum_values": list(pick(data, "enumValues") or []),
        "update_keys": list(pick(data, "updateKeys") or [field]),
        "example": None if pick(data, "example") is None else str(pick(data, "example")),
        "hint": pick(data, "hint"),
    }


def _low_confidence(entries: list) -> list[str]:
    names = []
    for entry in entries:
        name = entry if isinstance(entry, str) else pick(as_dict(entry), "field") or pick(as_dict(entry), "key")
        if name:
            names.append(str(name))
    return names


def _unmapped(entries: list) -> list[dict[str, str]]:
    out = []
    for entry in entries:
        data = {"path": entry} if isinstance(entry, str) else as_dict(entry)
        preview = pick(data, "valuePreview", pick(data, "value", ""))
        out.append({"path": str(pick(data, "path", "")), "reason": str(pick(data, "reason", "")),
                    "preview": preview if isinstance(preview, str) else str(preview)})
    return out


def _warnings(entries: list) -> list[str]:
    return [w if isinstance(w, str) else str(pick(as_dict(w), "message", w)) for w in entries]


def read_report(payload: Any, previous: dict[str, Any] | None = None, sent: dict[str, Any] | None = None) -> dict:
    """The report after a create or PATCH; a PATCH answer may omit parts, which then carry over from `previous`."""
    data = as_dict(payload)
    previous = previous or {}
    validation = as_dict(pick(data, "validation", {}))
    rich = pick(data, "missingFields")
    names_only = pick(validation, "missingFields", [])
    if rich:
        missing = [_missing_entry(e) for e in rich]
    else:
        # Only names came back: reuse what the last full report said about each field.
        known = {m["field"]: m for m in previous.get("missing", [])}
        missing = [known.get(n) or _missing_entry(n) for n in (
            n if isinstance(n, str) else pick(as_dict(n), "field", "") for n in names_only)]
    normalized = pick(data, "normalizedFields")
    if normalized is None:
        normalized = {**previous.get("normalized", {}), **(sent or {})}
    publish_ready = pick(validation, "publishReady")
    return {
        "job_id": pick(data, "jobId") or previous.get("job_id"),
        "draft_url": pick(data, "draftUrl") or previous.get("draft_url"),
        "review_url": pick(data, "reviewUrl") or pick(data, "draftUrl") or previous.get("review_url"),
        "publish_ready": bool(publish_ready) if publish_ready is not None else not missing,
        "missing": missing,
        "normalized": dict(normalized),
        "low_confidence": _low_confidence(pick(data, "lowConfidenceFields", previous.get("low_confidence", []))),
        "unmapped": _unmapped(pick(data, "unmappedFields", [])) or previous.get("unmapped", []),
        "warnings": _warnings(pick(data, "warnings", [])) or previous.get("warnings", []),
        "issues": [str(i if isinstance(i, str) else pick(as_dict(i), "message", i))
                   for i in pick(validation, "issues", [])],
    }
