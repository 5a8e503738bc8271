"""Reminders over signed HTTP with two `serve` processes sharing Redis: a question left unanswered gets one nudge in
its thread (the next question its own), and a claim code about to expire one word in the DM; never two of either.

REMINDER_HOURS is set to a couple of seconds and the sandbox's claim attempt to a few, so the waits are short; a
repeat would come within one more period, which the tests wait out before counting.
"""

from __future__ import annotations

import asyncio
from functools import partial

import httpx

from bot.app import serve_http
from tests.slack.conftest import DEMO, REQUESTER, REQUESTER_EMAIL, HttpSlack, Person, labels, text_of
from tests.slack.story import CODE, claim_dm, eventually, hand_over, in_thread, publish_a_job, root_of

PERIOD_SECONDS = 2.0


def nudges(api, root) -> list[str]:
    return [text_of(m) for m in api.thread(root.channel, root.ts) if "still waiting for your answer" in m.text]


async def test_an_unanswered_question_gets_one_nudge_across_two_processes(make_settings, slack_api):
    settings = make_settings(reminder_hours=PERIOD_SECONDS / 3600)
    async with (serve_http(settings, port=0) as first, serve_http(settings, port=0) as second,
                httpx.AsyncClient(timeout=10) as http):
        person = Person(REQUESTER, HttpSlack([first.url, second.url], http), slack_api)
        assert await person.hire(DEMO) == 200
        root = await eventually(lambda: root_of(slack_api), "the root message")
        question = await eventually(partial(in_thread, slack_api, root, "(1 of"), "the first question")

        await eventually(lambda: nudges(slack_api, root), "a nudge for the first question")
        await asyncio.sleep(2 * PERIOD_SECONDS)
        [nudge] = nudges(slack_api, root)
        assert f"<@{REQUESTER}>" in nudge and "cancel" in nudge

        # Answered: the next question is due its own nudge, once; the answered one gets no other.
        if labels(question):
            assert await person.click(question, labels(question)[0]) == 200
        else:
            assert await person.say("Bounding box", root) == 200
        await eventually(partial(in_thread, slack_api, root, "(2 of"), "the second question")
        await eventually(lambda: len(nudges(slack_api, root)) == 2, "a nudge for the second question")
        await asyncio.sleep(2 * PERIOD_SECONDS)
        assert len(nudges(slack_api, root)) == 2


async def test_a_claim_code_about_to_expire_gets_one_reminder_in_the_dm(make_settings, slack_api, sandbox_url):
    # The code lives 8 s: reminded halfway, 4 s before it ends. Questions are not nudged within the test.
    settings = make_settings()
    async with (serve_http(settings, port=0) as first, serve_http(settings, port=0) as second,
                httpx.AsyncClient(timeout=10) as http):
        (await http.post(f"{sandbox_url}/_sandbox/config", json={"claimAttemptSeconds": 8})).raise_for_status()
        person = Person(REQUESTER, HttpSlack([first.url, second.url], http), slack_api)
        await publish_a_job(person, slack_api)
        claim = await eventually(lambda: claim_dm(slack_api), "the claim DM")
        await hand_over(person, claim, REQUESTER_EMAIL)
        await eventually(lambda: CODE.search(text_of(claim)), "the code in the claim DM")

        def reminders() -> list[str]:
            return [m.text for m in slack_api.thread(claim.channel, claim.ts) if "claim code above expires" in m.text]

        await eventually(reminders, "the reminder before the code expires", timeout=15)
        assert not CODE.search(reminders()[0])  # the code is not repeated
        await eventually(lambda: "expired" in claim.text.lower(), "the claim DM showing the code expired", timeout=20)
        assert len(reminders()) == 1
