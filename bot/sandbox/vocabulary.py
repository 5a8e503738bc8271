"""Word tables the draft parser and the importers share: languages, countries, label types, data nouns, tools,
currencies and number words, plus a matcher that finds table terms in free text."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Fixed sandbox exchange rates (USD per unit of currency). Drafts store USD; real rates do not matter to a
# simulator, stable ones make tests and demos repeatable.
USD_PER: dict[str, float] = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CAD": 0.73, "AUD": 0.66, "INR": 0.012,
                             "JPY": 0.0067, "CHF": 1.12}
CURRENCY_WORDS: dict[str, str] = {
    "$": "USD", "us$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "bucks": "USD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP",
    "c$": "CAD", "cad": "CAD", "a$": "AUD", "aud": "AUD", "₹": "INR", "inr": "INR", "rs": "INR", "rupees": "INR",
    "¥": "JPY", "jpy": "JPY", "yen": "JPY", "chf": "CHF",
}

NUMBER_WORDS: dict[str, int] = {
    "one": 1, "a single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a dozen": 12, "dozen": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "a hundred": 100, "hundred": 100,
    # French / Spanish / German, so short non-English requests still give a headcount.
    "deux": 2, "trois": 3, "cinq": 5, "dix": 10, "dos": 2, "tres": 3, "cinco": 5, "diez": 10,
    "zwei": 2, "drei": 3, "fünf": 5, "zehn": 10,
}

# People nouns that make "<number> ... <noun>" a headcount (English plus a few common French/Spanish/German ones).
WORKER_NOUNS = (r"annotators?|labell?ers?|transcribers?|transcriptionists?|raters?|workers?|people|persons?|"
                r"freelancers?|contractors?|trainers?|linguists?|speakers?|reviewers?|testers?|evaluators?|"
                r"taggers?|translators?|experts?|specialists?|writers?|editors?|moderators?|native speakers?|"
                r"individuals?|candidates?|students?|nurses?|doctors?|radiologists?|lawyers?|engineers?|"
                r"developers?|coders?|annotateurs?|annotatrices?|anotadores?|etiquetadores?|personas?|"
                r"Annotatoren|Annotatorinnen|Personen|Mitarbeiter")


@dataclass(frozen=True)
class DataNoun:
    pattern: str
    unit: str
    data_type: str


FILES, WORDS, HOURS = "NUMBER_OF_FILES", "NUMBER_OF_WORDS", "HOURS_OF_RECORDING_AUDIO_VIDEO"
DATA_NOUNS: list[DataNoun] = [
    DataNoun(r"point[- ]clouds?|lidar (?:scans|frames|sweeps)|lidar", FILES, "LiDAR"),
    DataNoun(r"images?|photos?|photographs?|pictures?|frames|screenshots?|x-rays?|scans|imágenes|Bilder", FILES,
             "Image"),
    DataNoun(r"videos?|video clips|clips|vidéos", FILES, "Video"),
    DataNoun(r"audio (?:files|clips|recordings|samples)|recordings|utterances|voice notes|calls|podcasts", FILES,
             "Audio"),
    DataNoun(r"pdfs?|documents|receipts|invoices|forms|contracts|pages", FILES, "Document"),
    DataNoun(r"words|tokens|palabras|mots|Wörter", WORDS, "Text"),
    DataNoun(r"tweets|posts|comments|reviews|sentences|paragraphs|articles|emails|messages|chats|conversations|"
             r"dialogues|dialogs|transcripts|prompts|responses|queries|questions|texts|text snippets|"
             r"product listings|listings|tickets|records|rows|items|samples|files|tasks", FILES, "Text"),
]
# Media words after "N hours of ..." (the data type of the recording).
RECORDING_MEDIA: dict[str, str] = {"video": "Video", "footage": "Video", "dashcam": "Video"}

# Data type keywords used when no counted data noun names it.
DATA_TYPE_WORDS: dict[str, str] = {
    "LiDAR": r"lidar|point[- ]clouds?",
    "Video": r"videos?|footage|video clips?",
    "Audio": r"audio|speech|recordings?|podcasts?|phone calls",
    "Image": r"images?|photos?|pictures?|imagery|x-rays?|dashcam",
    "Document": r"pdfs?|scanned documents|invoices|receipts",
    "Text": r"text|tweets|posts|articles|sentences|documents|chat logs|conversations|prompts|responses",
}


@dataclass(frozen=True)
class LabelType:
    name: str
    pattern: str
    title: str  # how a generated job title names the task
    media: str | None = None  # data type the label implies, when the text does not say


LABEL_TYPES: list[LabelType] = [
    LabelType("3D cuboid", r"3d (?:bounding )?(?:boxes|box|cuboids?)|cuboids?", "3D Cuboid Annotation", "LiDAR"),
    LabelType("Bounding box", r"bounding[- ]?box(?:es)?|bbox(?:es)?|2d box(?:es)?|draw(?:ing)? boxes",
              "Bounding Box Annotation", "Image"),
    LabelType("Polygon", r"polygons?", "Polygon Annotation", "Image"),
    LabelType("Polyline", r"polylines?|lane lines", "Polyline Annotation", "Image"),
    LabelType("Segmentation", r"(?:semantic |instance |panoptic )?segmentation|pixel[- ]level masks?|masks",
              "Segmentation", "Image"),
    LabelType("Keypoints", r"key ?points?|landmarks|pose estimation", "Keypoint Annotation", "Image"),
    LabelType("Object tracking", r"object tracking|track(?:ing)? objects", "Object Tracking", "Video"),
    LabelType("Speaker diarization", r"speaker diarization|diarization|diarisation", "Speaker Diarization", "Audio"),
    LabelType("Transcription", r"transcri(?:ption|be|bing|bers?)|transcripción|transcrire", "Transcription", "Audio"),
    LabelType("Translation", r"translat(?:ion|e|ing|ors?)|traducción", "Translation", "Text"),
    LabelType("Sentiment analysis", r"sentiment", "Sentiment Labeling", "Text"),
    LabelType("Named entity recognition", r"named[- ]entit(?:y|ies)(?: recognition)?|entity recognition|\bNER\b",
              "Named Entity Annotation", "Text"),
    LabelType("Intent classification", r"intent (?:classification|labell?ing|detection)|intents",
              "Intent Classification", "Text"),
    LabelType("RLHF ranking", r"rlhf|rank(?:ing)? (?:model |ai |llm |chatbot )?(?:responses|outputs|answers|"
              r"completions)|preference (?:ranking|data)|compare (?:model |ai )?responses", "RLHF Response Ranking",
              "Text"),
    LabelType("Red teaming", r"red[- ]teaming", "Red Teaming", "Text"),
    LabelType("Prompt writing", r"(?:write|writing) prompts|prompt writing", "Prompt Writing", "Text"),
    LabelType("Summarization", r"summari[sz](?:ation|e|ing)", "Summarization", "Text"),
    LabelType("OCR", r"\bOCR\b|text extraction", "OCR Annotation", "Document"),
    LabelType("Content moderation", r"content moderation|toxicity|hate speech", "Content Moderation", "Text"),
    LabelType("Classification", r"classif(?:y|ication|ying)|categori[sz](?:e|ation|ing)|tagging", "Classification",
              None),
]

LANGUAGES: dict[str, str] = {
    "English": r"english|inglés|anglais|Englisch",
    "Spanish": r"spanish|español|espanol|castellano|espagnol|Spanisch",
    "French": r"french|français|francais|francés|Französisch",
    "German": r"german|deutsch|alemán|allemand",
    "Italian": r"italian|italiano",
    "Portuguese": r"portuguese|português|portugues",
    "Dutch": r"dutch|nederlands",
    "Russian": r"russian|русский",
    "Ukrainian": r"ukrainian",
    "Polish": r"Polish|polski",  # capitalised only: "polish the transcripts" is a verb
    "Chinese": r"chinese|mandarin|中文",
    "Cantonese": r"cantonese",
    "Japanese": r"japanese|日本語",
    "Korean": r"korean|한국어",
    "Arabic": r"arabic|العربية",
    "Hebrew": r"hebrew",
    "Hindi": r"hindi",
    "Bengali": r"bengali|bangla",
    "Urdu": r"urdu",
    "Tamil": r"tamil",
    "Telugu": r"telugu",
    "Punjabi": r"punjabi",
    "Turkish": r"turkish|türkçe",
    "Persian": r"persian|farsi",
    "Greek": r"greek",
    "Swedish": r"swedish|svenska",
    "Norwegian": r"norwegian",
    "Danish": r"danish",
    "Finnish": r"finnish",
    "Czech": r"czech",
    "Romanian": r"romanian",
    "Hungarian": r"hungarian",
    "Vietnamese": r"vietnamese",
    "Thai": r"thai",
    "Indonesian": r"indonesian|bahasa indonesia",
    "Malay": r"malay",
    "Tagalog": r"tagalog|filipino",
    "Swahili": r"swahili|kiswahili",
    "Yoruba": r"yoruba",
    "Hausa": r"hausa",
    "Amharic": r"amharic",
}

COUNTRIES: dict[str, str] = {
    "US": r"united states(?: of america)?|U\.S\.A?\.?|USA|(?<=\bthe )US",
    "GB": r"united kingdom|U\.K\.|UK|great britain|britain|england|scotland|wales",
    "CA": r"canada", "MX": r"mexico|méxico", "BR": r"brazil|brasil", "AR": r"argentina", "CO": r"colombia",
    "CL": r"chile", "PE": r"peru", "ES": r"spain|españa", "FR": r"france", "DE": r"germany|deutschland",
    "IT": r"italy", "PT": r"portugal", "NL": r"netherlands|holland", "BE": r"belgium", "IE": r"ireland",
    "SE": r"sweden", "NO": r"norway", "DK": r"denmark", "FI": r"finland", "PL": r"poland", "UA": r"ukraine",
    "RO": r"romania", "GR": r"greece", "TR": r"türkiye|Turkey", "IL": r"israel", "EG": r"egypt", "MA": r"morocco",
    "NG": r"nigeria", "KE": r"kenya", "GH": r"ghana", "ZA": r"south africa", "ET": r"ethiopia", "IN": r"india",
    "PK": r"pakistan", "BD": r"bangladesh", "PH": r"philippines", "VN": r"vietnam|viet nam", "TH": r"thailand",
    "ID": r"indonesia", "MY": r"malaysia", "SG": r"singapore", "JP": r"japan", "KR": r"south korea|korea",
    "CN": r"china", "TW": r"taiwan", "AU": r"australia", "NZ": r"new zealand", "AE": r"united arab emirates|UAE",
    "SA": r"saudi arabia", "CH": r"switzerland", "AT": r"austria",
}

SOFTWARE: dict[str, str] = {
    "Labelbox": r"labelbox", "CVAT": r"cvat", "Label Studio": r"label[- ]?studio", "SuperAnnotate": r"superannotate",
    "V7": r"v7(?: darwin| labs)?", "Encord": r"encord", "Prodigy": r"prodigy", "Doccano": r"doccano",
    "Roboflow": r"roboflow", "Supervisely": r"supervisely", "LabelImg": r"labelimg", "Dataloop": r"dataloop",
    "SageMaker Ground Truth": r"(?:sagemaker )?ground truth", "Scale AI": r"scale ai|scale rapid",
    "Google Sheets": r"google sheets", "ELAN": r"\bELAN\b", "Praat": r"praat",
}

# A table alternative written with a capital letter matches case-sensitively: acronyms (NER, USA), German nouns,
# and words that are something else in lower case ("Polish" the language, "polish" the verb).
_CASE_SENSITIVE = re.compile(r"[A-Z]")


def _compile(pattern: str) -> re.Pattern:
    flags = 0 if _CASE_SENSITIVE.search(pattern) else re.IGNORECASE
    return re.compile(rf"(?<![\w-])(?:{pattern})(?![\w])", flags)


def _compile_table(table: dict[str, str]) -> list[tuple[str, list[re.Pattern]]]:
    """Each alternative compiled on its own so acronyms stay case-sensitive while words are not."""
    return [(name, [_compile(part) for part in _split_alternatives(pattern)]) for name, pattern in table.items()]


def _split_alternatives(pattern: str) -> list[str]:
    """Top-level `|` alternatives of a pattern (parenthesised groups stay whole)."""
    parts, depth, current = [], 0, ""
    for char in pattern:
        depth += char == "("
        depth -= char == ")"
        if char == "|" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


LANGUAGE_PATTERNS = _compile_table(LANGUAGES)
COUNTRY_PATTERNS = _compile_table(COUNTRIES)
SOFTWARE_PATTERNS = _compile_table(SOFTWARE)
DATA_TYPE_PATTERNS = _compile_table(DATA_TYPE_WORDS)
LABEL_PATTERNS = _compile_table({label.name: label.pattern for label in LABEL_TYPES})
LABELS_BY_NAME = {label.name: label for label in LABEL_TYPES}


def find_terms(text: str, table: list[tuple[str, list[re.Pattern]]]) -> list[tuple[int, str]]:
    """(position, canonical name) of every table term in the text, earliest first, one per name, with a longer
    match hiding a shorter one inside it ("intent classification" is not also "classification")."""
    hits: list[tuple[int, int, str]] = []
    for name, patterns in table:
        for pattern in patterns:
            hits += [(match.start(), match.end(), name) for match in pattern.finditer(text)]
    hits.sort(key=lambda hit: (hit[0], -(hit[1] - hit[0])))
    taken: list[tuple[int, int]] = []
    found: dict[str, int] = {}
    for start, end, name in hits:
        if any(start < taken_end and taken_start < end for taken_start, taken_end in taken):
            continue
        taken.append((start, end))
        found.setdefault(name, start)
    return sorted((start, name) for name, start in found.items())


def names_in(text: str, table: list[tuple[str, list[re.Pattern]]]) -> list[str]:
    return [name for _, name in find_terms(text, table)]


def country_code(value: str) -> str | None:
    """ISO-2 code for a country name or code ("Germany", "de", "U.S.A."), else None."""
    cleaned = value.strip()
    if re.fullmatch(r"[A-Za-z]{2}", cleaned) and cleaned.upper() in COUNTRIES:
        return cleaned.upper()
    if cleaned.upper() in ("UK",):
        return "GB"
    matches = names_in(cleaned, COUNTRY_PATTERNS)
    return matches[0] if len(matches) == 1 else None


def canonical_label(value: str) -> str:
    """Our label type name for a free-text label ("bounding boxes" -> "Bounding box"), else the text itself."""
    matches = names_in(value, LABEL_PATTERNS)
    return matches[0] if matches else value.strip()


LANGUAGE_CODES: dict[str, str] = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "ru": "Russian", "uk": "Ukrainian", "pl": "Polish", "zh": "Chinese", "ja": "Japanese",
    "ko": "Korean", "ar": "Arabic", "he": "Hebrew", "hi": "Hindi", "bn": "Bengali", "ur": "Urdu", "tr": "Turkish",
    "fa": "Persian", "el": "Greek", "sv": "Swedish", "vi": "Vietnamese", "th": "Thai", "id": "Indonesian",
    "tl": "Tagalog", "sw": "Swahili",
}


def canonical_language(value: str) -> str:
    """Our name for a language name or ISO 639-1 code ("español", "en-US" -> "Spanish", "English")."""
    code = value.strip().lower().split("-")[0].split("_")[0]
    if len(code) == 2 and code in LANGUAGE_CODES:
        return LANGUAGE_CODES[code]
    matches = names_in(value, LANGUAGE_PATTERNS)
    return matches[0] if len(matches) == 1 else value.strip()


def currency_code(word: str | None) -> str:
    """ISO currency code for a symbol or word; USD when absent or unknown."""
    if not word:
        return "USD"
    return CURRENCY_WORDS.get(word.strip().lower(), word.strip().upper() if word.strip().upper() in USD_PER else "USD")


def to_usd(amount: float, currency: str) -> tuple[float, str | None]:
    """The USD amount and, for another currency, the warning that says a fixed rate converted it."""
    if currency == "USD" or currency not in USD_PER:
        return amount, None
    rate = USD_PER[currency]
    usd = amount * rate
    usd = round(usd, 2) if usd >= 1 else round(usd, 4)
    return usd, (f"Converted {amount:g} {currency} to {usd:g} USD at the sandbox's fixed rate "
                 f"1 {currency} = {rate:g} USD; OpenTrain pays in USD.")
