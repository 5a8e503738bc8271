"""New jobs without typing `/hire <text>`, over signed HTTP: `/hire` alone opens the form (description or file, and the
channel), checked on submission; "Hire from this message" starts from a message's text, in a thread under it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.app import serve_http
from bot.slack.blocks.new_job import CHANNEL_BLOCK, DESCRIPTION_BLOCK, FILE_BLOCK, INPUT, NEW_JOB_MODAL
from bot.slack.listeners.new_job import HIRE_FROM_MESSAGE
from tests.slack.conftest import BOT_TOKEN, CHANNEL, DEMO, REQUESTER, TEAM, HttpSlack, Person, labels, text_of
from tests.slack.story import eventually, in_thread
from tests.support import documents as docs
from tests.support import slack_signing as signing
from tests.support.slack_api import PostedMessage

PDF = "application/pdf"


def submission(view_id: str, *, description: str = "", files: list[dict[str, Any]] | None = None,
               channel: str | None = CHANNEL) -> dict[str, Any]:
    values = {DESCRIPTION_BLOCK: {INPUT: {"type": "plain_text_input", "value": description or None}},
              FILE_BLOCK: {INPUT: {"type": "file_input", "files": files or []}},
              CHANNEL_BLOCK: {INPUT: {"type": "conversations_select", "selected_conversation": channel}}}
    return {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": REQUESTER, "team_id": TEAM},
            "api_app_id": "A1", "token": "t", "trigger_id": f"trig-{view_id}",
            "view": {"id": view_id, "type": "modal", "callback_id": NEW_JOB_MODAL, "private_metadata": "",
                     "state": {"values": values}}}


async def submit(slack: HttpSlack, payload: dict[str, Any]) -> httpx.Response:
    raw = urlencode({"payload": json.dumps(payload)})
    return await slack.deliver(raw, signing.FORM)


def roots(api) -> list[PostedMessage]:
    return [m for m in api.messages.values() if m.channel == CHANNEL and "is hiring" in m.text]


async def test_hire_alone_opens_the_form_which_starts_a_job_from_words_or_a_file(make_settings, slack_api):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        requester = Person(REQUESTER, slack, slack_api)
        assert await requester.hire("") == 200
        opened = await eventually(lambda: slack_api.calls_to("views.open"), "the form")
        form = json.loads(opened[-1].args["view"]) if isinstance(opened[-1].args["view"], str) else \
            opened[-1].args["view"]
        assert form["callback_id"] == NEW_JOB_MODAL
        assert form["blocks"][-1]["element"]["initial_conversation"] == CHANNEL

        # Neither words nor a file: the form says so next to the field, and nothing starts.
        refused = await submit(slack, submission("V1"))
        assert refused.status_code == 200 and refused.json()["response_action"] == "errors"
        assert DESCRIPTION_BLOCK in refused.json()["errors"]

        # Words: the conversation starts in the chosen channel, as `/hire <words>` would.
        assert (await submit(slack, submission("V2", description=DEMO))).status_code == 200
        root = await eventually(lambda: roots(slack_api)[-1] if roots(slack_api) else None, "the root message")
        await eventually(lambda: in_thread(slack_api, root, "(1 of"), "the first question")

        # A file with the description: read as `/hire` from a file is; an unusable one gets one note, to its sender.
        pdf = slack_api.upload("job.pdf", docs.pdf(), PDF, token=BOT_TOKEN)
        assert (await submit(slack, submission("V3", files=[pdf]))).status_code == 200
        await eventually(lambda: len(roots(slack_api)) == 2, "the job from the PDF")
        exe = slack_api.upload("setup.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/octet-stream",
                               token=BOT_TOKEN)
        assert (await submit(slack, submission("V4", files=[exe]))).status_code == 200
        note = await eventually(lambda: slack_api.calls_to("chat.postEphemeral",
                                                           lambda a: a.get("user") == REQUESTER), "the note")
        assert note[-1].args["channel"] == CHANNEL
        assert len(roots(slack_api)) == 2


async def test_hire_from_a_message_starts_in_a_thread_under_it(make_settings, slack_api):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        requester = Person(REQUESTER, slack, slack_api)
        posted = PostedMessage(CHANNEL, "1800000100.000001", DEMO, thread_ts=None)  # a colleague's message
        shortcut = {"type": "message_action", "callback_id": HIRE_FROM_MESSAGE, "team": {"id": TEAM},
                    "user": {"id": REQUESTER, "team_id": TEAM}, "channel": {"id": CHANNEL}, "token": "t",
                    "api_app_id": "A1", "trigger_id": "trig-shortcut", "action_ts": "1800000101.000001",
                    "response_url": slack_api.response_url("shortcut"), "message_ts": posted.ts,
                    "message": {"type": "message", "user": "UCOLLEAGUE", "text": DEMO, "ts": posted.ts}}
        assert (await submit(slack, shortcut)).status_code == 200
        root = await eventually(lambda: next((m for m in slack_api.thread(CHANNEL, posted.ts)
                                              if "is hiring" in m.text), None), "the job under the message")
        assert f"<@{REQUESTER}>" in root.text
        question = await eventually(lambda: in_thread(slack_api, posted, "(1 of"), "the first question, same thread")
        # Answered in that thread like any conversation.
        if labels(question):
            assert await requester.click(question, labels(question)[0]) == 200
        else:
            assert await requester.say("Bounding box", posted) == 200
        await eventually(lambda: in_thread(slack_api, posted, "(2 of"), "the second question")
        assert not roots(slack_api) or all(m.thread_ts == posted.ts for m in roots(slack_api))
        assert "dashcam" in text_of(root).lower()

        # Used again on a reply in that thread: it holds a conversation already, which a second one would replace.
        again = {**shortcut, "trigger_id": "trig-again", "response_url": slack_api.response_url("again"),
                 "message": {"type": "message", "user": REQUESTER, "text": "We also need 5 reviewers",
                             "ts": "1800000200.000001", "thread_ts": posted.ts}}
        assert (await submit(slack, again)).status_code == 200
        await eventually(lambda: [c for c in slack_api.calls_to("response_url")
                                  if "already holds a hiring conversation" in c.args.get("text", "")], "the no")
        assert len([m for m in slack_api.thread(CHANNEL, posted.ts) if "is hiring" in m.text]) == 1
