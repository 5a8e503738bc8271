"""The contract card and the hire request drawn from hostile values: names, titles and milestone text stay inert,
an untrusted approval link is never a button, and the card offers only the moves the contract allows."""

from __future__ import annotations

import json

from bot.opentrain.models import Contract
from bot.slack.blocks.contracts import ApprovalBadge, contract_card, hire_request_blocks, masked
from bot.slack.blocks.conversation import SlackMessage

EVIL = " <!here> <@U123> <https://evil.example|click> @everyone"


def hostile_contract(**overrides) -> Contract:
    return Contract.model_validate({
        "id": "ctr_1", "status": "active", "title": f"Dashcam{EVIL}", "jobId": "job_1", "paymentType": "PAY_PER_HOUR",
        "rateUsd": 18.5, "freelancer": {"displayName": f"Maria Garcia{EVIL}"},
        "budget": {"state": "LOW"},
        "milestones": [{"id": "mil_1", "name": f"Batch{EVIL}", "description": "d", "status": "NOT_FUNDED",
                        "amountUsd": 185, "volume": 10},
                       {"id": "mil_2", "name": "Paid one", "status": "PAID", "amountUsd": 10}], **overrides})


def everything(message: SlackMessage) -> str:
    return message.text + json.dumps(message.blocks)


def test_outside_text_is_inert_in_blocks_and_fallback():
    card = contract_card(hostile_contract(), [ApprovalBadge("apr_1", "milestone_fund", "pending",
                                                            "javascript:alert(document.cookie)", "UREQ", None,
                                                            "mil_1")])
    shown = everything(card)
    assert "<!here>" not in shown and "<@U123>" not in shown and "<https://evil" not in shown
    # The client's link policy trusted every approval URL it passed on; one that cannot be a link is no button.
    assert "javascript" not in shown
    assert "<@UREQ>" in shown  # the requester the bot itself recorded


def test_the_card_offers_only_the_moves_the_contract_allows():
    card = contract_card(hostile_contract(), [])
    labels = [e["text"]["text"] for b in card.blocks for e in [*b.get("elements", []), b.get("accessory") or {}]
              if e.get("type") == "button"]
    assert labels == ["Fund milestone", "Add milestone", "End contract"]
    assert all("confirm" in e for b in card.blocks for e in [*b.get("elements", []), b.get("accessory") or {}]
               if e.get("action_id") in ("contract:fund", "contract:release", "contract:end"))
    ended = contract_card(hostile_contract(status="ended"), [])
    assert not [b for b in ended.blocks if b.get("type") == "actions" or b.get("accessory")]


def test_a_trainer_is_masked_and_a_hire_request_shows_who_and_until_when():
    assert masked("Maria Garcia") == "Maria G." and masked("Maria G.") == "Maria G." and masked(None) == "The trainer"
    pending = hire_request_blocks(ApprovalBadge("apr_1", "proposal_hire", "pending",
                                                "https://app.opentrain.ai/approvals/apr_1", "UREQ",
                                                "2026-06-15T10:00:00.000Z"))
    shown = json.dumps(pending)
    assert "waiting for approval in OpenTrain" in shown and "<@UREQ>" in shown and "Jun 15, 10:00 UTC" in shown
    assert any(e.get("url") == "https://app.opentrain.ai/approvals/apr_1" for b in pending
               for e in b.get("elements", []))
