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
