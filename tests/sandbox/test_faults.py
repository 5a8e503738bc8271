"""Injected faults (status, Retry-After, latency, dropped connections) and the request log."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.sandbox.support import PUBLIC, app_token, bearer


@pytest.fixture
def http(sandbox_url):
    with httpx.Client(base_url=sandbox_url, timeout=10) as client:
        yield client


def arm(http: httpx.Client, **fault) -> None:
    response = http.post("/_sandbox/faults", json=fault)
    assert response.status_code == 201, response.text


def test_status_faults_match_by_glob_and_method_and_run_out(http):
    auth = bearer(app_token(http))
    arm(http, path=f"{PUBLIC}/job-drafts*", method="POST", status=503, times=2)
    assert http.get(f"{PUBLIC}/job-drafts/capabilities", headers=auth).status_code == 200  # GET: not matched
    for _ in range(2):
        failed = http.post(f"{PUBLIC}/job-drafts", headers=auth, json={"rawJobDescription": "Label cats"})
        assert failed.status_code == 503
        assert failed.json()["code"] == "INTERNAL_ERROR" and failed.json()["requestId"]
    assert http.post(f"{PUBLIC}/job-drafts", headers=auth, json={"rawJobDescription": "Label cats"}).status_code == 200

    arm(http, path=f"{PUBLIC}/auth/me", status=429, retryAfterSeconds=7)
    limited = http.get(f"{PUBLIC}/auth/me", headers=auth)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json()["code"] == "RATE_LIMITED" and limited.json()["details"]["retryAfterSeconds"] == 7

    arm(http, path="/api/agent/identity", status=500)
    assert http.post("/api/agent/identity", json={}).json()["error"] == "server_error"  # OAuth shape on agent paths

    log = http.get("/_sandbox/requests").json()
    assert log["count"] == len(log["requests"]) == 6
    assert [r["status"] for r in log["requests"]] == [200, 503, 503, 200, 429, 500]
    assert log["requests"][0] == {**log["requests"][0], "method": "GET", "path": f"{PUBLIC}/job-drafts/capabilities"}


def test_latency_and_dropped_connections(http):
    auth = bearer(app_token(http))
    arm(http, path=f"{PUBLIC}/auth/me", latencyMs=50)
    assert http.get(f"{PUBLIC}/auth/me", headers=auth).status_code == 200  # delayed, then served normally

    arm(http, path=f"{PUBLIC}/auth/*", drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(f"{PUBLIC}/auth/me", headers=auth)
    assert http.get(f"{PUBLIC}/auth/me", headers=auth).status_code == 200
    assert http.get("/_sandbox/faults").json()["faults"] == []

    bad = http.post("/_sandbox/faults", json={"path": f"{PUBLIC}/auth/me"})
    assert bad.status_code == 400 and bad.json()["code"] == "BAD_REQUEST"


def test_a_request_delayed_across_a_reset_never_lands_in_the_new_world(http, sandbox_url):
    auth = bearer(app_token(http))
    arm(http, path=f"{PUBLIC}/job-drafts", method="POST", latencyMs=500)
    with pytest.raises(httpx.ReadTimeout):  # the client gives up; the sandbox is still holding the request
        httpx.post(f"{sandbox_url}{PUBLIC}/job-drafts", headers=auth, json={"rawJobDescription": "Label cats"},
                   timeout=httpx.Timeout(5, read=0.1))
    http.post("/_sandbox/reset").raise_for_status()
    time.sleep(0.6)  # past the injected latency, when the old request would have been served
    assert http.get("/_sandbox/requests").json() == {"count": 0, "requests": []}
