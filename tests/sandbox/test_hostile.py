"""The hostile OpenTrain (`/_sandbox/hostile`): answers rewritten on their way out, the world left as it was."""

from __future__ import annotations

import httpx
import pytest

from bot.sandbox.hostile import ID_SUFFIX, INJECTION
from tests.sandbox.support import PUBLIC, app_token, bearer, open_job, register


@pytest.fixture
def http(sandbox_url):
    with httpx.Client(base_url=sandbox_url, timeout=10) as client:
        yield client


def arm(http: httpx.Client, **hostility) -> dict:
    response = http.post("/_sandbox/hostile", json=hostility)
    assert response.status_code == 201, response.text
    return response.json()["hostile"]


@pytest.mark.parametrize("mode, url", [("elsewhere", "https://evil.example/phish"),
                                       ("javascript", "javascript:alert(document.cookie)"),
                                       ("lookalike", "https://app.opentrain.ai.evil.example/phish"),
                                       ("userinfo", "https://app.opentrain.ai@evil.example/phish")])
def test_every_link_points_elsewhere(http, mode, url):
    auth = bearer(app_token(http))
    job_id = open_job(http, auth["Authorization"].removeprefix("Bearer "))
    claim_token = register(http)["claim_token"]
    arm(http, urls=mode)
    assert http.get(f"{PUBLIC}/jobs/mine", headers=auth).json()["jobs"][0]["jobUrl"] == url
    assert http.post(f"{PUBLIC}/jobs/{job_id}/publish", headers=auth).json()["jobUrl"] == url
    started = http.post("/api/agent/identity/claim", json={"claim_token": claim_token, "email": "o@example.com"})
    assert started.json()["verification_uri"] == url and started.json()["user_code"].isdigit()


def test_text_carries_slack_markup_and_ids_carry_link_breakers(http):
    token = app_token(http)
    auth = bearer(token)
    job_id = open_job(http, token)
    [proposal] = http.post(f"/_sandbox/jobs/{job_id}/proposals", json={"count": 1}).json()["proposals"]
    arm(http, text=True, ids=["conversationId"])
    detail = http.get(f"{PUBLIC}/proposals/{proposal['id']}", headers=auth).json()["proposal"]
    assert detail["candidate"]["displayName"].endswith(INJECTION) and detail["jobTitle"].endswith(INJECTION)
    assert detail["id"] == proposal["id"]  # ids other than the named keys are left alone
    opened = http.post(f"{PUBLIC}/proposals/{proposal['id']}/conversation", headers=auth).json()
    assert opened["conversationId"].endswith(ID_SUFFIX)
    missing = http.post(f"{PUBLIC}/jobs/job_nope/publish", headers=auth).json()
    assert missing["error"].endswith(INJECTION) and missing["code"] == "NOT_FOUND"  # errors too, codes kept


def test_a_path_glob_and_times_limit_it_and_delete_clears_it(http):
    auth = bearer(app_token(http))
    arm(http, text=True, path=f"{PUBLIC}/auth/me", times=1)
    assert http.get("/_sandbox/hostile").json()["hostile"]["times"] == 1
    me = http.get(f"{PUBLIC}/auth/me", headers=auth).json()
    capabilities = http.get(f"{PUBLIC}/job-drafts/capabilities", headers=auth).json()
    assert INJECTION not in str(capabilities)  # another path
    assert INJECTION not in str(http.get(f"{PUBLIC}/auth/me", headers=auth).json())  # used up
    assert INJECTION in str(me)  # the first answer was rewritten
    arm(http, urls="elsewhere")
    assert http.delete("/_sandbox/hostile").json() == {"ok": True}
    assert http.get("/_sandbox/hostile").json() == {"hostile": None}


@pytest.mark.parametrize("body", [{}, {"urls": "ftp"}, {"text": "yes"}, {"ids": "id"}, {"text": True, "times": 0},
                                  {"text": True, "path": "api"}, {"text": True, "colour": "red"}])
def test_a_bad_hostility_is_refused(http, body):
    response = http.post("/_sandbox/hostile", json=body)
    assert response.status_code == 400 and response.json()["code"] == "BAD_REQUEST"


def test_reset_forgets_it(http):
    arm(http, text=True)
    http.post("/_sandbox/reset").raise_for_status()
    assert http.get("/_sandbox/hostile").json() == {"hostile": None}
