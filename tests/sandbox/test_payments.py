"""Co-signed money in the sandbox: a hire approval's three ends, the contract it creates, milestones funded and
released through approvals, ending a contract, and the budget states usage moves; every change on /updates."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.support import PUBLIC, app_token, bearer, open_job

MILESTONE = {"name": "First batch", "description": "Label 1,000 posts", "amount": 50, "dueDate": "2026-12-31"}


@pytest.fixture
def http(sandbox_url):
    with httpx.Client(base_url=sandbox_url, timeout=10) as client:
        yield client


def hire(http: httpx.Client, token: str) -> tuple[str, dict]:
    job_id = open_job(http, token)
    [proposal] = http.post(f"/_sandbox/jobs/{job_id}/proposals", json={"count": 1}).json()["proposals"]
    response = http.post(f"{PUBLIC}/proposals/{proposal['id']}/hire", headers=bearer(token),
                         json={"milestone": MILESTONE})
    assert response.status_code == 202, response.text
    return proposal["id"], response.json()["approval"]


def resolve(http: httpx.Client, approval_id: str, decision: str) -> dict:
    response = http.post(f"/_sandbox/approvals/{approval_id}/resolve", json={"decision": decision})
    assert response.status_code == 200, response.text
    return response.json()["approval"]


def events(http: httpx.Client, token: str) -> list[dict]:
    return http.get(f"{PUBLIC}/updates", headers=bearer(token), params={"limit": 200}).json()["events"]


def types(http: httpx.Client, token: str) -> list[str]:
    return [e["type"] for e in events(http, token) if e["type"] != "proposal.received"]


def test_a_confirmed_hire_creates_a_contract_with_its_first_milestone_funded(http):
    token = app_token(http)
    proposal_id, approval = hire(http, token)
    assert approval["type"] == "proposal_hire" and approval["status"] == "pending"

    confirmed = resolve(http, approval["id"], "confirm")
    assert confirmed["status"] == "confirmed" and confirmed["result"]["hired"] is True
    contract_id = confirmed["result"]["contractId"]
    contract = http.get(f"{PUBLIC}/contracts/{contract_id}", headers=bearer(token)).json()["contract"]
    assert contract["paymentType"] == "PAY_PER_LABEL" and contract["proposalId"] == proposal_id
    assert [m["status"] for m in contract["milestones"]] == ["ACTIVE_FUNDED"]
    assert contract["budget"]["state"] == "OK" and contract["budget"]["fundedAmountUsd"] == 50
    assert types(http, token) == ["proposal.status_changed", "contract.created", "milestone.status_changed",
                                  "milestone.status_changed", "approval.confirmed"]
    listed = http.get(f"{PUBLIC}/contracts", headers=bearer(token), params={"status": "active"}).json()
    assert [c["id"] for c in listed["contracts"]] == [contract_id]


def test_a_declined_or_expired_approval_moves_nothing(http):
    token = app_token(http)
    _, declined = hire(http, token)
    assert resolve(http, declined["id"], "decline")["status"] == "declined"
    _, lapsing = hire(http, token)
    http.post("/_sandbox/clock", json={"advanceSeconds": 72 * 3600 + 1})
    assert types(http, token) == ["approval.confirmed"]  # expiry is lazy: nothing until it is read
    read = http.get(f"{PUBLIC}/approvals/{lapsing['id']}", headers=bearer(token)).json()["approval"]
    assert read["status"] == "expired"
    assert [e["data"]["status"] for e in events(http, token) if e["type"] == "approval.confirmed"] == \
        ["declined", "expired"]
    assert http.get(f"{PUBLIC}/contracts", headers=bearer(token)).json()["contracts"] == []
    other = app_token(http)
    assert http.get(f"{PUBLIC}/approvals/{lapsing['id']}", headers=bearer(other)).status_code == 404


def test_milestones_are_added_funded_released_and_the_budget_moves_with_usage(http):
    token = app_token(http)
    _, approval = hire(http, token)
    contract_id = resolve(http, approval["id"], "confirm")["result"]["contractId"]
    contract = http.get(f"{PUBLIC}/contracts/{contract_id}", headers=bearer(token)).json()["contract"]
    rate = contract["rateUsd"]
    path = f"{PUBLIC}/contracts/{contract_id}/milestones"
    wrong = http.post(path, headers=bearer(token), json={"description": "More", "volume": 100, "amountUsd": 1})
    assert wrong.status_code == 400 and wrong.json()["details"]["field"] == "amountUsd"
    added = http.post(path, headers=bearer(token), json={"description": "More", "volume": 100})
    assert added.status_code == 201 and added.json()["milestone"]["status"] == "NOT_FUNDED"
    milestone = added.json()["milestone"]
    assert milestone["amountUsd"] == round(rate * 100, 2)

    funding = http.post(f"{PUBLIC}/milestones/{milestone['id']}/fund", headers=bearer(token))
    assert funding.status_code == 202 and funding.json()["approval"]["type"] == "milestone_fund"
    again = http.post(f"{PUBLIC}/milestones/{milestone['id']}/fund", headers=bearer(token))
    assert again.json()["approval"]["id"] == funding.json()["approval"]["id"]  # idempotent while pending
    resolve(http, funding.json()["approval"]["id"], "confirm")
    release = http.post(f"{PUBLIC}/milestones/{milestone['id']}/approve", headers=bearer(token))
    assert release.status_code == 202
    resolve(http, release.json()["approval"]["id"], "confirm")

    funded = http.get(f"{PUBLIC}/contracts/{contract_id}", headers=bearer(token)).json()["contract"]["budget"]
    usage = f"/_sandbox/contracts/{contract_id}/usage"
    http.post(usage, json={"labels": funded["fundedVolume"] * 0.85})
    http.post(usage, json={"labels": funded["fundedVolume"] * 0.2})
    states = [(e["data"]["previousState"], e["data"]["state"]) for e in events(http, token)
              if e["type"] == "contract.budget_state_changed"]
    assert states == [("OK", "LOW"), ("LOW", "DEPLETED")]
    assert "payment.pending" in types(http, token)

    ended = http.post(f"{PUBLIC}/contracts/{contract_id}/end", headers=bearer(token))
    assert ended.status_code == 202 and ended.json()["approval"]["type"] == "contract_end"  # a funded milestone
    resolve(http, ended.json()["approval"]["id"], "confirm")
    assert http.post(f"{PUBLIC}/contracts/{contract_id}/end", headers=bearer(token)).json()["details"]["reason"] \
        == "contract_ended"


def test_money_needs_its_scope_and_a_payment_method(http):
    reader = app_token(http, ["jobs:read", "jobs:write", "proposals:read", "proposals:write", "payments:read"])
    _, approval = hire(http, reader)
    contract_id = resolve(http, approval["id"], "confirm")["result"]["contractId"]
    refused = http.post(f"{PUBLIC}/contracts/{contract_id}/end", headers=bearer(reader))
    assert refused.status_code == 403 and refused.json()["details"]["requiredScopes"] == ["payments:write"]

    created = http.post("/_sandbox/tokens", json={}).json()
    http.post(f"/_sandbox/accounts/{created['accountId']}/payment-method", json={"onFile": False})
    job_id = open_job(http, created["token"])
    [proposal] = http.post(f"/_sandbox/jobs/{job_id}/proposals", json={"count": 1}).json()["proposals"]
    blocked = http.post(f"{PUBLIC}/proposals/{proposal['id']}/hire", headers=bearer(created["token"]),
                        json={"milestone": MILESTONE})
    assert blocked.status_code == 409 and blocked.json()["details"]["reason"] == "payment_method_required"
    assert blocked.json()["details"]["billingUrl"].startswith("https://app.opentrain.ai/")


def test_an_unfunded_contract_ends_at_once(http):
    token = app_token(http)
    _, approval = hire(http, token)
    contract_id = resolve(http, approval["id"], "confirm")["result"]["contractId"]
    contract = http.get(f"{PUBLIC}/contracts/{contract_id}", headers=bearer(token)).json()["contract"]
    first = contract["milestones"][0]["id"]
    resolve(http, http.post(f"{PUBLIC}/milestones/{first}/approve", headers=bearer(token)).json()["approval"]["id"],
            "confirm")
    ended = http.post(f"{PUBLIC}/contracts/{contract_id}/end", headers=bearer(token))
    assert ended.status_code == 200 and ended.json() == {"ok": True, "contractId": contract_id, "status": "ended"}


def test_the_owner_mints_a_token_that_may_move_money_on_the_same_account(http):
    post_claim = ["jobs:read", "jobs:write", "proposals:read", "proposals:write", "payments:read"]
    created = http.post("/_sandbox/tokens", json={"scopes": post_claim, "email": "boss@example.com"}).json()
    _, approval = hire(http, created["token"])
    contract_id = resolve(http, approval["id"], "confirm")["result"]["contractId"]

    minted = http.post("/_sandbox/accounts/tokens", json={"email": "Boss@example.com"})
    assert minted.status_code == 201, minted.text
    assert minted.json()["accountId"] == created["accountId"] and "payments:write" in minted.json()["scopes"]
    added = http.post(f"{PUBLIC}/contracts/{contract_id}/milestones", headers=bearer(minted.json()["token"]),
                      json={"description": "Week 2", "volume": 10})
    assert added.status_code == 201, added.text

    assert http.post("/_sandbox/accounts/tokens", json={"email": "nobody@example.com"}).status_code == 404
    unknown_scope = http.post("/_sandbox/accounts/tokens", json={"email": "boss@example.com", "scopes": ["root"]})
    assert unknown_scope.status_code == 400
