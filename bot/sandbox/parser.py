"""Plain-English job description -> draft fields, the way OpenTrain's description-first `POST /job-drafts` does it.

Rule-based on purpose (no model): every extractor reads one kind of fact with regular expressions over the word
tables in `vocabulary`, and anything it had to guess goes to `low_confidence` with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox import catalog
from bot.sandbox import vocabulary as vocab

MAX_TITLE_CHARS = 120


@dataclass
class ParsedDraft:
    fields: dict
    low_confidence: list[dict] = field(default_factory=list)
    unmapped: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def put(self, key: str, value: Any, guess: str | None = None) -> None:
        """Set a field; `guess` says why the value is uncertain (listed in low_confidence)."""
        self.fields[key] = value
        self.low_confidence = [entry for entry in self.low_confidence if entry["field"] != key]
        if guess:
            self.low_confidence.append({"field": key, "value": value, "reason": guess})

    def skip(self, path: str, reason: str, value: Any) -> None:
        self.unmapped.append({"path": path, "reason": reason, "valuePreview": preview(value)})


def preview(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _words_number(text: str) -> int | None:
    cleaned = text.strip().lower()
    if cleaned.isascii() and cleaned.isdigit() and len(cleaned) <= 6:
        return int(cleaned)
    return vocab.NUMBER_WORDS.get(cleaned)


# ---- "Key: value" lines -------------------------------------------------------------------------------------

LABELED_LINE = re.compile(r"^[ \t]*(?:[-*•#>]+[ \t]*)?(?P<key>[A-Za-z][A-Za-z /&'()-]{0,28}?)[ \t]*:[ \t]*"
                          r"(?P<value>\S[^\n]{0,500})$", re.MULTILINE)
TEXT_KEYS: dict[str, str] = {
    "title": "jobTitle", "job title": "jobTitle", "position": "jobTitle", "role": "jobTitle",
    "domain": "subjectMatter", "subject": "subjectMatter", "subject matter": "subjectMatter",
    "industry": "subjectMatter",
    "task": "labelingOverview", "tasks": "labelingOverview", "labeling overview": "labelingOverview",
    "data": "datasetDescription", "dataset": "datasetDescription", "the data": "datasetDescription",
    "duration": "projectDuration", "project duration": "projectDuration", "timeline": "projectDuration",
    "workload": "workloadDesc", "time commitment": "workloadDesc", "commitment": "workloadDesc",
    "availability": "workloadDesc", "scope": "projectScope", "project scope": "projectScope",
    "interview": "aiInterviewRequirements", "screening": "aiInterviewRequirements",
    "visibility": "visibility", "freelancer type": "freelancerType",
}
HEADCOUNT_KEYS = {"headcount", "team size", "people", "openings", "positions", "number of annotators",
                  "annotators", "labelers", "seats"}
# Keys whose values the free-text extractors below already read, and headings that carry no field of their own.
SCANNED_KEYS = {
    "pay", "rate", "pay rate", "compensation", "salary", "price", "payment", "budget", "languages", "language",
    "countries", "country", "location", "locations", "region", "experience", "level", "experience level",
    "volume", "data volume", "quantity", "size", "label types", "labels", "labeling", "annotation", "tools", "tool",
    "software", "platform", "labeling tool", "data type", "requirements", "description", "details", "about",
    "overview", "summary", "note", "notes", "responsibilities", "qualifications", "skills", "deliverables",
    "instructions", "job", "project", "ps", "p.s", "hi", "hello", "important", "why", "bonus", "nice to have",
}


def _read_labeled_lines(text: str, draft: ParsedDraft) -> None:
    for match in LABELED_LINE.finditer(text):
        key, value = match["key"].strip().lower(), match["value"].strip()
        if key in TEXT_KEYS:
            draft.put(TEXT_KEYS[key], value[: MAX_TITLE_CHARS] if TEXT_KEYS[key] == "jobTitle" else value)
        elif key in HEADCOUNT_KEYS and (_words_number(value) or 0) >= 1:
            draft.put("headcount", _words_number(value))
        elif key in ("deadline", "due", "due date", "start date", "start"):
            draft.skip(key, f"Drafts have no {key} field; it stays in the description.", value)
        elif key not in SCANNED_KEYS and key not in HEADCOUNT_KEYS:
            draft.skip(key, f"No draft field matches '{match['key'].strip()}'; it stays in the description.", value)


# ---- headcount ----------------------------------------------------------------------------------------------

_NUMBER_WORDS = "|".join(sorted((re.escape(word) for word in vocab.NUMBER_WORDS), key=len, reverse=True))
# Up to three describing words between a number and its noun ("5 fluent Spanish speakers"); never a preposition
# or a number, so "10 annotators for images" does not read as 10 images.
_STOP = r"(?:for|and|or|with|to|per|of|in|on|from|by|at|the|a|an|each|every|who|that|will|can|are|is)\b"
_WORD = r"(?:[^\W\d_][\w'’-]*|\([^\W\d_][^()\n]{0,20}\))\s+"  # a word, or a short aside like "(Brazil)"
_ADJECTIVES = rf"(?P<words>(?:(?!{_STOP}){_WORD}){{0,3}}?)"
# Greedy for data: the noun that ends the phrase names it ("video frames" are frames, so images).
_DATA_ADJECTIVES = rf"(?P<words>(?:(?!{_STOP}){_WORD}){{0,3}})"
HEADCOUNT = re.compile(
    rf"(?<![\w$€£¥₹.,])(?P<num>[0-9]{{1,5}}|{_NUMBER_WORDS})(?:\s*(?:-|–|to)\s*(?P<upper>[0-9]{{1,5}}))?\+?\s+"
    rf"{_ADJECTIVES}(?:{vocab.WORKER_NOUNS}|positions|openings|seats)(?![\w])(?!\s+(?:per|each|in each|a)\b)",
    re.IGNORECASE)
TEAM_OF = re.compile(rf"\bteam of (?:about |around |up to |roughly )?(?P<num>[0-9]{{1,5}}|{_NUMBER_WORDS})\b",
                     re.IGNORECASE)
SINGLE_WORKER = re.compile(r"\b(?:an?)\s+(?:[a-z-]+\s+){0,2}?(?:annotator|labell?er|transcriber|rater|freelancer|"
                           r"contractor|trainer|linguist|translator|reviewer|tester|evaluator|writer|editor|"
                           r"specialist)\b(?!s)", re.IGNORECASE)


def _extract_headcount(text: str, draft: ParsedDraft) -> None:
    if "headcount" in draft.fields:
        return
    match = HEADCOUNT.search(text) or TEAM_OF.search(text)
    if match:
        count = _words_number(match["num"])
        upper = _words_number(match.groupdict().get("upper") or "")
        if upper and count and upper > count:
            draft.put("headcount", upper, f"A range of {count}-{upper} was given; using the larger number.")
        elif count and 1 <= count <= 10_000:
            draft.put("headcount", count)
    elif SINGLE_WORKER.search(text):
        draft.put("headcount", 1, "The text asks for one person without giving a number.")


# ---- data volume, unit and type -----------------------------------------------------------------------------

_COUNT = r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,3})?|[0-9]{1,3}(?:\.[0-9]{3})+(?![0-9.])|[0-9]{1,9}(?:\.[0-9]{1,3})?"
_MULTIPLIER = r"(?:\s*(?P<mult>k|m|thousand|million|mln|mio)(?![\w]))?"
_NOUN_GROUPS = "|".join(f"(?P<noun{index}>{noun.pattern})" for index, noun in enumerate(vocab.DATA_NOUNS))
COUNTED_DATA = re.compile(
    rf"(?<![\w$€£¥₹.,])(?P<num>{_COUNT}){_MULTIPLIER}\+?\s+{_DATA_ADJECTIVES}(?:{_NOUN_GROUPS})(?![\w])", re.IGNORECASE)
RECORDING_HOURS = re.compile(
    rf"(?<![\w$€£¥₹.,])(?P<num>{_COUNT}){_MULTIPLIER}\+?\s*(?P<per>hours?|hrs?|h|minutes?|mins?)\s+of\s+"
    rf"(?P<words>(?:[^\W\d_][\w'’-]*\s+){{0,3}}?(?:audio|speech|video|recordings?|footage|calls?|podcasts?|"
    rf"conversations?|interviews?|voice(?: notes)?|meetings?|lectures?|dashcam))(?![\w-])", re.IGNORECASE)
MULTIPLIERS = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000, "mln": 1_000_000,
               "mio": 1_000_000}


@dataclass
class Volume:
    amount: float
    unit: str
    data_type: str
    phrase: str  # the data as the text names it ("dashcam images"), for a generated title


def _count(raw: str, multiplier: str | None) -> float:
    if re.fullmatch(r"[0-9]{1,3}(?:\.[0-9]{3})+", raw) and not multiplier:
        raw = raw.replace(".", "")  # "1.000 imágenes": a European thousands separator
    value = float(raw.replace(",", "")) * MULTIPLIERS.get((multiplier or "").lower(), 1)
    return int(value) if value.is_integer() else value


def _counted_volume(match: re.Match) -> Volume:
    index = next(i for i in range(len(vocab.DATA_NOUNS)) if match[f"noun{i}"] is not None)
    noun = vocab.DATA_NOUNS[index]
    phrase = f"{match['words']}{match[f'noun{index}']}"
    return Volume(_count(match["num"], match["mult"]), noun.unit, noun.data_type, phrase)


def _recording_volume(match: re.Match) -> Volume:
    hours = _count(match["num"], match["mult"])
    if match["per"].lower().startswith("m"):
        hours = round(hours / 60, 2)
    words = match["words"].lower()
    data_type = next((kind for word, kind in vocab.RECORDING_MEDIA.items() if word in words), "Audio")
    phrase = match["words"] if len(match["words"].split()) > 1 else f"{match['words']} recordings"
    return Volume(hours, vocab.HOURS, data_type, phrase)


def _find_volume(text: str) -> Volume | None:
    matches = [m for m in (COUNTED_DATA.search(text), RECORDING_HOURS.search(text)) if m]
    for match in sorted(matches, key=lambda m: m.start()):
        volume = _recording_volume(match) if "per" in match.groupdict() else _counted_volume(match)
        if volume.amount > 0:
            return volume
    return None


def _extract_data(text: str, draft: ParsedDraft) -> Volume | None:
    volume = _find_volume(text)
    if volume:
        draft.put("dataVolume", volume.amount)
        draft.put("dataVolumeUnit", volume.unit)
    named_types = vocab.names_in(text, vocab.DATA_TYPE_PATTERNS)
    if volume and volume.data_type:
        draft.put("dataType", volume.data_type)
    elif named_types:
        draft.put("dataType", named_types[0])
    return volume


# ---- pay ----------------------------------------------------------------------------------------------------

_AMOUNT = r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,4})?|[0-9]{1,9}(?:[.,][0-9]{1,4})?"
_CODES = r"USD|EUR|GBP|CAD|AUD|INR|CHF|JPY"
MONEY = re.compile(
    rf"(?<![\w.,])(?P<pre>US\$|C\$|A\$|[$€£¥₹]|(?:{_CODES})(?![A-Za-z]))?\s?"
    rf"(?P<amount>{_AMOUNT})(?P<k>\s?[kK](?![\w]))?"
    rf"(?:\s?(?:-|–|to)\s?(?:US\$|[$€£¥₹])?(?P<upper>{_AMOUNT}))?"
    rf"(?:\s?(?P<post>(?:{_CODES}|dollars?|euros?|pounds?|bucks|rupees|yen)(?![A-Za-z])|[$€£¥₹]))?",
    re.IGNORECASE)
_LABEL_UNITS = r"labels?|annotations?|box(?:es)?|bboxes|polygons?|masks?|tags?"
_ITEM_UNITS = (r"images?|items?|tasks?|files?|documents?|tweets?|posts?|sentences?|words?|minutes?|mins?|clips?|"
               r"recordings?|reviews?|responses?|conversations?|pages?|transcripts?|videos?|photos?|frames?|"
               r"examples?|samples?|prompts?|rows?|records?|comparisons?|submissions?|units?|pieces?|hits?|"
               r"podcasts?|episodes?|calls?|articles?|chats?|emails?|messages?|questions?|answers?|queries?|"
               r"etiquetas?|imágenes|imagen")
_TIME_UNITS = r"hours?|hrs?|hr|h|heure|hora|stunde|day|week|month"
PER_UNIT = re.compile(
    rf"\s*(?:/\s*|per\s+|an?\s+|each\s+|for each\s+|la\s+|por\s+|pro\s+)(?:(?P<time>{_TIME_UNITS})|"
    rf"(?P<label>{_LABEL_UNITS})|(?P<item>{_ITEM_UNITS}))(?![\w])|\s*(?P<hourly>hourly|p/h|ph)(?![\w])",
    re.IGNORECASE)
FIXED_BEFORE = re.compile(r"(?:fixed[- ]price|flat[- ]fee|flat[- ]rate|lump[- ]sum|total budget|budget|in total|"
                          r"total(?: of)?|one[- ]off payment|project fee)\W{0,3}(?:of|is|:|=)?\s*"
                          r"(?:about|around|approximately|approx\.?|~|up to)?\s*$", re.IGNORECASE)
FIXED_AFTER = re.compile(r"\s*(?:\(?fixed\)?|flat|total|in total|for the (?:whole|entire|full) (?:project|job|batch|"
                         r"dataset|task))(?![\w])", re.IGNORECASE)
PAY_WORDS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"\b(?:hourly|per hour|by the hour|an hour)\b", re.IGNORECASE), "PAY_PER_HOUR"),
    (re.compile(r"\b(?:per[- ]label|per annotation|per task|per item|piece[- ]?rate)\b", re.IGNORECASE),
     "PAY_PER_LABEL"),
    (re.compile(r"\b(?:fixed[- ]price|flat fee|lump sum)\b", re.IGNORECASE), "FIXED_PRICE"),
]
HOURS_PER = {"day": 8, "week": 40, "month": 160}


@dataclass
class Pay:
    payment_type: str
    amount: float
    currency: str
    upper: float | None
    guess: str | None
    phrase: str


def _money_number(raw: str, thousands: bool = False) -> float | None:
    if "," in raw and "." not in raw and len(raw.rsplit(",", 1)[1]) != 3:
        raw = raw.replace(",", ".")  # "18,50 €": a decimal comma
    try:
        value = float(raw.replace(",", "")) * (1000 if thousands else 1)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def _pay_from_match(text: str, match: re.Match) -> Pay | None:
    currency_word = match["pre"] or match["post"]
    amount = _money_number(match["amount"], bool(match["k"]))
    upper = _money_number(match["upper"], bool(match["k"])) if match["upper"] else None
    if not amount or amount <= 0:
        return None
    currency = vocab.currency_code(currency_word)
    unit = PER_UNIT.match(text, match.end())
    phrase = text[match.start(): unit.end() if unit else match.end()].strip()
    if unit:
        return _unit_pay(unit, amount, currency, upper, phrase)
    if not currency_word:
        return None
    before = text[max(0, match.start() - 40): match.start()]
    if FIXED_BEFORE.search(before) or FIXED_AFTER.match(text, match.end()):
        guess = "A budget was read as a fixed price." if "budget" in before.lower() else None
        return Pay("FIXED_PRICE", amount, currency, upper, guess, phrase)
    return None


def _unit_pay(unit: re.Match, amount: float, currency: str, upper: float | None, phrase: str) -> Pay:
    time_unit = (unit["time"] or "").lower()
    if unit["hourly"] or (time_unit and time_unit[0] in "hs"):
        return Pay("PAY_PER_HOUR", amount, currency, upper, None, phrase)
    if time_unit:
        hours = HOURS_PER[time_unit]
        return Pay("PAY_PER_HOUR", round(amount / hours, 2), currency, upper and round(upper / hours, 2),
                   f"Pay per {time_unit} was converted to an hourly rate assuming {hours} hours.", phrase)
    guess = None if unit["label"] else f"Pay per {unit['item'].lower()} was read as a per-label rate."
    return Pay("PAY_PER_LABEL", amount, currency, upper, guess, phrase)


def _find_pay(text: str) -> tuple[list[Pay], list[str]]:
    """Pay amounts with a known unit, and currency amounts whose unit the text does not say."""
    pays, unitless = [], []
    for match in MONEY.finditer(text):
        if not match["amount"]:
            continue
        pay = _pay_from_match(text, match)
        if pay:
            pays.append(pay)
        elif match["pre"] or match["post"]:
            unitless.append(match[0].strip())
    return pays, unitless


def _extract_pay(text: str, draft: ParsedDraft) -> None:
    pays, unitless = _find_pay(text)
    if not pays:
        payment_type = next((kind for pattern, kind in PAY_WORDS if pattern.search(text)), None)
        if payment_type:
            draft.put("paymentType", payment_type)
        if unitless:
            draft.skip("pay", "An amount without a unit (per hour, per label or fixed price); say which.",
                       unitless[0])
        return
    pay = pays[0]
    amount, warning = vocab.to_usd(pay.amount, pay.currency)
    guess = pay.guess
    if pay.upper and pay.upper > pay.amount:
        upper, _ = vocab.to_usd(pay.upper, pay.currency)
        draft.put("budgetRange", f"{amount:g}-{upper:g} USD" + _range_suffix(pay.payment_type))
        guess = guess or f"A range ({pay.phrase}) was given; using the lower end."
    draft.put("paymentType", pay.payment_type)
    draft.put(catalog.RATE_KEYS[pay.payment_type], amount, guess)
    if warning:
        draft.warnings.append(warning)
    if len({(p.payment_type, p.amount) for p in pays}) > 1:
        draft.warnings.append(f"Several pay amounts were mentioned; used the first one ({pay.phrase}).")


def _range_suffix(payment_type: str) -> str:
    return {"PAY_PER_HOUR": " per hour", "PAY_PER_LABEL": " per label"}.get(payment_type, "")


# ---- people: languages, countries, experience ---------------------------------------------------------------

LOCATION_CLAUSE = re.compile(
    r"(?:based in|located in|living in|residing in|residents? of|citizens? of|must be in|only in|"
    r"open to (?:people|applicants|workers|candidates) (?:in|from)|countries|country|locations?|regions?)"
    r"\s*:?\s*(?:the\s+)?(?P<list>[^.;\n!?]{1,120})", re.IGNORECASE)
COUNTRY_BASED = re.compile(r"\b(?P<code>[A-Z]{2})-based\b")
LIST_SEPARATORS = re.compile(r"\s*(?:,|/|\bor\b|\band\b|&|\+)\s*", re.IGNORECASE)


def _extract_languages(text: str, draft: ParsedDraft) -> None:
    languages = vocab.names_in(text, vocab.LANGUAGE_PATTERNS)
    if languages:
        draft.put("languages", languages)


def _clause_countries(text: str) -> list[str]:
    codes: list[str] = [match["code"] for match in COUNTRY_BASED.finditer(text)
                        if match["code"] in vocab.COUNTRIES]
    for clause in LOCATION_CLAUSE.finditer(text):
        for part in LIST_SEPARATORS.split(clause["list"]):
            code = vocab.country_code(re.sub(r"^(?:the|in|from)\s+", "", part.strip(" ()"), flags=re.IGNORECASE))
            if code:
                codes.append(code)
    return list(dict.fromkeys(codes))


def _extract_countries(text: str, draft: ParsedDraft) -> None:
    codes = _clause_countries(text)
    if codes:
        draft.put("countries", codes)
        return
    named = vocab.names_in(text, vocab.COUNTRY_PATTERNS)
    if named:
        draft.put("countries", named, "Countries named in the text, not clearly as a location requirement.")


EXPERIENCE_RULES: list[tuple[re.Pattern, str, str | None]] = [
    (re.compile(r"\b(?:any (?:experience )?level|all (?:experience |skill )?levels|any experience|"
                r"no (?:minimum|specific) (?:experience|level))\b", re.IGNORECASE), "ANY_EXPERIENCE_LEVEL", None),
    (re.compile(r"\b(?:beginners?(?: are)?(?: welcome)?|no (?:prior |previous )?experience|entry[- ]level|"
                r"newcomers|training (?:is )?provided|we will train|students welcome|principiantes|débutants)\b",
                re.IGNORECASE), "ENTRY_LEVEL", None),
    (re.compile(r"\b(?:intermediate|mid[- ]level|some experience|moderate experience)\b", re.IGNORECASE),
     "INTERMEDIATE", None),
    (re.compile(r"\b(?:experts?|expertise|senior|highly experienced|phds?|board[- ]certified|"
                r"professional (?:linguists|translators|annotators|transcribers))\b", re.IGNORECASE), "EXPERT", None),
]
YEARS_OF_EXPERIENCE = re.compile(r"\b(?P<years>[0-9]{1,2})\+?\s*(?:years?|yrs?)(?:\s+of)?\s+(?:[a-z-]+\s+){0,3}?"
                                 r"experience\b", re.IGNORECASE)
EXPERIENCED = re.compile(r"\b(?:experienced|with experience|prior experience|previous experience)\b",
                         re.IGNORECASE)


def experience_level(text: str) -> tuple[str, str | None] | None:
    """(level, guess reason or None) that the text asks for, else None."""
    for pattern, level, guess in EXPERIENCE_RULES:
        if pattern.search(text):
            return level, guess
    years = YEARS_OF_EXPERIENCE.search(text)
    if years:
        level = "EXPERT" if int(years["years"]) >= 3 else "INTERMEDIATE"
        return level, f"Read from '{years[0]}'."
    if EXPERIENCED.search(text):
        return "INTERMEDIATE", "'Experienced' was read as intermediate; say expert if that is meant."
    return None


def _extract_experience(text: str, draft: ParsedDraft) -> None:
    found = experience_level(text)
    if found:
        draft.put("experienceLevel", found[0], found[1])


# ---- work: label types, tools, schedule, deadline -----------------------------------------------------------

WORKLOAD = re.compile(r"\b(?P<hours>[0-9]{1,2}(?:\s*-\s*[0-9]{1,2})?)\s*(?:hours?|hrs?|h)\s*(?:per|a|/)\s*"
                      r"(?P<period>week|wk|day)\b|\b(?P<kind>part[- ]time|full[- ]time)\b", re.IGNORECASE)
DURATION = re.compile(rf"\b(?:for|over|lasting|runs?(?: for)?|duration(?: of)?:?)\s+(?:about\s+|around\s+|roughly\s+)?"
                      rf"(?P<n>[0-9]{{1,3}}|{_NUMBER_WORDS})\s+(?P<unit>days?|weeks?|months?)\b", re.IGNORECASE)
WITHIN = re.compile(r"\bwithin\s+(?:the next\s+)?(?:[0-9]{1,3}|a|one|two|three|four|six)\s+(?:days?|weeks?|months?)\b",
                    re.IGNORECASE)
DEADLINE = re.compile(r"\b(?P<key>deadline|due (?:by|on|date))\b\s*(?:is|of|:)?\s*(?P<value>[^.\n;!?]{1,60})",
                      re.IGNORECASE)


def _extract_label_types(text: str, draft: ParsedDraft) -> None:
    labels = vocab.names_in(text, vocab.LABEL_PATTERNS)
    if labels:
        draft.put("labelTypes", labels)
    if "dataType" not in draft.fields:
        media = [vocab.LABELS_BY_NAME[label].media for label in labels if vocab.LABELS_BY_NAME[label].media]
        if media:
            draft.put("dataType", media[0], f"Implied by the label type {labels[0]}.")


def _extract_work(text: str, draft: ParsedDraft) -> None:
    tools = vocab.names_in(text, vocab.SOFTWARE_PATTERNS)
    if tools and "labelingSoftware" not in draft.fields:
        draft.put("labelingSoftware", ", ".join(tools))
    workload = WORKLOAD.search(text)
    if workload and "workloadDesc" not in draft.fields:
        draft.put("workloadDesc", workload["kind"].lower().replace(" ", "-") if workload["kind"] else
                  f"{workload['hours']} hours per {'week' if workload['period'].lower().startswith('w') else 'day'}")
    duration = DURATION.search(text)
    if duration and "projectDuration" not in draft.fields:
        draft.put("projectDuration", f"{duration['n']} {duration['unit'].lower()}")
    within = WITHIN.search(text)
    if within:
        draft.put("timeRequirement", within[0][0].upper() + within[0][1:])
    deadline = DEADLINE.search(text)
    if deadline and not any(entry["path"] in ("deadline", "due", "due date") for entry in draft.unmapped):
        draft.skip("deadline", "Drafts have no deadline field; it stays in the description.", deadline["value"])


# ---- title --------------------------------------------------------------------------------------------------

def _title_case(phrase: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in phrase.split())


def _first_line_title(text: str) -> str | None:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    first = lines[0].lstrip("#*> ").strip().rstrip("*").strip()
    if 3 <= len(first) <= 80 and len(first.split()) <= 10 and first[-1] not in ".!?:,;" and not MONEY.search(first):
        return first
    return None


def _generated_title(draft: ParsedDraft, volume: Volume | None) -> str:
    labels = draft.fields.get("labelTypes") or []
    label = vocab.LABELS_BY_NAME.get(labels[0]) if labels else None
    data_type = draft.fields.get("dataType")
    task = label.title if label else f"{data_type} Annotation" if data_type else "Data Annotation"
    languages = draft.fields.get("languages") or []
    if label and label.media in ("Text", "Audio") and len(languages) == 1 and languages[0] != "English":
        task = f"{languages[0]} {task}"
    subject = _title_case(volume.phrase) if volume else None
    if subject and subject.lower().rstrip("s") in task.lower():
        subject = None  # "Image Annotation — Images" says nothing twice
    return f"{task} — {subject}" if subject else task


def _extract_title(text: str, draft: ParsedDraft, volume: Volume | None) -> None:
    if "jobTitle" in draft.fields:
        return
    first_line = _first_line_title(text)
    if first_line:
        draft.put("jobTitle", first_line[:MAX_TITLE_CHARS], "Taken from the first line of the description.")
        return
    title = _generated_title(draft, volume)[:MAX_TITLE_CHARS]
    draft.put("jobTitle", title, "Generated from the description; no title was given.")


# ---- entry point --------------------------------------------------------------------------------------------

def parse_description(text: object) -> ParsedDraft:
    """Draft fields read from a plain-English job description; never raises on any string (anything else is read
    as its str())."""
    draft = ParsedDraft(fields={})
    text = (text if isinstance(text, str) else str(text)).replace("\r\n", "\n").strip()
    if not text:
        return draft
    draft.put("jobDescription", text)
    _read_labeled_lines(text, draft)
    _extract_headcount(text, draft)
    volume = _extract_data(text, draft)
    _extract_label_types(text, draft)
    _extract_pay(text, draft)
    _extract_languages(text, draft)
    _extract_countries(text, draft)
    _extract_experience(text, draft)
    _extract_work(text, draft)
    _extract_title(text, draft, volume)
    return draft
