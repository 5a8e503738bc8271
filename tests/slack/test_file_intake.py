"""Job descriptions from files and pasted postings, over signed HTTP with the sandbox, a real Redis and the Slack
stand-in: a file shared in a DM with the bot starts the conversation in a thread under that message, each kind
reaching OpenTrain in its own format; hostile or unusable files get one sentence and nothing is created."""

from __future__ import annotations

import asyncio
import html
import json
from functools import partial
from typing import Any

import httpx
import pytest

from bot.app import serve_http
from bot.hiring.record import ConversationRef
from bot.hiring.store import ConversationStore
from tests.slack.conftest import BOT_TOKEN, CHANNEL, DEMO, REQUESTER, TEAM, HttpSlack, Person, text_of
from tests.slack.story import eventually, in_thread, root_of
from tests.support import documents as docs
from tests.support.slack_api import PostedMessage, SlackApiStandIn

DRAFTS = "/api/public/v1/job-drafts"
PDF, DOCX = "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def share(person: Person, api: SlackApiStandIn, name: str, data: bytes, mimetype: str, *,
                text: str = "", **file_fields: Any) -> PostedMessage:
    """The person shares a file in their DM with the bot; returns their message (the thread it starts under)."""
    file = {**api.upload(name, data, mimetype, token=BOT_TOKEN), **file_fields}
    dm = api.dm_channel(person.user_id)
    envelope = person.message_envelope(text, dm, None, channel_type="im", subtype="file_share", files=[file])
    assert await person.slack.event(envelope) == 200
    event = envelope["event"]
    return PostedMessage(dm, event["ts"], text, thread_ts=None)


async def draft_source(redis, namespace: str, sandbox_url: str, thread: PostedMessage) -> dict[str, Any]:
    """What the sandbox says the draft of the conversation in `thread` was created from."""
    store = ConversationStore(redis, namespace, 3600)
    ref = ConversationRef(TEAM, f"{thread.channel}:{thread.ts}")
    for _ in range(400):
        conversation = await store.load(ref)
        if conversation is not None and conversation.job_id:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("no draft for the conversation")
    async with httpx.AsyncClient(timeout=5) as control:
        response = await control.get(f"{sandbox_url}/_sandbox/jobs/{conversation.job_id}/source")
        response.raise_for_status()
        return dict(response.json())


async def drafts_created(sandbox_url: str) -> int:
    async with httpx.AsyncClient(timeout=5) as control:
        log = (await control.get(f"{sandbox_url}/_sandbox/requests")).json()["requests"]
    return sum(1 for r in log if r["method"] == "POST" and r["path"] == DRAFTS)


def started(api: SlackApiStandIn, shared: PostedMessage) -> PostedMessage | None:
    """The job's root message, posted in the thread under the shared file."""
    return next((m for m in api.thread(shared.channel, shared.ts) if "is hiring" in m.text), None)


FILES = [
    ("job.txt", docs.DESCRIPTION.encode(), "text/plain", "text"),
    ("job.md", f"# Dashcam annotators\n\n{docs.DESCRIPTION}".encode(), "text/markdown", "text"),
    ("job.pdf", docs.pdf(), PDF, "text"),
    ("job.docx", docs.docx("Dashcam annotators", docs.DESCRIPTION), DOCX, "text"),
    ("posting.json", docs.json_ld_text().encode(), "application/json", "schema_org_job_posting"),
    ("job.json", docs.canonical_text().encode(), "application/json", "opentrain_canonical"),
    ("feed.xml", docs.INDEED_XML.encode(), "application/xml", "indeed_xml"),
    ("opening.xml", docs.HR_XML.encode(), "text/xml", "hr_xml"),
]


@pytest.mark.parametrize(("name", "data", "mimetype", "draft_format"), FILES, ids=[f[0] for f in FILES])
async def test_each_file_kind_becomes_a_draft_in_its_format(make_settings, slack_api, sandbox_url, redis, namespace,
                                                            name, data, mimetype, draft_format):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        shared = await share(requester, slack_api, name, data, mimetype)

        root = await eventually(lambda: started(slack_api, shared), "the job's root in the file's thread")
        assert f"<@{REQUESTER}>" in root.text
        source = await draft_source(redis, namespace, sandbox_url, shared)
        assert source["format"] == draft_format
        if draft_format == "text":  # the words themselves arrived, read from the file
            assert source["fields"].get("pricePerHour") == 18 and source["fields"].get("headcount") == 10
        else:
            assert "from a" in root.text or "from an" in root.text  # the root names the posting's format
        downloads = slack_api.calls_to("files.download")
        assert len(downloads) == 1 and downloads[0].token == BOT_TOKEN
        assert root_of(slack_api, shared.channel) is None  # nothing top-level: all of it under the file


async def test_answers_in_the_files_thread_carry_the_conversation_on(make_settings, slack_api, sandbox_url):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        shared = await share(requester, slack_api, "job.docx", docs.docx(DEMO), DOCX)  # leaves two questions
        root = await eventually(lambda: started(slack_api, shared), "the job's root")
        question = await eventually(partial(in_thread, slack_api, shared, "(1 of"), "the first question")
        await eventually(lambda: root.updates >= 1 and "collecting details" in root.text, "the root's state")
        assert await requester.say("Bounding box", shared) == 200
        await eventually(lambda: question.updates >= 1 or in_thread(slack_api, shared, "(2 of"),
                         "the answer taken in the file's thread")


