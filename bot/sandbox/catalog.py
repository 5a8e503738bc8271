"""The draft field catalog: every PATCH-able key with its type, label and question, the publish-required set,
the validation report (contract §3) and zod-like PATCH validation (§2.4.3)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

PAYMENT_TYPES = ["PAY_PER_LABEL", "PAY_PER_HOUR", "FIXED_PRICE"]
EXPERIENCE_LEVELS = ["EXPERT", "ENTRY_LEVEL", "INTERMEDIATE", "ANY_EXPERIENCE_LEVEL"]
DATA_VOLUME_UNITS = ["HOURS_OF_RECORDING_AUDIO_VIDEO", "NUMBER_OF_FILES", "NUMBER_OF_WORDS", "UNKNOWN_NOT_SPECIFIED"]

ENUMS: dict[str, list[str]] = {
    "paymentType": PAYMENT_TYPES,
    "experienceLevel": EXPERIENCE_LEVELS,
    "dataVolumeUnit": DATA_VOLUME_UNITS,
}
IMPORT_FORMATS: list[str] = ["opentrain_canonical", "schema_org_job_posting", "indeed_xml", "hr_xml"]

# The rate key that goes with each payment type.
RATE_KEYS: dict[str, str] = {"PAY_PER_HOUR": "pricePerHour", "PAY_PER_LABEL": "pricePerLabel",
                             "FIXED_PRICE": "fixedPrice"}


def rate_key(payment_type: object) -> str | None:
    """The rate key that goes with `payment_type`; None when it is unset or not a known payment type."""
    return RATE_KEYS.get(payment_type) if isinstance(payment_type, str) else None

MAX_TITLE_CHARS = 200
MAX_TEXT_CHARS = 60_000


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    type: str  # enum | number | integer | string | array
    question: str
    example: str
    hint: str | None = None
    message: str | None = None  # overrides "<label> is required before publishing."

    @property
    def enum_values(self) -> list[str] | None:
        return ENUMS.get(self.key)


_RATE_MESSAGE = "A pay rate is required before publishing."

# Listed in the order a person would be asked: title, what, how much, who, pay.
# The contract leaves the last eight keys untyped; the sandbox takes them as free text (strings) because the
# in-app editor shows them as text boxes and free text is the least surprising shape for a client to send.
FIELDS: list[FieldSpec] = [
    FieldSpec("jobTitle", "Job title", "string", "What should the job be called?",
              "Bounding Box Annotation — Dashcam Images", "Short and specific: the task and the data."),
    FieldSpec("jobDescription", "Job description", "string", "How would you describe the job to AI trainers?",
              "Draw tight bounding boxes around every vehicle in 50,000 dashcam images.", None),
    FieldSpec("labelingOverview", "Labeling overview", "string", "What exactly will trainers label?",
              "Boxes around cars, trucks and pedestrians.", None),
    FieldSpec("datasetDescription", "Dataset description", "string", "What is the data like?",
              "Daytime and night dashcam footage from city streets.", None),
    FieldSpec("dataType", "Data type", "string", "What kind of data will be labeled?", "Image",
              "For example Image, Video, Audio, Text, LiDAR or Document."),
    FieldSpec("subjectMatter", "Subject matter", "string", "What domain is the data from?", "Autonomous driving", None),
    FieldSpec("dataVolume", "Data volume", "number", "How much data is there to label?", "50000",
              "A number; the unit is asked separately."),
    FieldSpec("dataVolumeUnit", "Data volume unit", "enum", "In what unit is the data volume measured?",
              "NUMBER_OF_FILES", "Use UNKNOWN_NOT_SPECIFIED if you are not sure."),
    FieldSpec("labelTypes", "Label types", "array", "What kinds of labels are needed?", "Bounding box",
              "For example Bounding box, Polygon, Transcription, Sentiment analysis, Classification."),
    FieldSpec("labelingSoftware", "Labeling software", "string", "Which labeling tool will trainers use?",
              "Labelbox", None),
    FieldSpec("languages", "Languages", "array", "Which languages must AI trainers speak?", "English", None),
    FieldSpec("countries", "Countries", "array", "Which countries may AI trainers be in?", "US",
              "ISO country codes such as US, GB or DE."),
    FieldSpec("headcount", "Headcount", "integer", "How many AI trainers do you want to hire?", "5", None),
    FieldSpec("experienceLevel", "Experience level", "enum", "What experience level should AI trainers have?",
              "INTERMEDIATE", "Pick the minimum level the work realistically needs."),
    FieldSpec("paymentType", "Payment type", "enum", "How will you pay: per label, per hour, or a fixed price?",
              "PAY_PER_HOUR", None),
    FieldSpec("pricePerHour", "Price per hour", "number", "How much will you pay per hour (USD)?", "18", None,
              _RATE_MESSAGE),
    FieldSpec("pricePerLabel", "Price per label", "number", "How much will you pay per label (USD)?", "0.05", None,
              _RATE_MESSAGE),
    FieldSpec("fixedPrice", "Fixed price", "number", "What is the fixed price for the whole job (USD)?", "2000",
              None, _RATE_MESSAGE),
    FieldSpec("aiInterviewRequirements", "AI interview requirements", "string",
              "What should the AI interview check?", "Ask about prior bounding-box work.", None),
    FieldSpec("budgetRange", "Budget range", "string", "What is the budget range?", "15-20 USD per hour", None),
    FieldSpec("workloadDesc", "Workload", "string", "How much work per week is it?", "20 hours per week", None),
    FieldSpec("timeRequirement", "Time requirement", "string", "When must the work be done?", "Within 4 weeks", None),
    FieldSpec("projectDuration", "Project duration", "string", "How long will the project run?", "3 months", None),
    FieldSpec("freelancerType", "Freelancer type", "string", "What kind of freelancer do you need?",
              "Individual", None),
    FieldSpec("projectScope", "Project scope", "string", "Is this a one-off or ongoing project?", "One-off", None),
    FieldSpec("visibility", "Visibility", "string", "Who should see the job?", "Public", None),
]
SPECS: dict[str, FieldSpec] = {spec.key: spec for spec in FIELDS}
UPDATE_KEYS: list[str] = [spec.key for spec in FIELDS]

# Publish needs enough to write a posting a trainer can judge: what, how much, who, and how it pays. The rate key
# joins the set through the payment type (see _required_keys).
REQUIRED_KEYS: list[str] = ["jobTitle", "jobDescription", "dataType", "dataVolume", "dataVolumeUnit", "labelTypes",
                            "languages", "headcount", "experienceLevel", "paymentType"]


def _has_value(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, tuple)):
        return any(_has_value(item) for item in value)
    return True


def _required_keys(fields: dict) -> set[str]:
    required = set(REQUIRED_KEYS)
    rate = rate_key(fields.get("paymentType"))
    if rate:
        required.add(rate)
    return required


def _prompt(spec: FieldSpec) -> str:
    choices = f" ({', '.join(spec.enum_values)})" if spec.enum_values else ""
    return f"ask: {spec.question}{choices}"


def _missing_entry(spec: FieldSpec) -> dict:
    return {
        "field": spec.key, "label": spec.label,
        "message": spec.message or f"{spec.label} is required before publishing.",
        "code": "missing_required_field", "prompt": _prompt(spec), "type": spec.type,
        "enumValues": spec.enum_values, "updateKeys": [spec.key], "example": spec.example, "hint": spec.hint,
    }


# Gaps that one question covers with several update keys (contract §3.3 `updateKeys` is a list): a description
# that names no data volume at all is asked for the amount and its unit together.
COMBINED_GAPS: dict[tuple[str, ...], dict] = {
    ("dataVolume", "dataVolumeUnit"): {
        "prompt": "ask: How much data is there to label, and in what unit?",
        "hint": "First the amount (a number), then its unit: files, words, or hours of audio/video.",
    },
}


def _missing_keys(fields: dict) -> list[str]:
    required = _required_keys(fields)
    return [spec.key for spec in FIELDS if spec.key in required and not _has_value(fields.get(spec.key))]


def missing_fields(fields: dict) -> list[dict]:
    """The rich §3.3 entries for every required field without a value, in asking order."""
    missing = _missing_keys(fields)
    entries: list[dict] = []
    covered: set[str] = set()
    for key in missing:
        if key in covered:
            continue
        keys = next((keys for keys in COMBINED_GAPS if keys[0] == key and set(keys) <= set(missing)), (key,))
        covered.update(keys)
        entry = _missing_entry(SPECS[key])
        if len(keys) > 1:
            entry.update(COMBINED_GAPS[keys], updateKeys=list(keys), enumValues=None)
        entries.append(entry)
    return entries


def validation_report(fields: dict) -> dict:
    names = _missing_keys(fields)
    return {"publishReady": not names, "issueCount": 0, "missingFieldCount": len(names),
            "missingFields": names, "issues": []}


# ---- PATCH validation (zod-like issues) ----------------------------------------------------------------------

def _received(value: Any) -> str:
    """zod's name for the type of a parsed JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "number"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _issue(path: list, code: str, message: str, **extra: Any) -> dict:
    return {"path": path, "code": code, "message": message, **extra}


