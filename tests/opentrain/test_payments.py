"""Money through the client against the sandbox: approvals read and tracked, contracts, milestones, ending, and
the typed refusals (payment method with its billing link, missing scope, feature off)."""

from __future__ import annotations

import pytest

from bot.opentrain import errors
from tests.opentrain.test_jobs import open_job


async def hired(owner, sandbox) -> str:
    """A confirmed hire's contract id."""
    job_id = await open_job(owner)
    [proposal] = (await sandbox.call("POST", f"jobs/{job_id}/proposals", {"count": 1}))["proposals"]
    hire = await owner.request_hire(proposal["id"], "First batch", 300, "2026-07-01")
    await sandbox.call("POST", f"approvals/{hire.approval.id}/resolve", {"decision": "confirm"})
    approval = await owner.get_approval(hire.approval.id)
    assert approval.ended and approval.status == "confirmed" and approval.result
    return str(approval.result["contractId"])


async def test_contract_milestones_and_their_approvals(client, sandbox):
    owner = client.with_token(await sandbox.token())
    contract_id = await hired(owner, sandbox)
    [listed] = await owner.contracts(status="active")
    contract = await owner.get_contract(contract_id)
    assert listed.id == contract.id and contract.budget is not None and contract.budget.state == "OK"
    assert contract.freelancer.display_name and [m.status for m in contract.milestones] == ["ACTIVE_FUNDED"]

    added = await owner.add_milestone(contract_id, "Second batch", name="Batch 2", volume=10,
                                      amount_usd=round((contract.rate_usd or 0) * 10, 2), due_date="2026-08-01")
    assert added.status == "NOT_FUNDED"
    funding = await owner.fund_milestone(added.id)
    assert funding.approval.type == "milestone_fund" and not funding.approval.ended
    assert funding.approval.approval_url == f"https://app.opentrain.ai/approvals/{funding.approval.id}"
    release = await owner.release_milestone(contract.milestones[0].id)
    assert release.approval.type == "milestone_approve"
    with pytest.raises(errors.Conflict) as refused:
        await owner.release_milestone(added.id)
    assert refused.value.reason == "milestone_not_funded"

    ended = await owner.end_contract(contract_id)
    assert ended.approval is not None and ended.approval.type == "contract_end"
    await sandbox.advance(72 * 3600 + 1)
    assert (await owner.get_approval(ended.approval.id)).status == "expired"


async def test_money_refusals_are_typed(client, sandbox):
    created = await sandbox.call("POST", "tokens", {})
    owner = client.with_token(created["token"])
    contract_id = await hired(owner, sandbox)
    await sandbox.call("POST", f"accounts/{created['accountId']}/payment-method", {"onFile": False})
    contract = await owner.get_contract(contract_id)
    added = await owner.add_milestone(contract_id, "More", volume=5)
    with pytest.raises(errors.Conflict) as no_card:
        await owner.fund_milestone(added.id)
    assert no_card.value.payment_method_required and no_card.value.billing_url

    reader = client.with_token(await sandbox.token(scopes=["jobs:read", "payments:read"]))
    with pytest.raises(errors.MissingScope) as scope:
        await reader.end_contract(contract.id)
    assert scope.value.required_scopes == ["payments:write"]
    await sandbox.call("POST", "features", {"public_api_payments_write": False})
    with pytest.raises(errors.FeatureDisabled) as off:
        await owner.end_contract(contract.id)
    assert off.value.feature_key == "public_api_payments_write"
