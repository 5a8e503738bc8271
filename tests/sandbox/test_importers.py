"""Importers: each structured source becomes draft fields, gaps are filled from its description, bad payloads are
refused with a clear message, and the sandbox serves all of it over HTTP."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.sandbox.importers import SourceFormatError, import_source, strip_html
from tests.sandbox.support import PUBLIC, bearer, register

CANONICAL = {
    "title": "Bounding boxes on dashcam images",
    "description": "Draw boxes around cars on 50,000 dashcam images. 10 annotators.",
    "paymentType": "hourly", "rateAmount": 18, "languages": ["english"], "countries": ["US", "Narnia"],
    "labelTypes": ["bounding boxes"], "tools": ["CVAT", "Labelbox"], "experienceLevel": "INTERMEDIATE",
    "priority": "high",
}
JSON_LD = {
    "@context": "https://schema.org", "@type": "JobPosting", "title": "Spanish transcription",
    "description": "<p>Transcribe <b>200 hours</b> of audio &amp; timestamps.</p><ul><li>Native Spanish</li></ul>",
    "baseSalary": {"@type": "MonetaryAmount", "currency": "EUR",
                   "value": {"@type": "QuantitativeValue", "minValue": 20, "maxValue": 25, "unitText": "HOUR"}},
    "applicantLocationRequirements": [{"@type": "Country", "name": "Spain"}, {"@type": "Country", "name": "MX"}],
    "experienceRequirements": {"@type": "OccupationalExperienceRequirements", "monthsOfExperience": 24},
    "totalJobOpenings": 4, "employmentType": ["PART_TIME", "CONTRACTOR"], "datePosted": "2026-01-01",
    "validThrough": "2026-03-01",
}
INDEED = """<?xml version="1.0" encoding="utf-8"?>
<source><publisher>Acme</publisher>
  <job>
    <title><![CDATA[Sentiment raters]]></title><date>2026-01-01</date><referencenumber>A-7</referencenumber>
    <country>US</country><salary>$0.05 per label</salary><jobtype>contract</jobtype>
    <description><![CDATA[<p>We need 5 raters to label sentiment in 20,000 tweets. English.</p>]]></description>
    <experience>2+ years of experience</experience>
  </job>
</source>"""
HR_XML = """<PositionOpening xmlns="http://www.hr-xml.org/3">
  <DocumentID>P-9</DocumentID>
  <PositionProfile>
    <PositionTitle>LiDAR cuboid annotators</PositionTitle>
    <PositionFormattedDescription>
      <Content>3D cuboids on 1,000 lidar point clouds.</Content>
    </PositionFormattedDescription>
    <PositionLocation><Address><CountryCode>DE</CountryCode></Address></PositionLocation>
    <NumberToFill>6</NumberToFill>
    <PositionQualifications><LanguageCode>de</LanguageCode><ExperienceSummary>Senior annotators</ExperienceSummary>
    </PositionQualifications>
    <OfferedRemunerationPackage><RemunerationRange>
      <MinimumAmount currencyID="GBP">25</MinimumAmount><MaximumAmount currencyID="GBP">30</MaximumAmount>
      <IntervalCode>Hour</IntervalCode>
    </RemunerationRange></OfferedRemunerationPackage>
    <WorkSchedule>Weekdays</WorkSchedule>
  </PositionProfile>
