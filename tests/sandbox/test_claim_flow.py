"""The agent-auth claim ceremony, end to end over HTTP: register, start, poll, confirm, deliver, revoke."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.support import PUBLIC, bearer, register

GRANT = "urn:opentrain:agent-auth:grant-type:claim"
POST_CLAIM_SCOPES = {"jobs:read", "jobs:write", "proposals:read", "proposals:write", "messages:read",
                     "messages:write", "payments:read", "team:read", "team:write"}


@pytest.fixture
def http(sandbox_url):
    with httpx.Client(base_url=sandbox_url, timeout=10) as client:
        yield client


def poll(http: httpx.Client, claim_token: str | None, grant_type: str | None = GRANT) -> httpx.Response:
    form = {k: v for k, v in {"grant_type": grant_type, "claim_token": claim_token}.items() if v is not None}
    return http.post("/api/agent/oauth/token", data=form)


def oauth_error(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    return response.json()["error"]


def advance(http: httpx.Client, seconds: float) -> None:
    http.post("/_sandbox/clock", json={"advanceSeconds": seconds}).raise_for_status()


def start(http: httpx.Client, claim_token: str, email: str) -> httpx.Response:
    return http.post("/api/agent/identity/claim", json={"claim_token": claim_token, "email": email})


def confirm(http: httpx.Client, user_code: str, email: str) -> httpx.Response:
    return http.post("/_sandbox/claims/confirm", json={"user_code": user_code, "email": email})


def test_claim_ceremony_from_registration_to_revocation(http):
    registration = register(http, agent_name="hirebot")
    pre_claim = registration["access_token"]
    claim_token = registration["claim_token"]
    assert pre_claim.startswith("ot_pat_") and claim_token.startswith("ot_clm_")
    assert http.get(f"{PUBLIC}/auth/me", headers=bearer(pre_claim)).json()["account"]["claimed"] is False

    # Before any claim attempt: pending; polling faster than the interval: slow_down.
    assert oauth_error(poll(http, claim_token)) == "authorization_pending"
    assert oauth_error(poll(http, claim_token)) == "slow_down"

    # An email that already has an account is refused.
    http.post("/_sandbox/users", json={"email": "taken@example.com"}).raise_for_status()
    refused = start(http, claim_token, "taken@example.com")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"
    assert "email_already_registered" in refused.json()["error_description"]

    first = start(http, claim_token, "owner@example.com").json()
    assert len(first["user_code"]) == 6 and first["user_code"].isdigit()
    assert "token=ot_cat_" in first["verification_uri"]
    assert (first["expires_in"], first["interval"], first["email_sent"]) == (1800, 5, True)

    # Restarting issues a new code and the old one stops working.
    second = start(http, claim_token, "owner@example.com").json()
    assert second["user_code"] != first["user_code"]
    stale = confirm(http, first["user_code"], "owner@example.com")
    assert stale.status_code == 404 and stale.json()["code"] == "NOT_FOUND"
    wrong_email = confirm(http, second["user_code"], "x@example.com")
    assert wrong_email.status_code == 409

    # A lapsed 30-minute attempt cannot be confirmed; the poll keeps saying pending.
    advance(http, 1801)
    lapsed = confirm(http, second["user_code"], "owner@example.com")
    assert lapsed.status_code == 409 and "expired" in lapsed.json()["error"]
    lapsed_poll = poll(http, claim_token)
    assert oauth_error(lapsed_poll) == "authorization_pending"
    assert "attempt_expired" in lapsed_poll.json()["error_description"]

    third = start(http, claim_token, "owner@example.com").json()
    confirmed = confirm(http, third["user_code"], "OWNER@example.com")
    assert confirmed.status_code == 200, confirmed.text
    # Confirmation revokes every pre-claim token at once.
    assert http.get(f"{PUBLIC}/auth/me", headers=bearer(pre_claim)).status_code == 401

    advance(http, 5)
    granted = poll(http, claim_token)
    assert granted.status_code == 200, granted.text
    claimed_token = granted.json()["access_token"]
    assert set(granted.json()["scopes"]) == POST_CLAIM_SCOPES and len(granted.json()["scopes"]) == 9
    me = http.get(f"{PUBLIC}/auth/me", headers=bearer(claimed_token)).json()
    assert me["account"]["claimed"] is True and me["actor"]["email"] == "owner@example.com"

    # The token is handed out exactly once; the email now belongs to an account.
    advance(http, 5)
    assert oauth_error(poll(http, claim_token)) == "invalid_grant"
    assert "email_already_registered" in start(http, register(http)["claim_token"], "owner@example.com").text

    assert http.post("/api/agent/oauth/revoke", data={"token": claimed_token}).json() == {}
    assert http.get(f"{PUBLIC}/auth/me", headers=bearer(claimed_token)).status_code == 401
    assert http.post("/api/agent/oauth/revoke", data={"token": "ot_pat_unknown"}).status_code == 200
    assert oauth_error(http.post("/api/agent/oauth/revoke", data={})) == "invalid_request"


def test_poll_and_start_refusals(http):
    claim_token = register(http)["claim_token"]
    assert oauth_error(poll(http, "ot_clm_nope")) == "invalid_grant"
    assert oauth_error(poll(http, claim_token, grant_type="password")) == "unsupported_grant_type"
    assert oauth_error(poll(http, None)) == "invalid_request"
    assert oauth_error(start(http, "ot_clm_nope", "a@example.com")) == "invalid_request"
    assert oauth_error(http.post("/api/agent/identity/claim", json={"claim_token": claim_token})) == "invalid_request"
    unsupported = http.post("/api/agent/identity", json={"identity_type": "service"})
    assert unsupported.json() == {"error": "unsupported_identity_type",
                                  "error_description": "only identity_type=anonymous is supported"}

    # After the 24 h window the claim is over: the poll says expired_token, a new start is refused.
    advance(http, 24 * 3600 + 1)
    assert oauth_error(poll(http, claim_token)) == "expired_token"
    assert "expired" in start(http, claim_token, "late@example.com").json()["error_description"]

    http.post("/_sandbox/features", json={"agent_anonymous_registration": False}).raise_for_status()
    disabled = http.post("/api/agent/identity", json={})
    assert disabled.status_code == 403 and disabled.json() == {"error": "anonymous_not_enabled"}


def test_the_claim_page_lets_a_human_confirm(http):
    claim_token = register(http)["claim_token"]
    attempt = start(http, claim_token, "human@example.com").json()
    page = http.get(attempt["verification_uri"])
    assert page.status_code == 200 and "user_code" in page.text
    done = http.post("/claim", data={"email": "human@example.com", "user_code": attempt["user_code"]})
    assert done.status_code == 200 and "Claimed" in done.text
    advance(http, 5)
    assert poll(http, claim_token).status_code == 200
