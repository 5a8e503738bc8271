"""An answer acked by a process that never gets to handle it is handled by another process, exactly once."""

from __future__ import annotations

import asyncio

import httpx

from bot.slack import inbox
from bot.slack.runner import serve_http
from tests.slack.conftest import DEMO, REQUESTER, HttpSlack, Person, text_of
from tests.slack.story import eventually, in_thread, root_of


async def test_an_acked_answer_left_by_a_stopped_process_is_handled_once_by_another(
        make_settings, slack_api, monkeypatch):
    monkeypatch.setattr(inbox, "REDRIVE_SECONDS", 1.0)
    settings = make_settings()
    async with (
        serve_http(settings, port=0) as doomed,
        serve_http(settings, port=0) as survivor,
        httpx.AsyncClient(timeout=10) as http,
    ):
        # `doomed` acks what it receives but never gets to handle it, and runs no scheduled work: as good as dead.
        stalled = asyncio.Semaphore(0)
        doomed.runtime.deps.work._slots = stalled
        doomed.runtime._stop.set()

        await Person(REQUESTER, HttpSlack([survivor.url], http), slack_api).hire(DEMO)
        root = await eventually(lambda: root_of(slack_api), "the root message")
        await eventually(lambda: in_thread(slack_api, root, "(1 of"), "the first question")

        acked = await Person(REQUESTER, HttpSlack([doomed.url], http), slack_api).say("Bounding box", root)
        assert acked == 200
        await eventually(lambda: in_thread(slack_api, root, "(2 of"), "the next question, from the other process")

        stalled.release()  # the stalled process wakes up and handles the same answer: nothing happens twice
        await doomed.runtime.deps.work.drain(timeout=10)
        thread = slack_api.thread(root.channel, root.ts)
        assert sum("(2 of" in text_of(message) for message in thread) == 1
        assert not await survivor.runtime.redis.hlen(f"{settings.redis_namespace}:sched:{inbox.INBOX_KIND}:payload")
