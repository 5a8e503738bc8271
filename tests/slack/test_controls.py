"""Answering through Slack's controls: who may answer, a menu of many choices, and the review card's Edit and Cancel
(with the warnings and unused input it shows), each driven by signed requests like Slack's own."""

from __future__ import annotations

import httpx
import pytest

from bot.app import serve_http
from bot.sandbox import catalog
from bot.slack.blocks.conversation import parse_action_value
from tests.slack.conftest import DEMO, REQUESTER, STRANGER, HttpSlack, Person, controls, labels, text_of
from tests.slack.story import eventually, in_thread, root_of
from tests.support.slack_api import PostedMessage, SlackApiStandIn

# Pay in euros and a deadline: the draft carries a conversion warning and a deadline it cannot use.
EUROS_AND_A_DEADLINE = "We need 10 annotators for 50,000 dashcam images, €18/hour, English, deadline March 1"
# Too long to travel in an option's value (150 characters) together with the conversation id.
LONG_LEVEL = "CERTIFIED_" + "DOMAIN_SPECIALIST_" * 7 + "ONLY"
MENU = "Choose Experience level"  # the placeholder of the experience level's menu


@pytest.fixture
def seven_experience_levels(monkeypatch):
    """The sandbox (it runs in this process) offering seven experience levels: more than five buttons' worth."""
    levels = [*catalog.EXPERIENCE_LEVELS, "SENIOR", "PRINCIPAL", LONG_LEVEL]
    monkeypatch.setitem(catalog.ENUMS, "experienceLevel", levels)
    return levels


async def first_questions(person: Person, api: SlackApiStandIn,
                          description: str) -> tuple[PostedMessage, PostedMessage]:
    """`/hire`, then the label types typed in reply to the first question; (root, the experience level question)."""
    assert await person.hire(description) == 200
    root = await eventually(lambda: root_of(api), "the root message")
    first = await eventually(lambda: in_thread(api, root, "(1 of"), "the first question")
    assert "Label types" in first.text
    assert await person.say("Bounding box", root) == 200
    return root, await eventually(lambda: in_thread(api, root, "(2 of"), "the experience level question")


async def test_anyone_in_the_channel_may_answer_when_allowed(make_settings, slack_api):
    async with (
        serve_http(make_settings(allow_anyone_to_answer=True), port=0) as server,
        httpx.AsyncClient(timeout=10) as http,
    ):
        slack = HttpSlack([server.url], http)
        requester, colleague = Person(REQUESTER, slack, slack_api), Person(STRANGER, slack, slack_api)
        assert await requester.hire(DEMO) == 200
        root = await eventually(lambda: root_of(slack_api), "the root message")
        first = await eventually(lambda: in_thread(slack_api, root, "(1 of"), "the first question")
        assert await colleague.say("Bounding box", root) == 200
        second = await eventually(lambda: in_thread(slack_api, root, "(2 of"), "the second question")
        assert await colleague.click(second, "Expert") == 200
        card = await eventually(lambda: in_thread(slack_api, root, "Review your job"), "the review card")
        assert "Expert" in text_of(card) and "Bounding box" in text_of(card)
        assert first.updates == 1 and second.updates == 1 and not labels(second)
        assert not slack_api.calls_to("chat.postEphemeral")  # nobody was told "only the requester"


async def test_many_choices_are_a_menu_and_picking_one_answers_like_typing_it(make_settings, slack_api,
                                                                                 seven_experience_levels):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        root, question = await first_questions(requester, slack_api, DEMO)
        menu = controls(question.blocks)
        assert [e["type"] for e in menu] == ["static_select"] and MENU in text_of(question)
        says = [parse_action_value(o["value"])[1] for o in menu[0]["options"]]
        assert says == [str(n) for n in range(1, 8)]  # a choice travels as its number, never as OpenTrain's value
        long_label = labels(question)[-1]
        assert long_label.endswith("…")  # clipped for the menu; the full value is what gets saved

        assert await requester.click(question, "Senior") == 200
        card = await eventually(lambda: in_thread(slack_api, root, "Review your job"), "the review card")
        assert "*Experience level*: Senior" in text_of(card)
        assert question.updates == 1 and not labels(question) and "Senior" in question.text

        assert await requester.click(card, "Experience level") == 200  # the card's "Edit a field" menu
        reopened = await eventually(lambda: next((m for m in slack_api.thread(root.channel, root.ts)
                                                  if MENU in text_of(m) and m.ts != question.ts), None),
                                    "the experience level asked again")
        assert "Editing" in card.text and not labels(card)

        assert await requester.click(reopened, long_label) == 200
        full_label = "Certified " + "domain specialist " * 7 + "only"
        fresh = await eventually(lambda: in_thread(slack_api, root, "Review your job"), "a new review card")
        assert fresh.ts != card.ts and f"*Experience level*: {full_label}" in text_of(fresh)
        assert reopened.updates == 1 and not labels(reopened)


async def test_the_review_card_shows_warnings_and_unused_input_and_cancels(make_settings, slack_api):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        root, question = await first_questions(requester, slack_api, EUROS_AND_A_DEADLINE)
        assert await requester.click(question, "Intermediate") == 200
        card = await eventually(lambda: in_thread(slack_api, root, "Review your job"), "the review card")
        shown = text_of(card)
        assert ":warning: Converted 18 EUR to 19.44 USD" in shown
        assert "Not used from your description" in shown and "`deadline`" in shown and "March 1" in shown
        assert {"Cancel", "Experience level"} <= set(labels(card))  # Cancel, and the field in the Edit menu

        assert await requester.click(card, "Cancel") == 200
        await eventually(lambda: in_thread(slack_api, root, "Nothing was published"), "the cancellation notice")
        await eventually(lambda: "cancelled" in root.text, "the root message showing the job was cancelled")
        assert card.text == "Cancelled." and not labels(card)
