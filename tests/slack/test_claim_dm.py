"""The claim DM when things go sideways: the Slack email already has an OpenTrain account (the DM asks for another
and takes the reply), and a code that expires (the DM offers Restart, which brings a new code)."""

from __future__ import annotations

import httpx

from bot.app import serve_http
from tests.slack.conftest import REQUESTER, REQUESTER_EMAIL, HttpSlack, Person, labels, text_of
from tests.slack.story import CODE, claim_dm, confirm_claim, eventually, hand_over, publish_a_job

OTHER_EMAIL = "rita.hiring@example.com"


async def sandbox_control(sandbox_url: str, path: str, body: dict) -> None:
    """A call to the sandbox's control API (`/_sandbox/...`), without blocking the app under test."""
    async with httpx.AsyncClient(timeout=5) as control:
        (await control.post(f"{sandbox_url}/_sandbox/{path}", json=body)).raise_for_status()


async def test_taken_email_then_expired_code_then_restart(make_settings, slack_api, sandbox_url):
    await sandbox_control(sandbox_url, "users", {"email": REQUESTER_EMAIL})
    await sandbox_control(sandbox_url, "config", {"claimAttemptSeconds": 2})
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        await publish_a_job(requester, slack_api)

        dm = await eventually(lambda: claim_dm(slack_api), "the claim DM")
        await hand_over(requester, dm, REQUESTER_EMAIL)
        await eventually(lambda: "already has an OpenTrain account" in text_of(dm), "the DM asking for another")
        assert not CODE.search(text_of(dm))
        reply = requester.message_envelope(f"<mailto:{OTHER_EMAIL}|{OTHER_EMAIL}>", dm.channel, None,
                                           channel_type="im")
        assert await requester.slack.event(reply) == 200
        await eventually(lambda: "Confirm" in labels(dm) and OTHER_EMAIL in text_of(dm), "the confirm step")
        assert await requester.click(dm, "Confirm") == 200
        first_code = (await eventually(lambda: CODE.search(text_of(dm)), "the code in the same DM")).group(1)
        assert OTHER_EMAIL in text_of(dm)

        await eventually(lambda: "Restart" in labels(dm), "the DM offering Restart after the code expired")
        await sandbox_control(sandbox_url, "config", {"claimAttemptSeconds": 1800})
        assert await requester.click(dm, "Restart") == 200
        await eventually(lambda: "Confirm" in labels(dm), "the confirm step after Restart")
        assert await requester.click(dm, "Confirm") == 200
        second = await eventually(lambda: (m := CODE.search(text_of(dm))) and m.group(1) != first_code and m,
                                  "a new code after Restart")
        confirm_claim(sandbox_url, second.group(1), OTHER_EMAIL)
        await eventually(lambda: "claimed" in dm.text, "the DM updated to claimed")
        # One DM, kept current (a reply under it, if any, is the reminder before a code expired).
        assert len([m for m in slack_api.messages.values() if m.channel == dm.channel and m.thread_ts is None]) == 1
