"""The whole Slack story against a hostile OpenTrain (`/_sandbox/hostile`) and a hostile requester, over real HTTP.

OpenTrain's answers carry Slack markup in every text it writes and point every link at another host; the requester
types markup into `/hire`, an answer and an edited field. Every message the Slack stand-in received (posts, updates,
ephemerals, DMs, response_url notes) is then read: no mention, broadcast or foreign link from outside reaches any
block or `text`; the only user the bot mentions is the requester, and its links go to OpenTrain's hosts only.
"""

from __future__ import annotations

from functools import partial

import httpx

from bot.app import serve_http
from tests.slack.conftest import DEMO, REQUESTER, REQUESTER_EMAIL, HttpSlack, Person, labels, text_of
from tests.slack.story import CODE, claim_dm, confirm_claim, eventually, hand_over, in_thread, publish_a_job, root_of
from tests.support.untrusted import HOSTILE_TEXT, HOSTILE_TYPED, assert_nothing_from_outside


def arm(sandbox_url: str, **hostility: object) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/hostile", json=hostility, timeout=5).raise_for_status()


def disarm(sandbox_url: str) -> None:
    httpx.delete(f"{sandbox_url}/_sandbox/hostile", timeout=5).raise_for_status()


def in_dm(slack_api, marker: str):
    """The latest message in the requester's DM whose text contains `marker`."""
    found = [m for m in slack_api.messages.values() if m.channel == slack_api.dm_channel(REQUESTER)
             and marker in text_of(m)]
    return found[-1] if found else None


async def test_hostile_opentrain_and_requester_never_reach_slack_as_markup(make_settings, slack_api, sandbox_url):
    arm(sandbox_url, urls="elsewhere", text=True)
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        person = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        assert await person.hire(f"{DEMO} {HOSTILE_TEXT}") == 200
        root = await eventually(lambda: root_of(slack_api), "the root message")
        assert "dashcam" in root.text and "&lt;!here&gt;" in root.text  # shown, as text

        for position in (1, 2):
            question = await eventually(partial(in_thread, slack_api, root, f"({position} of"), f"question {position}")
            assert "&lt;!here&gt;" in text_of(question)  # OpenTrain's hostile prompt or label, inert
            choices = labels(question)
            if choices:
                assert await person.click(question, choices[0]) == 200
            else:
                assert await person.say(f"Bounding box, Polygon {HOSTILE_TYPED}", root) == 200
        card = await eventually(lambda: in_thread(slack_api, root, "Review your job"), "the review card")
        assert "evil.example/phish" not in text_of(card)  # the draft's foreign review link was dropped

        first_card = card
        assert await person.say("edit jobTitle", root) == 200
        await eventually(lambda: [m for m in slack_api.thread(root.channel, root.ts) if m is not first_card
                                  and "Job title" in text_of(m) and "Review your job" not in text_of(m)],
                         "the job title question")
        assert await person.say(f"Dashcam boxes {HOSTILE_TYPED}", root) == 200
        card = await eventually(lambda: (found := in_thread(slack_api, root, "Review your job")) is not first_card
                                and found, "a new review card")
        assert "Dashcam boxes &lt;!here&gt;" in text_of(card)  # the typed title, as text

        for _ in range(10):
            if "Looks right" not in labels(card):
                break
            seen = card.updates
            assert await person.click(card, "Looks right") == 200
            await eventually(lambda seen=seen: card.updates > seen, "the refreshed review card")
        assert await person.click(card, "Publish") == 200
        live = await eventually(lambda: in_thread(slack_api, root, "Your job is live"), "the job link")
        assert "https://app.opentrain.ai/jobs/" in text_of(live)  # built from the job id, not the foreign jobUrl

        # The claim start answered a foreign verification link: refused, plainly, and no DM points anywhere.
        claim = await eventually(lambda: claim_dm(slack_api), "the claim DM")
        await hand_over(person, claim, REQUESTER_EMAIL)
        failed = await eventually(lambda: in_dm(slack_api, "retry"), "the failed claim start")
        assert "verification_uri" in text_of(failed) and not CODE.search(text_of(claim))

        disarm(sandbox_url)
        arm(sandbox_url, text=True)  # still hostile text, trusted links again
        retry = person.message_envelope("retry", claim.channel, None, channel_type="im")
        assert await person.slack.event(retry) == 200
        code = (await eventually(lambda: CODE.search(text_of(claim)), "the code in the claim DM")).group(1)
        assert f"<{sandbox_url}/claim?token=" in text_of(claim)  # the sandbox's own http link, on loopback
        confirm_claim(sandbox_url, code, REQUESTER_EMAIL)
        await eventually(lambda: "claimed" in claim.text, "the claim DM updated to claimed")

    assert assert_nothing_from_outside(slack_api, users={REQUESTER}) > 10


async def test_hostile_answers_to_status_and_cancel_stay_text(make_settings, slack_api, sandbox_url):
    arm(sandbox_url, text=True, urls="javascript")
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        person = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        assert await person.hire(HOSTILE_TEXT + " annotators for dashcam images") == 200
        root = await eventually(lambda: root_of(slack_api), "the root message")
        await eventually(partial(in_thread, slack_api, root, "(1 of"), "the first question")
        assert await person.say(HOSTILE_TYPED, root) == 200
        assert await person.say("status", root) == 200
        await eventually(lambda: len(slack_api.thread(root.channel, root.ts)) >= 3, "the answers")
        assert await person.say("cancel", root) == 200
        await eventually(lambda: "cancelled" in root.text, "the root showing the cancel")
    assert assert_nothing_from_outside(slack_api, users={REQUESTER}) > 3


async def test_a_claim_code_that_is_not_six_digits_fails_the_claim_start_plainly(make_settings, slack_api,
                                                                                 sandbox_url):
    arm(sandbox_url, ids=["user_code"], path="/api/agent/identity/claim")
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        person = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        await publish_a_job(person, slack_api)
        claim = await eventually(lambda: claim_dm(slack_api), "the claim DM")
        await hand_over(person, claim, REQUESTER_EMAIL)
        failed = await eventually(lambda: in_dm(slack_api, "retry"), "the failed claim start")
        assert "user_code" in text_of(failed) and not CODE.search(text_of(claim))  # no code shown anywhere
    assert assert_nothing_from_outside(slack_api, users={REQUESTER}) > 5