</PositionOpening>"""


def paths(draft) -> list[str]:
    return [entry["path"] for entry in draft.unmapped]


def test_canonical_job_maps_keys_and_fills_gaps_from_its_description():
    draft = import_source("opentrain_canonical", CANONICAL)
    assert draft.fields == {
        "jobTitle": "Bounding boxes on dashcam images", "jobDescription": CANONICAL["description"],
        "paymentType": "PAY_PER_HOUR", "pricePerHour": 18, "languages": ["English"], "countries": ["US"],
        "labelTypes": ["Bounding box"], "labelingSoftware": "CVAT, Labelbox", "experienceLevel": "INTERMEDIATE",
        # from the description:
        "headcount": 10, "dataVolume": 50000, "dataVolumeUnit": "NUMBER_OF_FILES", "dataType": "Image"}
    assert paths(draft) == ["job.countries", "job.priority"]
    assert draft.low_confidence == [] and draft.warnings == []
    # Also as a JSON string, with a rate but no payment type (the rate cannot be placed) and a bad enum.
    odd = import_source("opentrain_canonical", json.dumps({"title": "x", "rateAmount": 5, "experienceLevel": "GURU"}))
    assert odd.fields == {"jobTitle": "x"}
    assert [(entry["path"], entry["reason"][:24]) for entry in odd.unmapped] == [
        ("job.experienceLevel", "Invalid experienceLevel:"), ("job.rateAmount", "A rate needs a paymentTy")]


def test_schema_org_job_posting():
    for payload in (JSON_LD, json.dumps(JSON_LD), {"@graph": [{"@type": "Organization"}, JSON_LD]}):
        draft = import_source("schema_org_job_posting", payload)
        assert draft.fields == {
            "jobTitle": "Spanish transcription", "jobDescription": "Transcribe 200 hours of audio & timestamps.\n"
            "- Native Spanish", "paymentType": "PAY_PER_HOUR", "pricePerHour": 21.6, "budgetRange": "21.6-27 USD",
            "countries": ["ES", "MX"], "experienceLevel": "INTERMEDIATE", "headcount": 4,
            "workloadDesc": "part-time, contractor", "dataVolume": 200,
            "dataVolumeUnit": "HOURS_OF_RECORDING_AUDIO_VIDEO", "dataType": "Audio", "labelTypes": ["Transcription"],
            "languages": ["Spanish"]}
        assert paths(draft) == ["jsonLd.validThrough"]
        assert [entry["field"] for entry in draft.low_confidence] == ["experienceLevel"]
        assert draft.warnings == ["Converted 20 EUR to 21.6 USD at the sandbox's fixed rate 1 EUR = 1.08 USD; "
                                  "OpenTrain pays in USD."]
    daily = import_source("schema_org_job_posting", {"@type": "JobPosting", "title": "t", "baseSalary": {
        "currency": "USD", "value": {"value": 160, "unitText": "DAY"}}})
    assert (daily.fields["pricePerHour"], daily.low_confidence[0]["field"]) == (20, "pricePerHour")


def test_indeed_xml():
    draft = import_source("indeed_xml", INDEED)
    assert draft.fields == {
        "jobTitle": "Sentiment raters", "countries": ["US"], "paymentType": "PAY_PER_LABEL", "pricePerLabel": 0.05,
        "workloadDesc": "contract", "jobDescription": "We need 5 raters to label sentiment in 20,000 tweets. English.",
        "experienceLevel": "INTERMEDIATE", "headcount": 5, "dataVolume": 20000, "dataVolumeUnit": "NUMBER_OF_FILES",
        "dataType": "Text", "labelTypes": ["Sentiment analysis"], "languages": ["English"]}
    assert paths(draft) == ["job/date", "job/referencenumber"]
    unitless = import_source("indeed_xml", "<job><title>t</title><salary>$500</salary></job>")
    assert paths(unitless) == ["job/salary"] and "paymentType" not in unitless.fields


def test_hr_xml():
    draft = import_source("hr_xml", HR_XML)
    assert draft.fields == {
        "jobTitle": "LiDAR cuboid annotators", "jobDescription": "3D cuboids on 1,000 lidar point clouds.",
        "countries": ["DE"], "headcount": 6, "paymentType": "PAY_PER_HOUR", "pricePerHour": 31.75,
        "budgetRange": "31.75-38.1 USD", "dataVolume": 1000, "dataVolumeUnit": "NUMBER_OF_FILES",
        "dataType": "LiDAR", "labelTypes": ["3D cuboid"], "languages": ["German"], "experienceLevel": "EXPERT"}
    assert paths(draft) == ["PositionOpening/DocumentID", "PositionOpening/PositionProfile/WorkSchedule"]


@pytest.mark.parametrize(("fmt", "payload", "message"), [
    ("indeed_xml", '<!DOCTYPE x [<!ENTITY a "b">]><job><title>&a;</title></job>', "DOCTYPE"),
    ("indeed_xml", "<job><title>x</job>", "not well-formed"),
    ("indeed_xml", "<feed><item/></feed>", "<job>"),
    ("indeed_xml", 42, "non-empty XML string"),
    ("hr_xml", "<job><title>x</title></job>", "PositionOpening"),
    ("hr_xml", "<PositionOpening><DocumentID>1</DocumentID></PositionOpening>", "PositionTitle"),
    ("schema_org_job_posting", "{", "not valid JSON"),
    ("schema_org_job_posting", {"@type": "Person", "name": "x"}, "JobPosting"),
    ("opentrain_canonical", [1, 2], "JSON object"),
    ("opentrain_canonical", {"paymentType": "PAY_PER_HOUR"}, "title or a description"),
    ("pdf", "x", "Unsupported source format"),
])
def test_bad_payloads_are_refused_clearly(fmt, payload, message):
    with pytest.raises(SourceFormatError, match=message):
        import_source(fmt, payload)


def test_strip_html():
    assert strip_html("<h2>Pay</h2><p>$18&nbsp;/ hour<br>remote</p><script></script>") == "Pay\n$18 / hour\nremote"


def test_every_format_over_http(sandbox_url):
    with httpx.Client(base_url=sandbox_url, timeout=10) as http:
        auth = bearer(register(http)["access_token"])
        bodies = [{"format": "opentrain_canonical", "job": CANONICAL},
                  {"source": {"type": "schema_org_job_posting", "jsonLd": JSON_LD}},
                  {"format": "indeed_xml", "xml": INDEED}, {"format": "hr_xml", "xml": HR_XML}]
        for body in bodies:
            response = http.post(f"{PUBLIC}/job-drafts", headers=auth, json=body)
            assert response.status_code == 200, response.text
            report = response.json()
            assert report["unmappedFields"] and report["normalizedFields"]["jobTitle"]
            assert report["validation"]["missingFields"] == [gap["field"] for gap in report["missingFields"]]
        refused = http.post(f"{PUBLIC}/job-drafts", headers=auth, json={"format": "hr_xml", "xml": "<job/>"})
        assert refused.status_code == 400 and "PositionOpening" in refused.json()["error"]
