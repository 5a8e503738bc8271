"""What reaches POST /slack/events and how the app treats it: signatures, retries, noise, strangers, the /hire
subcommands, channels the bot cannot post in, Slack API failures, /healthz and /readyz. (Requests that are bad on
purpose: test_bad_requests.py.)"""

from __future__ import annotations

import json
import socket
import time

import httpx

from bot.app import serve_http
from bot.slack.dedupe import EventDeduper
from tests.slack.conftest import (
    CHANNEL,
    DEMO,
    REQUESTER,
    SIGNING_SECRET,
    STRANGER,
    TEAM,
    HttpSlack,
    Person,
    labels,
    text_of,
)
from tests.slack.story import eventually, in_thread, publish_a_job, root_of
from tests.support import slack_signing as signing


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_bad_signature_and_stale_timestamp_are_refused(make_settings, slack_api):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        body = signing.slash_command_body(DEMO, user_id=REQUESTER, channel_id=CHANNEL)
        forged = await slack.deliver(body, signing.FORM, secret="not-the-signing-secret")
        stale = await slack.deliver(body, signing.FORM, timestamp=int(time.time()) - 6 * 60)
        tampered = signing.signed_headers(SIGNING_SECRET, body, signing.FORM)
        altered = await http.post(f"{server.url}/slack/events", content=body.replace("dashcam", "webcam"),
                                  headers=tampered)
        assert (forged.status_code, stale.status_code, altered.status_code) == (401, 401, 401)

        usage = await slack.deliver(signing.slash_command_body("help", user_id=REQUESTER, channel_id=CHANNEL),
                                    signing.FORM)
        assert usage.status_code == 200 and "/hire status" in usage.json()["text"]  # answered in the ack
        assert not slack_api.calls_to("chat.postMessage")


async def test_retries_noise_and_strangers_are_handled_once_or_not_at_all(make_settings, slack_api, redis,
                                                                          namespace):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        requester, stranger = Person(REQUESTER, slack, slack_api), Person(STRANGER, slack, slack_api)
        await requester.hire(DEMO)
        root = await eventually(lambda: root_of(slack_api), "the root message")
        first = await eventually(lambda: in_thread(slack_api, root, "(1 of"), "the first question")

        noise = [
            requester.message_envelope("3", CHANNEL, root.ts, bot_id="B1"),
            requester.message_envelope("3", CHANNEL, root.ts, subtype="message_changed"),
            requester.message_envelope("3", CHANNEL, root.ts, subtype="message_deleted"),
            requester.message_envelope("3", CHANNEL, None),  # top level, outside any thread
            requester.message_envelope("3", CHANNEL, "1700009999.000001"),  # a thread the bot never started
        ]
        for envelope in noise:
            assert await slack.event(envelope) == 200
        assert await stranger.say("3", root) == 200
        note = (await slack_api.wait_for("chat.postEphemeral"))[0].args
        assert note["user"] == STRANGER and f"<@{REQUESTER}>" in note["text"] and note["thread_ts"] == root.ts

        answer = requester.message_envelope("3", CHANNEL, root.ts)
        assert await slack.event(answer) == 200
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        assert await slack.event(answer, headers=retry) == 200
        await eventually(lambda: in_thread(slack_api, root, "(2 of"), "the second question")
        await slack_api.wait_for("chat.update", where=lambda a: a["ts"] == first.ts)

        thread = slack_api.thread(CHANNEL, root.ts)  # the answered first question, then the second: nothing else
        assert thread[0].ts == first.ts and len(thread) == 2 and "(2 of" in text_of(thread[1])
        assert first.updates == 1 and not labels(first)
        assert len(slack_api.calls_to("chat.postEphemeral")) == 1

    deduper = EventDeduper(redis, namespace)  # the same event id, seen again from any process
    assert not await deduper.first_delivery(TEAM, answer["event_id"])
    assert await deduper.first_delivery(TEAM, "EvNeverSeen")


async def test_status_usage_and_a_description_over_the_limit(make_settings, slack_api):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        await requester.hire("status")
        empty = (await slack_api.wait_for("response_url"))[-1].args
        assert "no drafts or jobs" in empty["text"] and empty["response_type"] == "ephemeral"

        await requester.hire("x" * 60_001)
        refusal = (await slack_api.wait_for("response_url", 2))[-1].args
        assert "60,000" in refusal["text"] and not slack_api.calls_to("chat.postMessage")

        await requester.hire(DEMO)
        root = await eventually(lambda: root_of(slack_api), "the root message")
        await eventually(lambda: in_thread(slack_api, root, "(1 of"), "the first question")
        await requester.hire("status")
        listing = (await slack_api.wait_for("response_url", 3))[-1].args
        assert "dashcam" in listing["text"] and "collecting details" in listing["text"]


async def test_a_channel_the_bot_cannot_post_in_continues_in_a_dm(make_settings, slack_api):
    slack_api.bot_cannot_post_in("CPRIVATE", "not_in_channel")
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        await requester.hire(DEMO, channel="CPRIVATE")
        told = (await slack_api.wait_for("response_url"))[0].args
        assert "/invite @hirebot" in told["text"] and told["response_type"] == "ephemeral"
        dm = slack_api.dm_channel(REQUESTER)
        root = await eventually(lambda: root_of(slack_api, dm), "the root message in the DM")
        first = await eventually(lambda: in_thread(slack_api, root, "(1 of"), "the first question in the DM")

        # In the DM the requester may answer at the top level instead of in the thread.
        top_level = requester.message_envelope("3", dm, None, channel_type="im")
        assert await requester.slack.event(top_level) == 200
        await eventually(lambda: in_thread(slack_api, root, "(2 of"), "the second question in the DM")
        assert first.updates == 1