def _type_issue(path: list, expected: str, value: Any) -> dict:
    received = _received(value)
    return _issue(path, "invalid_type", f"Expected {expected}, received {received}",
                  expected=expected, received=received)


def _string_issues(path: list, value: Any, max_length: int) -> list[dict]:
    if not isinstance(value, str):
        return [_type_issue(path, "string", value)]
    if not value.strip():
        return [_issue(path, "too_small", "String must contain at least 1 character(s)",
                       minimum=1, inclusive=True, type="string")]
    if len(value) > max_length:
        return [_issue(path, "too_big", f"String must contain at most {max_length} character(s)",
                       maximum=max_length, inclusive=True, type="string")]
    return []


def _number_issues(path: list, value: Any, *, integer: bool) -> list[dict]:
    if _received(value) != "number":
        return [_type_issue(path, "number", value)]
    if math.isinf(value):
        return [_issue(path, "not_finite", "Number must be finite")]
    if integer and not float(value).is_integer():
        return [_issue(path, "invalid_type", "Expected integer, received float", expected="integer",
                       received="float")]
    minimum = 1 if integer else 0
    if value < minimum or (not integer and value == 0):
        comparison = "greater than or equal to 1" if integer else "greater than 0"
        return [_issue(path, "too_small", f"Number must be {comparison}", minimum=minimum, inclusive=integer,
                       type="number")]
    return []


