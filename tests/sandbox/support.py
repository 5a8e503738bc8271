"""Helpers for the sandbox tests: raw httpx calls that set up accounts and publish-ready drafts."""

from __future__ import annotations

import httpx

PUBLIC = "/api/public/v1"
DESCRIPTION = (
    "We need 5 fluent Spanish speakers to label sentiment in about 20,000 social media posts. "
    "Pay is $0.05 per label. Intermediate experience is fine."
)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def register(http: httpx.Client, **body) -> dict:
    response = http.post("/api/agent/identity", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def app_token(http: httpx.Client, scopes: list[str] | None = None) -> str:
    response = http.post("/_sandbox/tokens", json={} if scopes is None else {"scopes": scopes})
    assert response.status_code == 201, response.text
    return response.json()["token"]


def typed_value(gap: dict):
    """A PATCH value for one `missingFields` entry, typed from its catalog description."""
    if gap.get("enumValues"):
        return gap["enumValues"][0]
    example, kind = gap.get("example"), gap.get("type")
    if kind == "number":
        return float(example or 1)
    if kind == "integer":
        return int(float(example or 1))
    if kind == "boolean":
        return True
    if kind in ("array", "list", "string[]"):
        return [example or "English"]
    return example or "Sandbox value"


def fill_gaps(http: httpx.Client, token: str, report: dict) -> dict:
    """Answer every missing field until the draft is publish-ready; the last PATCH report."""
    for _ in range(10):
        if report["validation"]["publishReady"]:
            return report
        patch = {gap["updateKeys"][0]: typed_value(gap) for gap in report["missingFields"]}
        response = http.patch(f"{PUBLIC}/job-drafts/{report['jobId']}", headers=bearer(token), json=patch)
        assert response.status_code == 200, response.text
        report = response.json()
    raise AssertionError(f"draft never became publish-ready: {report['validation']}")


def ready_draft(http: httpx.Client, token: str, description: str = DESCRIPTION) -> str:
    response = http.post(f"{PUBLIC}/job-drafts", headers=bearer(token), json={"rawJobDescription": description})
    assert response.status_code == 200, response.text
    return fill_gaps(http, token, response.json())["jobId"]


def open_job(http: httpx.Client, token: str) -> str:
    job_id = ready_draft(http, token)
    response = http.post(f"{PUBLIC}/jobs/{job_id}/publish", headers=bearer(token))
    assert response.status_code == 200, response.text
    return job_id