async def test_slack_rate_limits_are_waited_out_and_errors_explained(make_settings, slack_api):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        slack_api.rate_limit("chat.postMessage", retry_after=0)
        await requester.hire(DEMO)
        root = await eventually(lambda: root_of(slack_api), "the root message after a 429")
        assert len(slack_api.calls_to("chat.postMessage", lambda a: "thread_ts" not in a)) == 2
        assert root.text
        # Let the first conversation finish posting its question, so the failure below meets the second /hire.
        await eventually(lambda: [m for m in slack_api.messages.values() if m.thread_ts == root.ts], "a question")

        slack_api.fail("chat.postMessage", "fatal_error")
        await requester.hire("Another job: 3 translators, German to English, $30/hour")
        told = (await slack_api.wait_for("response_url"))[0].args
        assert "fatal_error" in told["text"]


async def test_healthz_is_redis_and_readyz_reports_redis_and_opentrain(make_settings, slack_api):
    dead_opentrain = make_settings(opentrain_base_url=f"http://127.0.0.1:{closed_port()}")
    async with serve_http(dead_opentrain, port=0, run_worker=False) as server, httpx.AsyncClient() as http:
        live = await http.get(f"{server.url}/healthz")
        assert live.status_code == 200 and live.json() == {"ok": True, "redis": "ok"}
        ready = await http.get(f"{server.url}/readyz")  # OpenTrain down degrades the bot, does not stop it
        assert ready.status_code == 200 and ready.json()["opentrain"] == "unreachable"
    dead_redis = make_settings(redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    async with serve_http(dead_redis, port=0, run_worker=False) as server, httpx.AsyncClient() as http:
        for path in ("/healthz", "/readyz"):
            response = await http.get(f"{server.url}{path}")
            assert response.status_code == 503 and json.loads(response.text)["redis"] == "unreachable"


async def test_a_lost_redis_is_explained_to_the_requester(make_settings, slack_api):
    no_redis = make_settings(redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    async with serve_http(no_redis, port=0, run_worker=False) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        assert await requester.hire(DEMO) == 200  # Slack still gets its ack at once
        told = (await slack_api.wait_for("response_url"))[0].args
        assert "went wrong on my side" in told["text"] and "not started" in told["text"]


async def test_a_post_whose_connection_broke_is_not_posted_again(make_settings, slack_api):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        slack_api.drop_connection("chat.postMessage")  # the root message is posted, but Slack's answer is lost
        await requester.hire(DEMO)
        first = await eventually(lambda: next((m for m in slack_api.messages.values() if "(1 of" in text_of(m)),
                                              None), "the first question")
        roots = [m for m in slack_api.messages.values() if m.thread_ts is None]
        assert [m.ts for m in roots] == [first.thread_ts]  # found again in the channel, not posted twice
        root = roots[0]

        slack_api.drop_connection("chat.postMessage")  # now the second question
        await requester.say("Bounding box", root)
        note = (await slack_api.wait_for("chat.postEphemeral"))[0].args
        assert note["user"] == REQUESTER and note["thread_ts"] == root.ts
        assert "connection to Slack broke" in note["text"] and "the next question" in note["text"]
        assert len([m for m in slack_api.thread(CHANNEL, root.ts) if "(2 of" in text_of(m)]) == 1


async def test_a_step_slack_refuses_is_explained_to_the_requester_once(make_settings, slack_api):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        requester = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        await requester.hire(DEMO)
        root = await eventually(lambda: root_of(slack_api), "the root message")
        await eventually(lambda: in_thread(slack_api, root, "(1 of"), "the first question")

        slack_api.fail("chat.postMessage", "fatal_error")  # the second question
        await requester.say("Bounding box", root)
        note = (await slack_api.wait_for("chat.postEphemeral"))[0].args
        assert (note["channel"], note["user"], note["thread_ts"]) == (CHANNEL, REQUESTER, root.ts)
        assert "the next question" in note["text"] and "`fatal_error`" in note["text"]
        assert "something broke on Slack's side" in note["text"] and not in_thread(slack_api, root, "(2 of")

        # A refused answer posts two messages (why, and the question again): both fail, one note.
        slack_api.fail("chat.postMessage", "msg_too_long", times=2)
        await requester.say("banana", root)
        second = (await slack_api.wait_for("chat.postEphemeral", 2))[1].args
        assert "`msg_too_long` (the message was too long)" in second["text"]
        await requester.say("1", root)
        await eventually(lambda: in_thread(slack_api, root, "Review your job"), "the review card")
        assert len(slack_api.calls_to("chat.postEphemeral")) == 2


async def test_a_claim_dm_slack_refuses_is_explained_in_the_channel(make_settings, slack_api):
    slack_api.bot_cannot_post_in(slack_api.dm_channel(REQUESTER), "messages_tab_disabled")
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        root = await publish_a_job(Person(REQUESTER, HttpSlack([server.url], http), slack_api), slack_api)
        note = (await slack_api.wait_for("chat.postEphemeral"))[0].args
        assert (note["channel"], note["user"], note["thread_ts"]) == (CHANNEL, REQUESTER, root.ts)
        assert "direct messages" in note["text"] and "`messages_tab_disabled`" in note["text"]
        assert not in_thread(slack_api, root, "I sent you the details")  # no DM was sent: the thread doesn't say so