def _enum_issues(path: list, value: Any, options: list[str]) -> list[dict]:
    if isinstance(value, str) and value in options:
        return []
    if not isinstance(value, str):
        return [_type_issue(path, "string", value)]
    expected = " | ".join(f"'{option}'" for option in options)
    return [_issue(path, "invalid_enum_value", f"Invalid enum value. Expected {expected}, received '{value}'",
                   options=list(options), received=value)]


def _array_issues(path: list, value: Any) -> list[dict]:
    if not isinstance(value, list):
        return [_type_issue(path, "array", value)]
    if not value:
        return [_issue(path, "too_small", "Array must contain at least 1 element(s)", minimum=1, inclusive=True,
                       type="array")]
    issues: list[dict] = []
    for index, item in enumerate(value):
        issues += _string_issues([*path, index], item, MAX_TITLE_CHARS)
    return issues


def _value_issues(spec: FieldSpec, value: Any) -> list[dict]:
    path = [spec.key]
    if spec.type == "enum":
        return _enum_issues(path, value, ENUMS[spec.key])
    if spec.type in ("number", "integer"):
        return _number_issues(path, value, integer=spec.type == "integer")
    if spec.type == "array":
        return _array_issues(path, value)
    return _string_issues(path, value, MAX_TITLE_CHARS if spec.key == "jobTitle" else MAX_TEXT_CHARS)


def validate_patch(body: Any) -> list[dict]:
    """zod-style issues for a PATCH body; [] means it may be applied."""
    if not isinstance(body, dict):
        return [_type_issue([], "object", body)]
    if not body:
        return [_issue([], "too_small", "Provide at least one draft key", minimum=1, inclusive=True, type="object")]
    unknown = [key for key in body if key not in SPECS]
    issues: list[dict] = []
    if unknown:
        listed = ", ".join(f"'{key}'" for key in unknown)
        issues.append(_issue([], "unrecognized_keys", f"Unrecognized key(s) in object: {listed}", keys=unknown))
    for key, value in body.items():
        if key in SPECS:
            issues += _value_issues(SPECS[key], value)
    return issues


def _normalized(spec: FieldSpec, value: Any) -> Any:
    if spec.type == "integer":
        return int(value)
    if spec.type == "array":
        return list(dict.fromkeys(item.strip() for item in value))
    if isinstance(value, str):
        return value.strip()
    return value


def apply_patch(fields: dict, body: dict) -> dict:
    """A new field dict with a validated PATCH body applied (values trimmed, arrays de-duplicated)."""
    return {**fields, **{key: _normalized(SPECS[key], value) for key, value in body.items() if key in SPECS}}
