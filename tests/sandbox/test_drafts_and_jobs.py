"""Drafts, publishing and jobs/mine over HTTP: envelopes, gates, idempotency and the daily publish limit."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.support import DESCRIPTION, PUBLIC, app_token, bearer, fill_gaps, ready_draft, register


@pytest.fixture
def http(sandbox_url):
    with httpx.Client(base_url=sandbox_url, timeout=10) as client:
        yield client


def envelope(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["error"] and body["requestId"]
    return body.get("details") or {}


def test_draft_story_from_description_to_closed_job(http):
    token = register(http)["access_token"]
    auth = bearer(token)
    created = http.post(f"{PUBLIC}/job-drafts", headers=auth,
                        json={"rawJobDescription": DESCRIPTION, "idempotencyKey": "story-1"})
    assert created.status_code == 200, created.text
    report = created.json()
    assert report["ok"] is True and report["status"] == "DRAFT"
    assert report["draftUrl"].endswith(f"jobId={report['jobId']}")
    validation = report["validation"]
    assert validation["missingFields"] == [gap["field"] for gap in report["missingFields"]]
    assert validation["missingFieldCount"] == len(validation["missingFields"])
    for key in ("normalizedFields", "lowConfidenceFields", "unmappedFields", "warnings"):
        assert key in report

    # The same idempotency key returns the same draft (also through the `source` shape).
    replay = http.post(f"{PUBLIC}/job-drafts", headers=auth,
                       json={"source": {"type": "text", "text": "different", "idempotencyKey": "story-1"}})
    assert replay.json()["jobId"] == report["jobId"]

    if not validation["publishReady"]:
        not_ready = http.post(f"{PUBLIC}/jobs/{report['jobId']}/publish", headers=auth)
        details = envelope(not_ready, 400, "BAD_REQUEST")
        assert details["validation"]["publishReady"] is False

    unknown_key = http.patch(f"{PUBLIC}/job-drafts/{report['jobId']}", headers=auth, json={"notAField": 1})
    assert envelope(unknown_key, 400, "BAD_REQUEST")["issues"]
    wrong_type = http.patch(f"{PUBLIC}/job-drafts/{report['jobId']}", headers=auth, json={"headcount": "five"})
    assert envelope(wrong_type, 400, "BAD_REQUEST")["issues"]

    ready = fill_gaps(http, token, report)
    assert ready["validation"] == {**ready["validation"], "publishReady": True, "missingFieldCount": 0}
    published = http.post(f"{PUBLIC}/jobs/{report['jobId']}/publish", headers=auth).json()
    assert published["status"] == "OPEN" and published["alreadyPublished"] is False
    assert published["jobUrl"] == f"https://app.opentrain.ai/jobs/{report['jobId']}"
    again = http.post(f"{PUBLIC}/jobs/{report['jobId']}/publish", headers=auth).json()
    assert again["alreadyPublished"] is True

    late_patch = http.patch(f"{PUBLIC}/job-drafts/{report['jobId']}", headers=auth, json={"headcount": 3})
    assert envelope(late_patch, 409, "CONFLICT")["status"] == "OPEN"

    mine = http.get(f"{PUBLIC}/jobs/mine", headers=auth).json()
    assert [job["id"] for job in mine["jobs"]] == [report["jobId"]]
    assert mine["jobs"][0]["published"] is True and mine["nextCursor"] is None

    closed = http.post(f"{PUBLIC}/jobs/{report['jobId']}/close", headers=auth).json()
    assert (closed["status"], closed["alreadyClosed"]) == ("ARCHIVED", False)
    assert http.post(f"{PUBLIC}/jobs/{report['jobId']}/close", headers=auth).json()["alreadyClosed"] is True


def test_every_create_shape_and_its_refusals(http):
    auth = bearer(register(http)["access_token"])
    canonical = {"title": "Bounding boxes on dashcam images", "description": "Draw boxes around cars.",
                 "paymentType": "PAY_PER_HOUR", "rateAmount": 18, "languages": ["English"], "countries": ["US"],
                 "labelTypes": ["Bounding box"], "experienceLevel": "INTERMEDIATE"}
    shapes = [
        {"rawJobDescription": DESCRIPTION},
        {"source": {"type": "text", "text": DESCRIPTION, "externalId": "acme-7"}},
        {"source": {"type": "opentrain_canonical", "job": canonical}},
        {"format": "opentrain_canonical", "job": canonical},
    ]
    job_ids = set()
    for body in shapes:
        response = http.post(f"{PUBLIC}/job-drafts", headers=auth, json=body)
        assert response.status_code == 200, (body, response.text)
        job_ids.add(response.json()["jobId"])
    assert len(job_ids) == len(shapes)

    too_long = http.post(f"{PUBLIC}/job-drafts", headers=auth, json={"rawJobDescription": "x" * 60_001})
    assert envelope(too_long, 400, "BAD_REQUEST")["maxLength"] == 60_000
    unsupported = http.post(f"{PUBLIC}/job-drafts", headers=auth, json={"format": "pdf", "xml": "<x/>"})
    assert "text" in envelope(unsupported, 400, "BAD_REQUEST")["supportedFormats"]
    envelope(http.post(f"{PUBLIC}/job-drafts", headers=auth, json={}), 400, "BAD_REQUEST")
    envelope(http.post(f"{PUBLIC}/job-drafts", headers=auth, content=b"{not json"), 400, "BAD_REQUEST")
    envelope(http.patch(f"{PUBLIC}/job-drafts/job_missing", headers=auth, json={"headcount": 2}), 404, "NOT_FOUND")


def test_tokens_scopes_and_feature_flags(http):
    envelope(http.get(f"{PUBLIC}/auth/me"), 401, "UNAUTHORIZED")
    envelope(http.get(f"{PUBLIC}/auth/me", headers=bearer("ot_pat_bogus_value")), 401, "UNAUTHORIZED")

    owner = app_token(http)
    minted = http.post(f"{PUBLIC}/tokens", headers=bearer(owner), json={"name": "reader", "scopes": ["jobs:read"]})
    assert minted.status_code == 201 and minted.json()["metadata"]["preview"].startswith("ot_pat_")
    reader = minted.json()["token"]
    refused = http.post(f"{PUBLIC}/job-drafts", headers=bearer(reader), json={"rawJobDescription": DESCRIPTION})
    details = envelope(refused, 403, "FORBIDDEN")
    assert details == {"requiredScopes": ["jobs:write"], "grantedScopes": ["jobs:read"]}
    escalation = http.post(f"{PUBLIC}/tokens", headers=bearer(reader), json={"scopes": ["jobs:write"]})
    envelope(escalation, 403, "FORBIDDEN")

    writer = http.post(f"{PUBLIC}/tokens", headers=bearer(owner), json={"scopes": ["jobs:write"]}).json()["token"]
    assert http.get(f"{PUBLIC}/jobs/mine", headers=bearer(writer)).status_code == 200  # :write implies :read

    listed = http.get(f"{PUBLIC}/tokens", headers=bearer(owner)).json()["tokens"]
    reader_id = next(t["id"] for t in listed if t["name"] == "reader")
    assert all(reader not in str(t) for t in listed)
    revoked = http.delete(f"{PUBLIC}/tokens/{reader_id}", headers=bearer(owner)).json()["token"]
    assert revoked["status"] == "revoked" and revoked["revokedAt"]
    envelope(http.get(f"{PUBLIC}/auth/me", headers=bearer(reader)), 401, "UNAUTHORIZED")

    http.post("/_sandbox/features", json={"public_api_job_publishing": False}).raise_for_status()
    capabilities = http.get(f"{PUBLIC}/job-drafts/capabilities", headers=bearer(owner)).json()
    assert capabilities["capabilities"]["publish"] is False and capabilities["capabilities"]["draftCreate"] is True
    job_id = ready_draft(http, owner)
    blocked = http.post(f"{PUBLIC}/jobs/{job_id}/publish", headers=bearer(owner))
    assert envelope(blocked, 403, "FORBIDDEN")["featureKey"] == "public_api_job_publishing"

    http.post("/_sandbox/features", json={"public_api_job_drafting": False}).raise_for_status()
    details = envelope(http.get(f"{PUBLIC}/job-drafts/capabilities", headers=bearer(owner)), 403, "FORBIDDEN")
    assert details["featureKey"] == "public_api_job_drafting" and "mode" in details


def test_daily_publish_limit_resets_at_utc_midnight(http):
    token = register(http)["access_token"]
    auth = bearer(token)
    http.post("/_sandbox/config", json={"publishLimitUnclaimed": 2}).raise_for_status()
    jobs = [ready_draft(http, token) for _ in range(3)]
    for job_id in jobs[:2]:
        assert http.post(f"{PUBLIC}/jobs/{job_id}/publish", headers=auth).status_code == 200
    limited = http.post(f"{PUBLIC}/jobs/{jobs[2]}/publish", headers=auth)
    details = envelope(limited, 429, "RATE_LIMITED")
    assert details["reason"] == "daily_publish_limit"
    assert 0 < details["retryAfterSeconds"] <= 86400
    assert limited.headers["Retry-After"] == str(details["retryAfterSeconds"])

    http.post("/_sandbox/clock", json={"advanceSeconds": details["retryAfterSeconds"]}).raise_for_status()
    assert http.post(f"{PUBLIC}/jobs/{jobs[2]}/publish", headers=auth).status_code == 200


def test_jobs_mine_filters_and_pages(http):
    token = app_token(http)
    auth = bearer(token)
    drafts = [http.post(f"{PUBLIC}/job-drafts", headers=auth, json={"rawJobDescription": DESCRIPTION}).json()["jobId"]
              for _ in range(3)]
    first = http.get(f"{PUBLIC}/jobs/mine", headers=auth, params={"limit": 2}).json()
    assert [job["id"] for job in first["jobs"]] == drafts[::-1][:2]  # newest first
    rest = http.get(f"{PUBLIC}/jobs/mine", headers=auth, params={"limit": 2, "cursor": first["nextCursor"]}).json()
    assert [job["id"] for job in rest["jobs"]] == [drafts[0]] and rest["nextCursor"] is None
    assert len(http.get(f"{PUBLIC}/jobs/mine", headers=auth, params={"status": "DRAFT"}).json()["jobs"]) == 3
    assert http.get(f"{PUBLIC}/jobs/mine", headers=auth, params={"status": "OPEN"}).json()["jobs"] == []
    bad_status = http.get(f"{PUBLIC}/jobs/mine", headers=auth, params={"status": "LIVE"})
    assert "OPEN" in envelope(bad_status, 400, "BAD_REQUEST")["supportedStatuses"]
    envelope(http.get(f"{PUBLIC}/jobs/mine", headers=auth, params={"limit": 0}), 400, "BAD_REQUEST")
    envelope(http.get(f"{PUBLIC}/jobs/mine", headers=auth, params={"limit": 101}), 400, "BAD_REQUEST")
