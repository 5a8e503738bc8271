"""Structured job sources -> draft fields: OpenTrain's canonical job, schema.org JobPosting JSON-LD, Indeed XML
and HR-XML. Structured values win; the description text then fills the gaps through the plain-English parser.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any, ClassVar

from bot.sandbox import catalog
from bot.sandbox import vocabulary as vocab
from bot.sandbox.parser import ParsedDraft, experience_level, parse_description

MAX_PAYLOAD_CHARS = 200_000
MAX_UNMAPPED = 25
NOT_A_FIELD = "Not a draft field; it stays out of the draft."


class SourceFormatError(ValueError):
    """The payload does not match the declared source format (the message says how)."""


# ---- shared helpers -----------------------------------------------------------------------------------------

class _TextExtractor(HTMLParser):
    BLOCKS: ClassVar[frozenset[str]] = frozenset(
        {"p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "tr", "section"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def strip_html(markup: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, one line per block."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part for part in re.split(r"\s*[,;]\s*", value) if part]
    return [value]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", "").lstrip("$€£"))
        except ValueError:
            return None
    return None


def _put_checked(draft: ParsedDraft, key: str, value: Any, path: str, guess: str | None = None) -> None:
    """Set a draft key when the catalog accepts the value; otherwise list it as unmapped with the reason."""
    if isinstance(value, float) and value.is_integer() and catalog.SPECS[key].type in ("integer", "number"):
        value = int(value)
    issues = catalog.validate_patch({key: value})
    if issues:
        draft.skip(path, f"Invalid {key}: {issues[0]['message']}.", value)
    else:
        draft.put(key, catalog.apply_patch({}, {key: value})[key], guess)


def _enum_value(key: str, raw: Any, aliases: dict[str, str]) -> str | None:
    if not isinstance(raw, str):
        return None
    token = re.sub(r"[\s-]+", "_", raw.strip()).upper()
    return token if token in catalog.ENUMS[key] else aliases.get(token)


PAYMENT_ALIASES = {"HOURLY": "PAY_PER_HOUR", "PER_HOUR": "PAY_PER_HOUR", "HOUR": "PAY_PER_HOUR",
                   "PER_LABEL": "PAY_PER_LABEL", "PIECE_RATE": "PAY_PER_LABEL", "PER_TASK": "PAY_PER_LABEL",
                   "FIXED": "FIXED_PRICE", "FLAT": "FIXED_PRICE", "PROJECT": "FIXED_PRICE"}
# Pay interval words of JSON-LD / HR-XML -> (payment type, hours per interval for converting to an hourly rate).
INTERVALS: dict[str, tuple[str, int]] = {
    "HOUR": ("PAY_PER_HOUR", 1), "HOURLY": ("PAY_PER_HOUR", 1), "HR": ("PAY_PER_HOUR", 1),
    "DAY": ("PAY_PER_HOUR", 8), "DAILY": ("PAY_PER_HOUR", 8), "WEEK": ("PAY_PER_HOUR", 40),
    "WEEKLY": ("PAY_PER_HOUR", 40), "MONTH": ("PAY_PER_HOUR", 160), "MONTHLY": ("PAY_PER_HOUR", 160),
    "YEAR": ("PAY_PER_HOUR", 2080), "ANNUAL": ("PAY_PER_HOUR", 2080), "YEARLY": ("PAY_PER_HOUR", 2080),
    "PIECE": ("PAY_PER_LABEL", 1), "ITEM": ("PAY_PER_LABEL", 1), "LABEL": ("PAY_PER_LABEL", 1),
    "TASK": ("PAY_PER_LABEL", 1), "UNIT": ("PAY_PER_LABEL", 1),
    "PROJECT": ("FIXED_PRICE", 1), "FIXED": ("FIXED_PRICE", 1), "TOTAL": ("FIXED_PRICE", 1),
}


def _put_pay(draft: ParsedDraft, amount: float | None, currency: str | None, interval: str | None, path: str,
             upper: float | None = None) -> None:
    """A structured salary: amount, ISO currency and an interval word (HOUR, DAY, PIECE, PROJECT ...)."""
    unit = interval or ""
    known = INTERVALS.get(re.sub(r"[\s-]+", "_", unit).upper())
    if amount is None or amount <= 0 or known is None:
        draft.skip(path, "Pay needs a positive amount and a unit (hour, piece or project).",
                   f"{amount} {currency or ''} {unit}".strip())
        return
    payment_type, hours = known
    guess = f"Pay per {unit.lower()} was converted to an hourly rate assuming {hours} hours." if hours > 1 else None
    usd, warning = vocab.to_usd(amount / hours, vocab.currency_code(currency))
    if warning:
        draft.warnings.append(warning)
    draft.put("paymentType", payment_type)
    _put_checked(draft, catalog.RATE_KEYS[payment_type], round(usd, 4), path, guess)
    if upper and upper > amount:
        upper_usd, _ = vocab.to_usd(upper / hours, vocab.currency_code(currency))
        draft.put("budgetRange", f"{usd:g}-{round(upper_usd, 4):g} USD")


def _put_countries(draft: ParsedDraft, values: list, path: str) -> None:
    codes = []
    for value in values:
        code = vocab.country_code(value) if isinstance(value, str) else None
        if code:
            codes.append(code)
        else:
            draft.skip(path, "Not a country this sandbox knows.", value)
    if codes:
        draft.put("countries", list(dict.fromkeys(codes + (draft.fields.get("countries") or []))))


def _finish(draft: ParsedDraft, extra_text: str = "") -> ParsedDraft:
    """Fill fields the source did not set from its description (the parser's guesses stay flagged)."""
    text = "\n".join(part for part in (draft.fields.get("jobDescription", ""), extra_text) if part)
    parsed = parse_description(text)
    guesses = {entry["field"]: entry for entry in parsed.low_confidence}
    rate_key = catalog.rate_key(draft.fields.get("paymentType") or parsed.fields.get("paymentType"))
    for key, value in parsed.fields.items():
        is_other_rate = key in catalog.RATE_KEYS.values() and key != rate_key
        if key in draft.fields or key == "jobDescription" or is_other_rate:
            continue
        draft.put(key, value, (guesses.get(key) or {}).get("reason"))
    draft.warnings += [warning for warning in parsed.warnings if warning not in draft.warnings]
    draft.unmapped = draft.unmapped[:MAX_UNMAPPED]
    return draft


def _load_json(payload: Any, name: str) -> Any:
    if isinstance(payload, (bytes, bytearray)):
        payload = payload.decode("utf-8", errors="replace")
    if not isinstance(payload, str):
        return payload
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise SourceFormatError(f"The {name} payload is longer than {MAX_PAYLOAD_CHARS:,} characters.")
    try:
        return json.loads(payload)
    except json.JSONDecodeError as exc:
        raise SourceFormatError(f"The {name} payload is not valid JSON ({exc.msg} at position {exc.pos}).") from None
    except ValueError:  # e.g. an integer literal past Python's digit limit
        raise SourceFormatError(f"The {name} payload is not valid JSON.") from None


# ---- OpenTrain canonical job --------------------------------------------------------------------------------

CANONICAL_TEXT = {"title": "jobTitle", "description": "jobDescription"}


def _canonical_rate(draft: ParsedDraft, job: dict) -> None:
    if "rateAmount" not in job:
        return
    amount, payment_type = _number(job["rateAmount"]), draft.fields.get("paymentType")
    if payment_type is None:
        draft.skip("job.rateAmount", "A rate needs a paymentType to say per hour, per label or fixed.",
                   job["rateAmount"])
    elif amount is None:
        draft.skip("job.rateAmount", "The rate is not a number.", job["rateAmount"])
    else:
        usd, warning = vocab.to_usd(amount, vocab.currency_code(job.get("currency")))
        if warning:
            draft.warnings.append(warning)
        _put_checked(draft, catalog.RATE_KEYS[payment_type], usd, "job.rateAmount")


def _experience_value(value: Any) -> Any:
    """The enum value for an exact value or words like "senior"; anything else passes on to fail validation."""
    exact = _enum_value("experienceLevel", value, {})
    if exact or not isinstance(value, str):
        return exact or value
    found = experience_level(value)
    return found[0] if found else value


def _canonical_field(draft: ParsedDraft, key: str, value: Any) -> None:
    path = f"job.{key}"
    if key in CANONICAL_TEXT:
        _put_checked(draft, CANONICAL_TEXT[key], value, path)
    elif key == "paymentType":
        payment_type = _enum_value("paymentType", value, PAYMENT_ALIASES)
        _put_checked(draft, "paymentType", payment_type or value, path)
    elif key == "experienceLevel":
        _put_checked(draft, "experienceLevel", _experience_value(value), path)
    elif key == "languages":
        _put_checked(draft, "languages", [vocab.canonical_language(v) if isinstance(v, str) else v
                                          for v in _as_list(value)], path)
    elif key == "labelTypes":
        _put_checked(draft, "labelTypes", [vocab.canonical_label(v) if isinstance(v, str) else v
                                           for v in _as_list(value)], path)
    elif key == "countries":
        _put_countries(draft, _as_list(value), path)
    elif key == "tools":
        _put_checked(draft, "labelingSoftware", ", ".join(str(tool) for tool in _as_list(value)), path)
    elif key in catalog.SPECS:
        _put_checked(draft, key, value, path)
    elif key not in ("rateAmount", "currency"):
        draft.skip(path, NOT_A_FIELD, value)


def import_canonical(payload: Any) -> ParsedDraft:
    job = _load_json(payload, "opentrain_canonical")
    if not isinstance(job, dict):
        raise SourceFormatError("The canonical job must be a JSON object.")
    if not any(isinstance(job.get(key), str) and job[key].strip() for key in CANONICAL_TEXT):
        raise SourceFormatError("The canonical job needs a title or a description.")
    draft = ParsedDraft(fields={})
    ordered = sorted(job, key=lambda key: key != "paymentType")  # the rate needs the payment type first
    for key in ordered:
        _canonical_field(draft, key, job[key])
    _canonical_rate(draft, job)
    return _finish(draft)


# ---- schema.org JobPosting (JSON-LD) ------------------------------------------------------------------------

JSONLD_IGNORED = {"@context", "@type", "@id", "datePosted", "hiringOrganization", "identifier", "url", "directApply",
                  "jobLocationType", "image", "sameAs"}
JSONLD_TEXT = {"skills", "qualifications", "responsibilities", "educationRequirements", "jobBenefits",
               "incentiveCompensation", "workHours"}


def _job_posting(data: Any) -> dict:
    nodes = data if isinstance(data, list) else (data.get("@graph") or [data]) if isinstance(data, dict) else []
    for node in nodes:
        if isinstance(node, dict) and "JobPosting" in _as_list(node.get("@type")):
            return node
    raise SourceFormatError("Expected a schema.org JobPosting (an object whose @type is JobPosting).")


def _name_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("addressCountry", "name", "address"):
            if key in value:
                return _name_of(value[key])
    return None


def _jsonld_salary(draft: ParsedDraft, salary: Any) -> None:
    if not isinstance(salary, dict):
        draft.skip("jsonLd.baseSalary", "A salary needs a MonetaryAmount with a unitText.", salary)
        return
    quantity = salary.get("value")
    quantity = quantity if isinstance(quantity, dict) else {"value": quantity}
    amount = _number(quantity.get("value")) or _number(quantity.get("minValue"))
    upper = _number(quantity.get("maxValue"))
    unit = quantity.get("unitText") or salary.get("unitText")
    _put_pay(draft, amount, salary.get("currency"), unit if isinstance(unit, str) else None,
             "jsonLd.baseSalary", upper)


def _jsonld_experience(draft: ParsedDraft, value: Any) -> None:
    months = _number(value.get("monthsOfExperience")) if isinstance(value, dict) else None
    if months is not None:
        level = "EXPERT" if months >= 36 else "INTERMEDIATE" if months >= 12 else "ENTRY_LEVEL"
        draft.put("experienceLevel", level, f"Mapped from {months:g} months of experience.")
    elif isinstance(value, str) and (found := experience_level(value)):
        level, guess = found
        draft.put("experienceLevel", level, guess)
    else:
        draft.skip("jsonLd.experienceRequirements", "No experience level could be read.", value)


def _jsonld_field(draft: ParsedDraft, key: str, value: Any, extra: list[str]) -> None:
    path = f"jsonLd.{key}"
    if key == "title":
        _put_checked(draft, "jobTitle", strip_html(value) if isinstance(value, str) else value, path)
    elif key == "description":
        _put_checked(draft, "jobDescription", strip_html(value) if isinstance(value, str) else value, path)
    elif key == "baseSalary":
        _jsonld_salary(draft, value)
    elif key in ("applicantLocationRequirements", "jobLocation"):
        _put_countries(draft, [_name_of(item) for item in _as_list(value)], path)
    elif key == "experienceRequirements":
        _jsonld_experience(draft, value)
    elif key == "totalJobOpenings":
        _put_checked(draft, "headcount", _number(value), path)
    elif key == "employmentType":
        kinds = [str(kind).replace("_", "-").lower() for kind in _as_list(value)]
        _put_checked(draft, "workloadDesc", ", ".join(kinds), path)
    elif key in ("industry", "occupationalCategory") and "subjectMatter" not in draft.fields:
        _put_checked(draft, "subjectMatter", _name_of(value) or value, path)
    elif key in JSONLD_TEXT and isinstance(value, str):
        extra.append(strip_html(value))
    elif key not in JSONLD_IGNORED:
        draft.skip(path, NOT_A_FIELD, value)


def import_schema_org(payload: Any) -> ParsedDraft:
    posting = _job_posting(_load_json(payload, "schema_org_job_posting"))
    draft = ParsedDraft(fields={})
    extra: list[str] = []
    for key, value in posting.items():
        _jsonld_field(draft, key, value, extra)
    if "jobTitle" not in draft.fields and "jobDescription" not in draft.fields:
        raise SourceFormatError("The JobPosting needs a title or a description.")
    return _finish(draft, "\n".join(extra))


# ---- XML sources --------------------------------------------------------------------------------------------

def _parse_xml(payload: Any) -> ET.Element:
    if isinstance(payload, (bytes, bytearray)):
        payload = payload.decode("utf-8", errors="replace")
    if not isinstance(payload, str) or not payload.strip():
        raise SourceFormatError("The xml payload must be a non-empty XML string.")
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise SourceFormatError(f"The xml payload is longer than {MAX_PAYLOAD_CHARS:,} characters.")
    if re.search(r"<!(?:DOCTYPE|ENTITY)", payload, re.IGNORECASE):
        raise SourceFormatError("XML with a DOCTYPE or entity declarations is refused.")
    try:
        return ET.fromstring(payload.strip())
    except ET.ParseError as exc:
        raise SourceFormatError(f"The XML is not well-formed ({exc}).") from None


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(element: ET.Element) -> str:
    return "".join(element.itertext()).strip()


def _leaves(element: ET.Element, path: str = "") -> list[tuple[str, ET.Element]]:
    """Every element without child elements, with its slash path from the root."""
    here = f"{path}/{_local(element.tag)}" if path else _local(element.tag)
    children = list(element)
    if not children:
        return [(here, element)]
    return [leaf for child in children for leaf in _leaves(child, here)]


def _salary_text(draft: ParsedDraft, text: str, path: str) -> None:
    """A free-text salary ("$18 per hour"), read by the description parser's pay rules."""
    parsed = parse_description(text)
    rate_key = catalog.rate_key(parsed.fields.get("paymentType"))
    if not rate_key or rate_key not in parsed.fields:
        draft.skip(path, "The salary does not say per hour, per label or fixed.", text)
        return
    guesses = {entry["field"]: entry["reason"] for entry in parsed.low_confidence}
    for key in ("paymentType", rate_key, "budgetRange"):
        if key in parsed.fields:
            draft.put(key, parsed.fields[key], guesses.get(key))
    draft.warnings += parsed.warnings


def _experience_text(draft: ParsedDraft, text: str, path: str) -> None:
    found = experience_level(text)
    if found:
        draft.put("experienceLevel", found[0], found[1])
    else:
        draft.skip(path, "No experience level could be read.", text)


INDEED_FIELDS: dict[str, Callable[[ParsedDraft, str, str], None]] = {
    "title": lambda draft, text, path: _put_checked(draft, "jobTitle", text, path),
    "description": lambda draft, text, path: _put_checked(draft, "jobDescription", strip_html(text), path),
    "salary": _salary_text,
    "country": lambda draft, text, path: _put_countries(draft, [text], path),
    "jobtype": lambda draft, text, path: _put_checked(draft, "workloadDesc", text.lower(), path),
    "category": lambda draft, text, path: _put_checked(draft, "subjectMatter", text, path),
    "experience": _experience_text,
}


def import_indeed(payload: Any) -> ParsedDraft:
    root = _parse_xml(payload)
    job = root if _local(root.tag).lower() == "job" else next(
        (element for element in root.iter() if _local(element.tag).lower() == "job"), None)
    if job is None:
        raise SourceFormatError("Expected an Indeed <job> element.")
    draft = ParsedDraft(fields={})
    for path, element in _leaves(job):
        name, text = _local(element.tag).lower(), _text(element)
        if not text:
            continue
        reader = INDEED_FIELDS.get(name)
        if reader:
            reader(draft, text, path)
        else:
            draft.skip(path, NOT_A_FIELD, text)
    if "jobTitle" not in draft.fields and "jobDescription" not in draft.fields:
        raise SourceFormatError("The Indeed job needs a <title> or a <description>.")
    return _finish(draft)


HR_TITLE = {"PositionTitle", "JobTitle"}
HR_DESCRIPTION = {"Content", "Value", "PositionDescription", "Description", "FormattedPositionDescription",
                  "PositionFormattedDescription"}
HR_HEADCOUNT = {"NumberToFill", "PositionOpeningCount", "TotalOpenings"}
HR_AMOUNT = {"BasePayAmountMin", "BasePayAmount", "MinimumAmount", "RemunerationAmount", "Amount"}
HR_UPPER = {"BasePayAmountMax", "MaximumAmount"}
HR_INTERVAL = {"BasePayInterval", "IntervalCode", "RemunerationIntervalCode", "PayInterval", "RemunerationTypeCode"}
HR_QUALIFICATIONS = {"QualificationsSummary", "Qualification", "PositionQualifications", "Competency",
                     "ExperienceSummary", "Requirements", "LanguageCode", "Language", "CompetencyName"}


def _hr_pay(draft: ParsedDraft, by_name: dict[str, list[ET.Element]]) -> set[str]:
    amount_element = next((by_name[name][0] for name in HR_AMOUNT if name in by_name), None)
    if amount_element is None:
        return set()
    upper_element = next((by_name[name][0] for name in HR_UPPER if name in by_name), None)
    interval_element = next((by_name[name][0] for name in HR_INTERVAL if name in by_name), None)
    interval = _text(interval_element) if interval_element is not None else amount_element.get("interval")
    _put_pay(draft, _number(_text(amount_element)), amount_element.get("currencyID"), interval,
             _local(amount_element.tag), _number(_text(upper_element)) if upper_element is not None else None)
    return HR_AMOUNT | HR_UPPER | HR_INTERVAL


def import_hr_xml(payload: Any) -> ParsedDraft:
    root = _parse_xml(payload)
    if _local(root.tag) != "PositionOpening":
        raise SourceFormatError(f"Expected an HR-XML <PositionOpening> root, got <{_local(root.tag)}>.")
    draft = ParsedDraft(fields={})
    extra: list[str] = []
    by_name: dict[str, list[ET.Element]] = {}
    for element in root.iter():
        by_name.setdefault(_local(element.tag), []).append(element)
    title = next((_text(by_name[name][0]) for name in HR_TITLE if name in by_name), "")
    description = next((_text(element) for name in HR_DESCRIPTION for element in by_name.get(name, [])
                        if _text(element)), "")
    if not title and not description:
        raise SourceFormatError("The PositionOpening needs a PositionTitle or a position description.")
    if title:
        _put_checked(draft, "jobTitle", title, "PositionTitle")
    if description:
        _put_checked(draft, "jobDescription", strip_html(description), "PositionDescription")
    codes = [_text(element) for element in by_name.get("CountryCode", [])]
    if codes:
        _put_countries(draft, codes, "CountryCode")
    headcount = next((_number(_text(by_name[name][0])) for name in HR_HEADCOUNT if name in by_name), None)
    if headcount is not None:
        _put_checked(draft, "headcount", headcount, "NumberToFill")
    handled = HR_TITLE | HR_DESCRIPTION | HR_HEADCOUNT | {"CountryCode"} | _hr_pay(draft, by_name)
    for path, element in _leaves(root):
        name, text = _local(element.tag), _text(element)
        if not text or name in handled or any(part in HR_DESCRIPTION for part in path.split("/")):
            continue
        if name in HR_QUALIFICATIONS or any(part in HR_QUALIFICATIONS for part in path.split("/")):
            extra.append(vocab.canonical_language(text) if name == "LanguageCode" else text)
        else:
            draft.skip(path, NOT_A_FIELD, text)
    return _finish(draft, "\n".join(extra))


READERS: dict[str, Callable[[Any], ParsedDraft]] = {
    "opentrain_canonical": import_canonical,
    "schema_org_job_posting": import_schema_org,
    "indeed_xml": import_indeed,
    "hr_xml": import_hr_xml,
}


def import_source(fmt: str, payload: Any) -> ParsedDraft:
    """Draft fields from a structured source; SourceFormatError says what is wrong with a bad payload."""
    reader = READERS.get(fmt)
    if reader is None:
        raise SourceFormatError(f"Unsupported source format {fmt!r}; expected one of {', '.join(READERS)}.")
    return reader(payload)
