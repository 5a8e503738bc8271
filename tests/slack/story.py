"""The whole hiring story as a requester lives it in Slack, shared by the HTTP, two-instance and Socket Mode tests.

`/hire` -> root message + first question in its thread -> a button click -> a typed answer -> review card ->
flagged fields confirmed -> Publish -> job link in the thread, root updated -> claim DM (code only in the DM) ->
the human confirms in the sandbox -> the DM says claimed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import httpx

from tests.slack.conftest import CHANNEL, DEMO, REQUESTER, REQUESTER_EMAIL, Person, labels, text_of
from tests.support.slack_api import PostedMessage, SlackApiStandIn

T = TypeVar("T")
CODE = re.compile(r"code \*?(\d{6})\*?")


async def eventually(probe: Callable[[], T | None], what: str, timeout: float = 20.0) -> T:
    """Poll `probe` until it returns something truthy (the app works after acking, so effects land later)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def root_of(api: SlackApiStandIn, channel: str = CHANNEL) -> PostedMessage | None:
    roots = [m for m in api.messages.values() if m.channel == channel and m.thread_ts is None]
    return roots[-1] if roots else None


def in_thread(api: SlackApiStandIn, root: PostedMessage, marker: str) -> PostedMessage | None:
    """The latest thread message whose text contains `marker`."""
    found = [m for m in api.thread(root.channel, root.ts) if marker in text_of(m)]
    return found[-1] if found else None


async def run_story(person: Person, api: SlackApiStandIn, sandbox_url: str) -> None:
    root = await publish_a_job(person, api)
    dm = api.dm_channel(REQUESTER)
    claim = await eventually(lambda: claim_dm(api), "the claim DM")
    await hand_over(person, claim, REQUESTER_EMAIL)
    code = (await eventually(lambda: CODE.search(text_of(claim)), "the code in the claim DM")).group(1)
    assert api.calls_to("users.info", lambda a: a.get("user") == REQUESTER)
    assert all(code not in text_of(m) for m in api.messages.values() if m.channel != dm)  # never in a channel
    assert in_thread(api, root, "direct message")  # the thread only hears that a DM was sent

    confirm_claim(sandbox_url, code, REQUESTER_EMAIL)
    await eventually(lambda: "claimed" in claim.text, "the claim DM updated to claimed")
    assert not any(c.args.get("reply_broadcast") for c in api.calls_to("chat.postMessage"))


async def hand_over(person: Person, claim: PostedMessage, email: str) -> None:
    """The admin picks the email offered in the claim DM, then confirms: nothing starts without both."""
    await eventually(lambda: f"Use {email}" in labels(claim), "the claim DM offering the admin's Slack email")
    assert not CODE.search(text_of(claim))
    assert await person.click(claim, f"Use {email}") == 200
    await eventually(lambda: "Confirm" in labels(claim), "the claim DM asking for an explicit confirm")
    assert email in text_of(claim) and not CODE.search(text_of(claim))
    assert await person.click(claim, "Confirm") == 200


def claim_dm(api: SlackApiStandIn) -> PostedMessage | None:
    dm = api.dm_channel(REQUESTER)
    return next((m for m in api.messages.values() if m.channel == dm and m.thread_ts is None), None)


def confirm_claim(sandbox_url: str, code: str, email: str) -> None:
    """The human finishing the claim on OpenTrain's page."""
    confirmed = httpx.post(f"{sandbox_url}/_sandbox/claims/confirm", json={"user_code": code, "email": email},
                           timeout=10)
    assert confirmed.status_code == 200, confirmed.text


async def publish_a_job(person: Person, api: SlackApiStandIn) -> PostedMessage:
    """`/hire` to a published job, answering by click and by text; returns the root message."""
    assert await person.hire(DEMO) == 200
    root = await eventually(lambda: root_of(api), "the root message")
    assert f"<@{person.user_id}>" in root.text and "dashcam" in root.text

    clicked: tuple[PostedMessage, str] | None = None
    typed: PostedMessage | None = None
    for position in (1, 2):  # one question offers buttons (an enum), the other is typed (a list)
        question = await eventually(partial(in_thread, api, root, f"({position} of"), f"question {position}")
        choices = labels(question)
        if choices:
            assert len(choices) == 4 and {e["type"] for e in question.blocks[-1]["elements"]} == {"button"}
            assert await person.click(question, choices[2]) == 200
            clicked = (question, choices[2])
        else:
            assert await person.say("Bounding box, Polygon", root) == 200
            typed = question
    assert clicked and typed
    card = await eventually(lambda: in_thread(api, root, "Review your job"), "the review card")
    question, choice = clicked
    assert question.updates == 1 and not labels(question) and choice in question.text  # answer shown, no buttons
    assert "Bounding box" in text_of(typed) and not labels(typed)
    for _ in range(10):  # confirm each flagged field; the card is refreshed in place
        if "Looks right" not in labels(card):
            break
        updates = card.updates
        assert await person.click(card, "Looks right") == 200
        await eventually(lambda seen=updates: card.updates > seen, "the refreshed review card")
    assert "Looks right" not in labels(card) and "Publish" in labels(card)

    assert await person.click(card, "Publish") == 200
    live = await eventually(lambda: in_thread(api, root, "Your job is live"), "the job link in the thread")
    assert "opentrain" in text_of(live).lower()
    await eventually(lambda: "published" in root.text, "the root message showing the job's state")
    assert not labels(card)  # the review card lost its buttons

    return root
