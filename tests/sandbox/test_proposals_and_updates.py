"""Proposals arriving on a job, the /updates ledger, and the claim-gated conversation and hire actions."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.support import PUBLIC, app_token, bearer, open_job, register


@pytest.fixture
def http(sandbox_url):
    with httpx.Client(base_url=sandbox_url, timeout=10) as client:
        yield client


def add_proposals(http: httpx.Client, job_id: str, count: int) -> list[dict]:
    response = http.post(f"/_sandbox/jobs/{job_id}/proposals", json={"count": count})
    assert response.status_code == 201, response.text
    return response.json()["proposals"]


def test_proposals_arrive_and_page_newest_first(http):
    token = register(http)["access_token"]  # reading proposals works pre-claim
    auth = bearer(token)
    job_id = open_job(http, token)
    created = add_proposals(http, job_id, 3)
    for proposal in created:
        candidate = proposal["candidate"]
        assert candidate["displayName"] == f"{candidate['firstName']} {candidate['lastNameInitial']}."
        assert proposal["bid"]["amountUsd"] > 0 and proposal["status"]["raw"] == "UNREVIEWED"

    first = http.get(f"{PUBLIC}/jobs/{job_id}/proposals", headers=auth, params={"limit": 2}).json()
    assert [p["id"] for p in first["proposals"]] == [created[2]["id"], created[1]["id"]]
    assert first["nextCursor"] == created[1]["id"]
    rest = http.get(f"{PUBLIC}/jobs/{job_id}/proposals", headers=auth,
                    params={"limit": 2, "cursor": first["nextCursor"]}).json()
    assert [p["id"] for p in rest["proposals"]] == [created[0]["id"]] and rest["nextCursor"] is None

    changed = http.post(f"/_sandbox/proposals/{created[0]['id']}/status", json={"status": "not a fit"})
    assert changed.json()["proposal"]["status"]["raw"] == "NOT_A_FIT"
    filtered = http.get(f"{PUBLIC}/jobs/{job_id}/proposals", headers=auth, params={"status": "Not-A-Fit"}).json()
    assert [p["id"] for p in filtered["proposals"]] == [created[0]["id"]]
    bad = http.get(f"{PUBLIC}/jobs/{job_id}/proposals", headers=auth, params={"status": "great"})
    assert bad.status_code == 400 and "SHORTLISTED" in bad.json()["details"]["supportedStatuses"]

    detail = http.get(f"{PUBLIC}/proposals/{created[0]['id']}", headers=auth).json()["proposal"]
    assert detail["aiInterview"]["summary"] and detail["contract"] is None
    assert http.get(f"{PUBLIC}/proposals/prop_missing", headers=auth).status_code == 404
    stranger = bearer(app_token(http))
    assert http.get(f"{PUBLIC}/jobs/{job_id}/proposals", headers=stranger).status_code == 403
    assert http.get(f"{PUBLIC}/proposals/{created[0]['id']}", headers=stranger).status_code == 403
    assert http.post("/_sandbox/jobs/job_missing/proposals", json={"count": 1}).status_code == 404


def test_updates_ledger_cursor_and_scope_filtering(http):
    owner = app_token(http)
    auth = bearer(owner)
    job_id = open_job(http, owner)
    created = add_proposals(http, job_id, 3)
    http.post(f"/_sandbox/proposals/{created[0]['id']}/status", json={"status": "SHORTLISTED"}).raise_for_status()

    page = http.get(f"{PUBLIC}/updates", headers=auth, params={"limit": 2}).json()
    assert [e["type"] for e in page["events"]] == ["proposal.received", "proposal.received"]
    assert page["hasMore"] is True and page["nextCursor"] == page["events"][-1]["id"]
    assert page["events"][0]["data"] == {"proposalId": created[0]["id"], "jobId": job_id}
    rest = http.get(f"{PUBLIC}/updates", headers=auth, params={"cursor": page["nextCursor"]}).json()
    assert [e["type"] for e in rest["events"]] == ["proposal.received", "proposal.status_changed"]
    assert rest["events"][-1]["data"] == {"proposalId": created[0]["id"], "status": "SHORTLISTED"}
    assert rest["hasMore"] is False
    ids = [int(e["id"]) for e in page["events"] + rest["events"]]
    assert ids == sorted(ids)
    empty = http.get(f"{PUBLIC}/updates", headers=auth, params={"cursor": rest["nextCursor"]}).json()
    assert empty == {"events": [], "nextCursor": rest["nextCursor"], "hasMore": False}

    # Events a token cannot read are filtered out; a token with no reading scope is refused.
    messages_only = http.post(f"{PUBLIC}/tokens", headers=auth, json={"scopes": ["messages:read"]}).json()["token"]
    assert http.get(f"{PUBLIC}/updates", headers=bearer(messages_only)).json()["events"] == []
    jobs_only = http.post(f"{PUBLIC}/tokens", headers=auth, json={"scopes": ["jobs:read"]}).json()["token"]
    refused = http.get(f"{PUBLIC}/updates", headers=bearer(jobs_only))
    assert refused.status_code == 403 and "proposals:read" in refused.json()["details"]["requiredScopes"]
    # Another account never sees these events.
    assert http.get(f"{PUBLIC}/updates", headers=bearer(app_token(http))).json()["events"] == []
    for params in ({"limit": 0}, {"limit": 201}, {"cursor": "abc"}):
        assert http.get(f"{PUBLIC}/updates", headers=auth, params=params).status_code == 400


def test_conversation_and_hire_need_a_claimed_account(http):
    unclaimed = http.post("/_sandbox/tokens", json={"claimed": False}).json()["token"]
    job_id = open_job(http, unclaimed)
    proposal_id = add_proposals(http, job_id, 1)[0]["id"]
    milestone = {"name": "First batch", "amount": 300, "dueDate": "2030-07-01"}

    gated = http.post(f"{PUBLIC}/proposals/{proposal_id}/hire", headers=bearer(unclaimed),
                      json={"milestone": milestone})
    assert gated.status_code == 403
    assert gated.json()["details"]["reason"] == "account_claim_required" and gated.json()["details"]["claimUrl"]
    gated = http.post(f"{PUBLIC}/proposals/{proposal_id}/conversation", headers=bearer(unclaimed))
    assert gated.json()["details"]["reason"] == "account_claim_required"

    owner = app_token(http)
    auth = bearer(owner)
    job_id = open_job(http, owner)
    proposal_id = add_proposals(http, job_id, 1)[0]["id"]
    opened = http.post(f"{PUBLIC}/proposals/{proposal_id}/conversation", headers=auth).json()
    assert opened["created"] is True
    reopened = http.post(f"{PUBLIC}/proposals/{proposal_id}/conversation", headers=auth).json()
    assert reopened["created"] is False and reopened["conversationId"] == opened["conversationId"]

    hire = http.post(f"{PUBLIC}/proposals/{proposal_id}/hire", headers=auth, json={"milestone": milestone})
    assert hire.status_code == 202, hire.text
    approval = hire.json()["approval"]
    assert (approval["type"], approval["status"], approval["proposalId"]) == ("proposal_hire", "pending", proposal_id)
    same = http.post(f"{PUBLIC}/proposals/{proposal_id}/hire", headers=auth, json={"milestone": milestone})
    assert same.json()["approval"]["id"] == approval["id"]
    changed = http.post(f"{PUBLIC}/proposals/{proposal_id}/hire", headers=auth,
                        json={"milestone": {**milestone, "amount": 400}})
    assert changed.json()["approval"]["id"] != approval["id"]
    invalid = http.post(f"{PUBLIC}/proposals/{proposal_id}/hire", headers=auth, json={"milestone": {"amount": -1}})
    assert invalid.status_code == 400 and invalid.json()["details"]["issues"]

    pre_claim = bearer(register(http)["access_token"])  # lacks proposals:write: the scope gate comes first
    refused = http.post(f"{PUBLIC}/proposals/{proposal_id}/hire", headers=pre_claim, json={"milestone": milestone})
    assert refused.status_code == 403 and refused.json()["details"]["requiredScopes"] == ["proposals:write"]