async def test_a_pasted_posting_in_hire_is_sent_in_its_format(make_settings, slack_api, sandbox_url, redis,
                                                             namespace):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        assert await requester.hire(docs.json_ld_text()) == 200
        root = await eventually(lambda: root_of(slack_api), "the root message")
        assert "Dashcam Bounding Boxes (from a schema.org JobPosting)" in root.text
        ref_message = PostedMessage(CHANNEL, root.ts, "")
        assert (await draft_source(redis, namespace, sandbox_url, ref_message))["format"] == "schema_org_job_posting"

        # Slack delivers a command's <, > and & as entities: the XML is recognised all the same.
        escaped = html.escape(docs.HR_XML, quote=False)
        assert await requester.hire(escaped, channel="CSECOND") == 200
        second = await eventually(lambda: root_of(slack_api, "CSECOND"), "the second root")
        assert "Medical Image Segmentation (from an HR-XML PositionOpening)" in second.text
        assert (await draft_source(redis, namespace, sandbox_url,
                                   PostedMessage("CSECOND", second.ts, "")))["format"] == "hr_xml"


HOSTILE = [
    ("lol.xml", docs.BILLION_LAUGHS.encode(), "application/xml", {}, "DTD or entities"),
    ("bomb.docx", docs.docx_bomb(), DOCX, {}, "unpacks to far more"),
    ("locked.pdf", docs.encrypted_pdf(), PDF, {}, "password-protected"),
    ("huge.pdf", docs.pdf(), PDF, {"size": 6 * 1024 * 1024}, "I read files up to 5.0 MB"),
    ("liar.txt", b"x" * (5 * 1024 * 1024 + 10), "text/plain", {"size": 1000}, "the most I read"),
    ("empty.txt", b"", "text/plain", {}, "is empty"),
    ("setup.exe", docs.EXE, "application/x-msdownload", {}, "I can't read"),
    ("elsewhere.txt", docs.DESCRIPTION.encode(), "text/plain",
     {"url_private_download": "https://files.example.com/job.txt"}, "couldn't download"),
]


@pytest.mark.parametrize(("name", "data", "mimetype", "lie", "said"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_unusable_files_get_one_sentence_and_nothing_is_created(make_settings, slack_api, sandbox_url,
                                                                    name, data, mimetype, lie, said):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        shared = await share(requester, slack_api, name, data, mimetype, **lie)

        reply = await eventually(lambda: slack_api.thread(shared.channel, shared.ts), "the answer to the file")
        assert len(reply) == 1 and said in text_of(reply[0]), text_of(reply[0])
        assert "\n" not in reply[0].text
        assert started(slack_api, shared) is None and root_of(slack_api, shared.channel) is None
        assert await drafts_created(sandbox_url) == 0
        if ("size" in lie and lie["size"] > 5 * 1024 * 1024) or "url_private_download" in lie:
            assert slack_api.calls_to("files.download") == []  # refused before a byte was fetched


async def test_a_file_slack_will_not_hand_over_is_explained(make_settings, slack_api, sandbox_url):
    """Slack answers a download without a valid token with its sign-in page (HTTP 200, HTML)."""
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        file = slack_api.upload("job.pdf", docs.pdf(), PDF, token="xoxb-another-app")
        envelope = requester.message_envelope("", slack_api.dm_channel(REQUESTER), None, channel_type="im",
                                              subtype="file_share", files=[file])
        assert await requester.slack.event(envelope) == 200
        shared = PostedMessage(slack_api.dm_channel(REQUESTER), envelope["event"]["ts"], "")
        reply = await eventually(lambda: slack_api.thread(shared.channel, shared.ts), "the answer to the file")
        assert "files:read" in reply[0].text
        assert await drafts_created(sandbox_url) == 0


async def test_a_slack_retry_of_the_file_event_starts_one_job(make_settings, slack_api, sandbox_url):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        file = slack_api.upload("job.txt", docs.DESCRIPTION.encode(), "text/plain", token=BOT_TOKEN)
        envelope = requester.message_envelope("", slack_api.dm_channel(REQUESTER), None, channel_type="im",
                                              subtype="file_share", files=[file])
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        assert await requester.slack.event(envelope) == 200
        assert await requester.slack.event(json.loads(json.dumps(envelope)), headers=retry) == 200
        shared = PostedMessage(slack_api.dm_channel(REQUESTER), envelope["event"]["ts"], "")
        await eventually(lambda: in_thread(slack_api, shared, "Review your job"), "the review card")
        assert len([m for m in slack_api.thread(shared.channel, shared.ts) if "is hiring" in m.text]) == 1
        assert await drafts_created(sandbox_url) == 1


async def test_a_root_whose_answer_was_lost_is_found_in_the_files_thread_not_posted_twice(make_settings, slack_api,
                                                                                          sandbox_url):
    """The root reply is posted, then the connection dies before Slack's answer: it is looked up in the thread."""
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        slack_api.drop_connection("chat.postMessage")
        shared = await share(requester, slack_api, "job.txt", DEMO.encode(), "text/plain")
        await eventually(partial(in_thread, slack_api, shared, "(1 of"), "the first question")
        assert len([m for m in slack_api.thread(shared.channel, shared.ts) if "is hiring" in m.text]) == 1
        assert slack_api.calls_to("conversations.replies", lambda a: a.get("ts") == shared.ts)
