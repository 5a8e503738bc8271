"""Every Slack builder fed outside text full of Slack markup: the blocks and the `text` fallback stay inert.

Ids and URLs reach the builders already checked (`OpenTrainClient` and the link policy); everything a person or
OpenTrain writes (descriptions, labels, prompts, values, warnings, names, refusals) is hostile here.
"""

from __future__ import annotations

import json

import pytest

from bot.hiring.views import (
    ClaimConfirm,
    ClaimInstructions,
    EmailRequest,
    Link,
    Mention,
    Notice,
    Published,
    Question,
    ReviewCard,
    ReviewField,
    Status,
    Strong,
    UnmappedField,
)
from bot.slack.blocks import conversation as blocks
from bot.slack.blocks import proposals as cards
from bot.slack.blocks.conversation import SlackMessage
from tests.support.proposals import make_card
from tests.support.untrusted import HOSTILE_TEXT, outside_markup

H = HOSTILE_TEXT
JOB = "https://app.opentrain.ai/jobs/job_1"
FIELD = ReviewField("jobTitle", f"Job title {H}", f"Dashcam {H}", low_confidence=True)


def hostile_card(**overrides):
    return make_card(jobTitle=f"Dashcam {H}", candidate={"displayName": f"Maria {H}", "profileTitle": f"Boxes {H}",
                                                         "country": f"Spain {H}"}, bid={"amountUsd": 18, "unit": H},
                     **overrides)


MESSAGES = {
    "root": lambda: blocks.root_message("UREQ", f"We need {H}\nmore", "published", JOB),
    "notice": lambda: blocks.notice(Notice(f"OpenTrain said: {H}", "error")),
    "claim confirm": lambda: blocks.claim_confirm(ClaimConfirm(f"owner{H}@example.com"), "C1:1.0"),
    "question": lambda: blocks.question(Question("labelTypes", "labelTypes", f"Label types {H}", f"What? {H}",
                                                 "array", "1 of 2", hint=f"hint {H}", example=f"e.g. {H}",
                                                 current=f"now {H}"), "C1:1.0"),
    "question with buttons": lambda: blocks.question(Question(
        "level", "level", H, H, "enum", "2 of 2", choices=[("A", f"Expert {H}"), ("B", H)]), "C1:1.0"),
    "question with a menu": lambda: blocks.question(Question(
        "level", "level", H, H, "enum", "2 of 2", choices=[(f"v{i}", f"{i} {H}") for i in range(8)]), "C1:1.0"),
    "answered": lambda: blocks.answered_question(f"Label {H}", f"Bounding box {H}"),
    "review card": lambda: blocks.review_card(ReviewCard(
        "job_1", [FIELD, ReviewField("headcount", H, H)], warnings=[H], unmapped=[UnmappedField(H, H, H)],
        review_url="https://app.opentrain.ai/job-post?jobId=job_1", missing=[H]), "C1:1.0"),
    "review closed": lambda: blocks.review_closed(H),
    "published": lambda: blocks.published(Published("job_1", JOB, warnings=[H])),
    "status": lambda: blocks.status_list([(f"We need {H}", Status("asking", "job_1", [FIELD], [H]))]),
    "plain": lambda: blocks.plain(H),
    "email request": lambda: blocks.email_request(EmailRequest(H, reason=H), "C1:1.0", suggestion="me@x.io"),
    "claim waiting": lambda: blocks.claim_dm(ClaimInstructions(
        "waiting", "http://127.0.0.1:8700/claim?token=ot_cat_x", "123456", 1.8e9, f"rita@example.com {H}"), "C1:1"),
    "claim needs email": lambda: blocks.claim_dm(ClaimInstructions("needs_email", message=H), "C1:1"),
    "claim failed": lambda: blocks.claim_dm(ClaimInstructions("failed", message=H), "C1:1"),
    "proposal card": lambda: cards.proposal_card(hostile_card()),
    "digest": lambda: cards.proposal_digest([hostile_card(), hostile_card(), hostile_card()]),
    "action outcome": lambda: SlackMessage(text=cards.mrkdwn((
        f"The conversation with {H} is open: ", Link("https://app.opentrain.ai/messages?conversationId=c", H),
        " ", Strong(H), " ", Mention("UREQ"), " ", Mention("U1> <!here"), f" OpenTrain said: {H}"))),
    "hire modal": lambda: SlackMessage(text="", blocks=cards.hire_modal("{}", f"Maria {H}")["blocks"]),
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_outside_text_stays_text_in_blocks_and_fallback(name):
    message = MESSAGES[name]()
    for part in [message.text, *strings(message.blocks)]:
        found = outside_markup(part, users={"UREQ"}, hosts=frozenset({"app.opentrain.ai", "127.0.0.1"}))
        assert not found, f"{name}: {found[0]} in {part[:300]!r}"
    shown = message.text + json.dumps(message.blocks)
    assert "&lt;!here&gt;" in shown or name in ("only requester", "claim waiting")  # the hostile text, as text


def test_a_foreign_or_broken_url_never_becomes_a_link_in_a_builder():
    # The client drops untrusted URLs first; the builders still only link what cannot break out of `<url|label>`.
    for url in ("javascript:alert(1)", "https://app.opentrain.ai/x|<!here>", "https://app.opentrain.ai/x>"):
        for message in (blocks.published(Published("job_1", url)), blocks.root_message("UREQ", "x", "published", url),
                        blocks.claim_dm(ClaimInstructions("waiting", url, "123456"), "C1:1")):
            assert all(not outside_markup(part, users={"UREQ"}) for part in [message.text, *strings(message.blocks)])


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []
