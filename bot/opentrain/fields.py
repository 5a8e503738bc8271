"""Types of the job-draft update keys the contract documents (§2.4.3).

The API's own `missingFields[].type` wins whenever it is given; this table only answers for a field the API did
not ask about, e.g. one the requester reopens with `edit`. Keys the contract leaves untyped are not listed.
"""

MAX_RAW_DESCRIPTION_CHARS = 60_000  # `rawJobDescription` (§2.4.2)

DOCUMENTED_KEY_TYPES: dict[str, str] = {
    "jobTitle": "string",
    "jobDescription": "string",
    "paymentType": "enum",
    "pricePerHour": "number",
    "pricePerLabel": "number",
    "fixedPrice": "number",
    "experienceLevel": "enum",
    "dataVolumeUnit": "enum",
    "dataVolume": "number",
    "headcount": "integer",
    "languages": "array",
    "countries": "array",
    "labelTypes": "array",
}

# The enum values §2.4.3 documents; the capabilities probe's `draft.enums` wins when it names a key.
DOCUMENTED_ENUMS: dict[str, list[str]] = {
    "paymentType": ["PAY_PER_LABEL", "PAY_PER_HOUR", "FIXED_PRICE"],
    "experienceLevel": ["EXPERT", "ENTRY_LEVEL", "INTERMEDIATE", "ANY_EXPERIENCE_LEVEL"],
    "dataVolumeUnit": ["HOURS_OF_RECORDING_AUDIO_VIDEO", "NUMBER_OF_FILES", "NUMBER_OF_WORDS", "UNKNOWN_NOT_SPECIFIED"],
}
