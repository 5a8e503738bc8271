"""The plain-English parser: what each kind of job description must yield, and that no text makes it raise."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sandbox import catalog
from bot.sandbox.parser import parse_description

HOUR, FILES, WORDS = "HOURS_OF_RECORDING_AUDIO_VIDEO", "NUMBER_OF_FILES", "NUMBER_OF_WORDS"

# (description, fields it must extract exactly, fields it must leave unset)
CASES = [
    pytest.param(
        "We need 10 annotators for 50,000 dashcam images, $18/hour, English",
        {"headcount": 10, "dataVolume": 50000, "dataVolumeUnit": FILES, "dataType": "Image",
         "paymentType": "PAY_PER_HOUR", "pricePerHour": 18, "languages": ["English"]},
        ["experienceLevel", "labelTypes", "countries", "pricePerLabel"], id="canonical-demo"),
    pytest.param(
        "We need 5 fluent Spanish speakers to label sentiment in about 20,000 social media posts. "
        "Pay is $0.05 per label. Intermediate experience is fine.",
        {"headcount": 5, "languages": ["Spanish"], "labelTypes": ["Sentiment analysis"], "dataVolume": 20000,
         "dataVolumeUnit": FILES, "dataType": "Text", "paymentType": "PAY_PER_LABEL", "pricePerLabel": 0.05,
         "experienceLevel": "INTERMEDIATE", "jobTitle": "Spanish Sentiment Labeling — Social Media Posts"},
        ["pricePerHour"], id="contract-sentiment"),
    pytest.param(
        "We need 10 experienced annotators for bounding boxes on 50,000 dashcam images. Pay is $18/hour. "
        "Work happens in Labelbox.",
        {"headcount": 10, "labelTypes": ["Bounding box"], "experienceLevel": "INTERMEDIATE",
         "labelingSoftware": "Labelbox", "jobTitle": "Bounding Box Annotation — Dashcam Images"},
        ["languages"], id="contract-bounding-boxes"),
    pytest.param(
        "Transcribe 200 hours of call-center audio. We want a team of five native German speakers, "
        "paid 20 EUR per hour. Deadline: March 3",
        {"headcount": 5, "dataVolume": 200, "dataVolumeUnit": HOUR, "dataType": "Audio",
         "labelTypes": ["Transcription"], "languages": ["German"], "paymentType": "PAY_PER_HOUR",
         "pricePerHour": 21.6},
        ["countries"], id="audio-hours-euro"),
    pytest.param(
        "Nous cherchons 5 annotateurs pour classer des tweets. Español et français. £15/hr",
        {"headcount": 5, "languages": ["Spanish", "French"], "paymentType": "PAY_PER_HOUR", "pricePerHour": 19.05},
        ["dataVolume"], id="french-words-pounds"),
    pytest.param(
        "Title: NER for legal contracts\nFixed price of $2,000 for 1.2M words. Expert lawyers only.\n"
        "Countries: US, CA",
        {"jobTitle": "NER for legal contracts", "paymentType": "FIXED_PRICE", "fixedPrice": 2000,
         "dataVolume": 1_200_000, "dataVolumeUnit": WORDS, "dataType": "Text",
         "labelTypes": ["Named entity recognition"], "experienceLevel": "EXPERT", "countries": ["US", "CA"]},
        ["headcount"], id="title-line-fixed-price-words"),
    pytest.param(
        "need one labeler. 20k tweets. classify them as spam or not. beginners welcome. 3 cents per tweet lol",
        {"headcount": 1, "dataVolume": 20000, "dataVolumeUnit": FILES, "dataType": "Text",
         "labelTypes": ["Classification"], "experienceLevel": "ENTRY_LEVEL"},
        ["languages"], id="messy-lowercase"),
    pytest.param(
        "Looking for 3 board-certified radiologists to draw polygons and segmentation masks on 8,000 chest "
        "X-rays. $85 per hour. Based in the United States.",
        {"headcount": 3, "dataVolume": 8000, "dataType": "Image", "labelTypes": ["Polygon", "Segmentation"],
         "experienceLevel": "EXPERT", "pricePerHour": 85, "countries": ["US"]},
        ["languages"], id="medical-experts"),
    pytest.param(
        "RLHF project: rank model responses for helpfulness. 2,500 prompts, bilingual English/French raters, "
        "12 raters total, $25 an hour, any level welcome.",
        {"labelTypes": ["RLHF ranking"], "dataVolume": 2500, "dataVolumeUnit": FILES,
         "languages": ["English", "French"], "headcount": 12, "pricePerHour": 25,
         "experienceLevel": "ANY_EXPERIENCE_LEVEL"},
        [], id="rlhf-bilingual"),
    pytest.param(
        "Keypoint annotation of 15,000 video frames (human pose). Paying €0.05 per label, 4 annotators, "
        "CVAT provided.",
        {"labelTypes": ["Keypoints"], "dataVolume": 15000, "dataType": "Image", "paymentType": "PAY_PER_LABEL",
         "pricePerLabel": 0.054, "headcount": 4, "labelingSoftware": "CVAT"},
        [], id="keypoints-euro-per-label"),
    pytest.param(
        "3D cuboids on 1,000 lidar point clouds for a self-driving startup. 6 annotators with 5+ years of "
        "annotation experience. USD 30/hr.",
        {"labelTypes": ["3D cuboid"], "dataVolume": 1000, "dataType": "LiDAR", "headcount": 6,
         "experienceLevel": "EXPERT", "pricePerHour": 30},
        [], id="lidar-cuboids-years"),
    pytest.param(
        "Translate 40,000 words of product descriptions from English to Japanese. Flat fee of $3,500. "
        "Professional translators only, 2 people.",
        {"dataVolume": 40000, "dataVolumeUnit": WORDS, "labelTypes": ["Translation"],
         "languages": ["English", "Japanese"], "paymentType": "FIXED_PRICE", "fixedPrice": 3500,
         "experienceLevel": "EXPERT", "headcount": 2},
        [], id="translation-flat-fee"),
    pytest.param(
        "Seeking 8 native Hindi speakers to transcribe 90 minutes of voice notes. 300 INR per hour. "
        "Must be located in India.",
        {"headcount": 8, "languages": ["Hindi"], "dataVolume": 1.5, "dataVolumeUnit": HOUR, "dataType": "Audio",
         "labelTypes": ["Transcription"], "pricePerHour": 3.6, "countries": ["IN"]},
        [], id="minutes-rupees"),
    pytest.param(
        "Intent classification for 12,000 customer support chats. We'll pay 18 USD per hour. "
        "Applicants must be based in UK, IE or Canada. English. No experience needed.",
        {"labelTypes": ["Intent classification"], "dataVolume": 12000, "dataType": "Text", "pricePerHour": 18,
         "countries": ["GB", "IE", "CA"], "languages": ["English"], "experienceLevel": "ENTRY_LEVEL"},
        ["headcount"], id="intent-countries-list"),
    pytest.param(
        "Hiring 20 Portuguese (Brazil) speakers for speech data: 500 hours of video, tagging speakers. "
        "$15-20/hour depending on quality. Part-time, about 20 hours per week for 3 months.",
        {"headcount": 20, "languages": ["Portuguese"], "dataVolume": 500, "dataVolumeUnit": HOUR,
         "dataType": "Video", "paymentType": "PAY_PER_HOUR", "pricePerHour": 15, "budgetRange": "15-20 USD per hour",
         "workloadDesc": "part-time", "projectDuration": "3 months"},
        [], id="range-workload-duration"),
    pytest.param(
        "Summarization task\n\nWrite summaries for 3,000 news articles in Korean. a dozen writers. "
        "Budget: $6,000.",
        {"jobTitle": "Summarization task", "labelTypes": ["Summarization"], "dataVolume": 3000,
         "languages": ["Korean"], "headcount": 12, "paymentType": "FIXED_PRICE", "fixedPrice": 6000},
        [], id="first-line-title-budget"),
    pytest.param(
        "Content moderation: review 100k user comments for hate speech. 50 moderators, paid hourly, "
        "senior moderators preferred. Arabic and Turkish.",
        {"labelTypes": ["Content moderation"], "dataVolume": 100000, "headcount": 50,
         "paymentType": "PAY_PER_HOUR", "experienceLevel": "EXPERT", "languages": ["Arabic", "Turkish"]},
        ["pricePerHour"], id="pay-type-without-amount"),
    pytest.param(
        "We want someone to polish the transcripts of 250 podcasts. An editor, $40 per podcast. "
        "Tools: Label Studio. Start date: next Monday",
        {"headcount": 1, "dataVolume": 250, "dataType": "Audio", "paymentType": "PAY_PER_LABEL",
         "pricePerLabel": 40, "labelingSoftware": "Label Studio"},
        ["languages"], id="polish-is-a-verb"),
    pytest.param(
        "Buscamos 3 anotadores. 1.000 imágenes, cajas. Español. 10 € la hora.",
        {"headcount": 3, "dataVolume": 1000, "dataType": "Image", "languages": ["Spanish"],
         "paymentType": "PAY_PER_HOUR", "pricePerHour": 10.8},
        [], id="spanish-european-numbers"),
    pytest.param(
        "OCR correction on 4,500 scanned invoices. A single annotator. Pay $0.20 per document. "
        "Must be US-based. Intermediate level.",
        {"labelTypes": ["OCR"], "dataVolume": 4500, "dataType": "Document", "headcount": 1,
         "paymentType": "PAY_PER_LABEL", "pricePerLabel": 0.2, "countries": ["US"],
         "experienceLevel": "INTERMEDIATE"},
        [], id="ocr-documents"),
    pytest.param(
        "Speaker diarization + transcription, 75 hrs of meeting recordings, team of 4, "
        "C$28 per hour, within 2 weeks.",
        {"labelTypes": ["Speaker diarization", "Transcription"], "dataVolume": 75, "dataVolumeUnit": HOUR,
         "headcount": 4, "pricePerHour": 20.44, "timeRequirement": "Within 2 weeks"},
        [], id="diarization-cad"),
    pytest.param(
        "Need 5-10 annotators for lane lines (polylines) on 30,000 dashcam frames. $150 per day.",
        {"headcount": 10, "labelTypes": ["Polyline"], "dataVolume": 30000, "dataType": "Image",
         "paymentType": "PAY_PER_HOUR", "pricePerHour": 18.75},
        [], id="headcount-range-daily-pay"),
]


@pytest.mark.parametrize(("text", "expected", "absent"), CASES)
def test_description_yields_exact_fields(text, expected, absent):
    draft = parse_description(text)
    assert draft.fields["jobDescription"] == text.strip()
    assert {key: draft.fields.get(key) for key in expected} == expected
    assert [key for key in absent if key in draft.fields] == []
    assert draft.fields.get("jobTitle")  # always given or generated
    assert catalog.validate_patch(draft.fields) == []  # everything extracted is a valid PATCH value


def test_canonical_demo_reports_what_is_still_missing():
    draft = parse_description("We need 10 annotators for 50,000 dashcam images, $18/hour, English")
    assert catalog.validation_report(draft.fields)["missingFields"] == ["labelTypes", "experienceLevel"]
    assert [entry["field"] for entry in draft.low_confidence] == ["jobTitle"]
    assert draft.low_confidence[0]["value"] == "Image Annotation — Dashcam Images"


def test_guesses_warnings_and_unmapped_are_explained():
    draft = parse_description(
        "Transcribe 200 hours of call-center audio with 10 experienced transcribers. 20 EUR per hour. "
        "\nDeadline: March 3\nContact: ops@example.com")
    guesses = {entry["field"]: entry for entry in draft.low_confidence}
    assert guesses["experienceLevel"]["value"] == "INTERMEDIATE" and guesses["experienceLevel"]["reason"]
    assert draft.warnings == ["Converted 20 EUR to 21.6 USD at the sandbox's fixed rate 1 EUR = 1.08 USD; "
                              "OpenTrain pays in USD."]
    assert [(entry["path"], entry["valuePreview"]) for entry in draft.unmapped] == [
        ("deadline", "March 3"), ("contact", "ops@example.com")]


def test_empty_text_gives_an_empty_draft():
    assert parse_description("   \n ").fields == {}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400) | st.text(alphabet="0123456789$€£.,/ -kKmMhour per label images annotators",
                                       max_size=200))
def test_any_text_parses_without_raising(text):
    draft = parse_description(text)
    if text.strip():
        assert catalog.validate_patch(draft.fields) == []
    else:
        assert draft.fields == {}
