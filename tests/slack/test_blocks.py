"""Every Block Kit message stays within Slack's limits and carries a plain-text fallback, whatever the engine says."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.hiring.views import ClaimInstructions, Question, ReviewCard, ReviewField, UnmappedField
from bot.slack.blocks import conversation as blocks

text = st.text(min_size=1, max_size=4000)
short = st.text(min_size=1, max_size=200)
key = st.from_regex(r"[a-z][a-zA-Z]{0,40}", fullmatch=True)
CONVERSATION = "C0123456789:1700000000.000100"


def assert_within_limits(message: blocks.SlackMessage) -> None:
    assert message.text.strip() and len(message.text) <= 40_000
    assert len(message.blocks) <= 50
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
        elements = block.get("elements", []) if block["type"] == "actions" else []
        elements += [block["accessory"]] if "accessory" in block else []
        assert len(elements) <= 25
        for element in elements:
            if element["type"] == "button":
                assert len(element["text"]["text"]) <= 75 and len(element["value"]) <= 2000
            if element["type"] == "static_select":
                assert 1 <= len(element["options"]) <= 100
                for option in element["options"]:
                    assert len(option["text"]["text"]) <= 75 and len(option["value"]) <= 150
                    assert blocks.parse_action_value(option["value"])[0] == CONVERSATION
    json.dumps(message.blocks)


@settings(max_examples=60, deadline=None)
@given(
    fields=st.lists(st.builds(ReviewField, key=key, label=short, value=text, low_confidence=st.booleans(),
                              confirmed=st.booleans()), max_size=120),
    warnings=st.lists(text, max_size=30),
    unmapped=st.lists(st.builds(UnmappedField, path=short, reason=short, preview=text), max_size=30),
)
def test_review_cards_fit_slack(fields, warnings, unmapped):
    card = ReviewCard(job_id="job_1", fields=fields, warnings=warnings, unmapped=unmapped,
                      review_url="https://app.opentrain.ai/jobs/job_1", missing=[f.key for f in fields[:3]])
    message = blocks.review_card(card, CONVERSATION)
    assert_within_limits(message)
    actions = message.blocks[-1]
    assert actions["type"] == "actions" and actions["elements"][-1]["text"]["text"] == "Cancel"


@settings(max_examples=60, deadline=None)
@given(choices=st.lists(st.tuples(st.text(min_size=1, max_size=300), short), max_size=150),
       prompt=text, label=short)
def test_questions_use_buttons_up_to_five_choices_then_a_menu(choices, prompt, label):
    question = Question(field="f", key="f", label=label, text=prompt, type="enum", position="1 of 2",
                        hint="a hint", example="an example", choices=choices)
    message = blocks.question(question, CONVERSATION)
    assert_within_limits(message)
    kinds = [e["type"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    if not choices:
        assert kinds == []
    elif len(choices) <= 5:
        assert kinds == ["button"] * len(choices)
    else:
        assert kinds == ["static_select"]


def test_claim_messages_and_the_rest_fit_slack():
    for state in ("waiting", "claimed", "expired", "needs_email", "failed"):
        view = ClaimInstructions(state=state, verification_uri="https://app.opentrain.ai/claim?token=ot_cat_x",
                                 user_code="439218", expires_at=1_800_000_000, email="rita@example.com")
        message = blocks.claim_dm(view, CONVERSATION)
        assert_within_limits(message)
        assert ("439218" in message.text) == (state == "waiting")
        assert ("Restart" in json.dumps(message.blocks)) == (state in ("expired", "failed"))
    for message in (blocks.usage(), blocks.root_message("U1", "x" * 70_000), blocks.answered_question("L", "a" * 9000),
                    blocks.status_list([])):
        assert_within_limits(message)


def test_a_question_without_a_position_shows_none():
    reopened = Question(field="f", key="f", label="Headcount", text="How many?", type="integer", position="")
    message = blocks.question(reopened, CONVERSATION)
    assert message.text.startswith("Headcount: ") and "()" not in json.dumps(message.blocks)
