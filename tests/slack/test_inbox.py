"""A `/hire`, an answer or a click acked by a process that never gets to handle it is handled by another, once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.app import serve_http
from bot.infra.scheduler import SHARDS
from bot.infra.storage import key
from bot.slack import inbox
from tests.slack.conftest import DEMO, REQUESTER, TEAM, HttpSlack, Person, text_of
from tests.slack.story import eventually, in_thread, root_of
from tests.support.slack_api import PostedMessage, SlackApiStandIn


@dataclass
class TwoProcesses:
    doomed: Any  # acks what it receives but runs no scheduled work: it never replays anything itself
    survivor: Any
    http: httpx.AsyncClient
    slack_api: SlackApiStandIn

    def requester_via(self, server: Any) -> Person:
        return Person(REQUESTER, HttpSlack([server.url], self.http), self.slack_api)

    def stall_doomed(self) -> asyncio.Semaphore:
        """From now on `doomed` acks but never gets to handle anything, until the semaphore is released; frozen as a
        whole, as a killed process is, so it keeps nothing of what it acked ahead of the redrive either."""
        async def no_heartbeat(item_id: str) -> None:
            return None

        stalled = asyncio.Semaphore(0)
        self.doomed.runtime.deps.work._slots = stalled
        self.doomed.runtime.deps.inbox._keep_due_ahead = no_heartbeat
        return stalled

    def roots(self) -> list[PostedMessage]:
        return [m for m in self.slack_api.messages.values() if m.thread_ts is None]


@pytest.fixture
async def two_processes(make_settings, slack_api, monkeypatch):
    monkeypatch.setattr(inbox, "REDRIVE_SECONDS", 1.0)
    settings = make_settings()
    async with (
        serve_http(settings, port=0) as doomed,
        serve_http(settings, port=0) as survivor,
        httpx.AsyncClient(timeout=10) as http,
    ):
        doomed.runtime._stop.set()
        yield TwoProcesses(doomed, survivor, http, slack_api)


async def test_an_acked_answer_left_by_a_stopped_process_is_handled_once_by_another(two_processes):
    both, api = two_processes, two_processes.slack_api
    stalled = both.stall_doomed()
    await both.requester_via(both.survivor).hire(DEMO)
    root = await eventually(lambda: root_of(api), "the root message")
    await eventually(lambda: in_thread(api, root, "(1 of"), "the first question")

    assert await both.requester_via(both.doomed).say("Bounding box", root) == 200
    await eventually(lambda: in_thread(api, root, "(2 of"), "the next question, from the other process")

    stalled.release()  # the stalled process wakes up and handles the same answer: nothing happens twice
    await both.doomed.runtime.deps.work.drain(timeout=10)
    assert sum("(2 of" in text_of(message) for message in api.thread(root.channel, root.ts)) == 1
    namespace = both.survivor.runtime.deps.settings.redis_namespace
    payloads = [key(namespace, "sched", f"{inbox.INBOX_KIND}:{shard}", "payload") for shard in range(SHARDS)]
    assert not [p for p in payloads if await both.survivor.runtime.redis.hlen(p)]


async def test_an_acked_hire_left_by_a_stopped_process_is_started_once_by_another(two_processes):
    both, api = two_processes, two_processes.slack_api
    stalled = both.stall_doomed()
    assert await both.requester_via(both.doomed).hire(DEMO) == 200
    root = await eventually(lambda: root_of(api), "the root message, from the other process")
    await eventually(lambda: in_thread(api, root, "(1 of"), "the first question")

    stalled.release()  # the stalled process wakes up and starts the same /hire: nothing happens twice
    await both.doomed.runtime.deps.work.drain(timeout=10)
    assert len(both.roots()) == 1
    assert sum("(1 of" in text_of(message) for message in api.thread(root.channel, root.ts)) == 1


async def test_a_hire_whose_process_died_after_posting_the_root_goes_on_under_that_root(two_processes, monkeypatch):
    both, api = two_processes, two_processes.slack_api
    # `doomed` posts the root message, then freezes before recording it anywhere.
    registry = both.doomed.runtime.deps.registry
    thawed, record = asyncio.Event(), registry.add

    async def frozen_add(*args, **kwargs):
        await thawed.wait()
        return await record(*args, **kwargs)

    monkeypatch.setattr(registry, "add", frozen_add)

    async def no_heartbeat(item_id: str) -> None:  # frozen as a whole, as a killed process is: no heartbeat either
        return None

    monkeypatch.setattr(both.doomed.runtime.deps.inbox, "_keep_due_ahead", no_heartbeat)

    assert await both.requester_via(both.doomed).hire(DEMO) == 200
    root = await eventually(lambda: root_of(api), "the root message")
    await eventually(lambda: in_thread(api, root, "(1 of"), "the first question under that root, from the survivor")
    assert api.calls_to("conversations.history")
    await both.requester_via(both.survivor).say("Bounding box", root)
    second = await eventually(lambda: in_thread(api, root, "(2 of"), "the conversation going on")
    posts = len(api.calls_to("chat.postMessage"))

    thawed.set()  # the frozen process comes back: it neither posts nor resets the conversation's record
    await both.doomed.runtime.deps.work.drain(timeout=10)
    assert len(api.calls_to("chat.postMessage")) == posts and len(both.roots()) == 1
    conversation = await both.survivor.runtime.deps.registry.get(TEAM, f"{root.channel}:{root.ts}")
    assert conversation.question_ts == second.ts


async def test_a_step_its_process_is_still_handling_is_not_handled_again_elsewhere(two_processes, monkeypatch):
    both, api = two_processes, two_processes.slack_api
    await both.requester_via(both.survivor).hire(DEMO)
    root = await eventually(lambda: root_of(api), "the root message")
    await eventually(lambda: in_thread(api, root, "(1 of"), "the first question")

    # `doomed` takes three redrive periods over the answer, alive all along: its heartbeat keeps the step its own.
    dialogue = both.doomed.runtime.deps.dialogue
    answer = dialogue.answer

    async def slow_answer(*args, **kwargs):
        await asyncio.sleep(3 * inbox.REDRIVE_SECONDS)
        await answer(*args, **kwargs)

    monkeypatch.setattr(dialogue, "answer", slow_answer)
    handlers = both.survivor.runtime.deps.inbox._handlers
    redriven: list[dict[str, Any]] = []
    take = handlers["answer"]

    async def noting(payload, redelivered):
        redriven.append(payload)
        await take(payload, redelivered)

    monkeypatch.setitem(handlers, "answer", noting)
    assert await both.requester_via(both.doomed).say("Bounding box", root) == 200
    await eventually(lambda: in_thread(api, root, "(2 of"), "the next question, from the slow process")
    assert redriven == []


async def test_slacks_retry_of_an_answer_a_dead_process_took_first_is_not_dropped(two_processes, monkeypatch):
    both, api = two_processes, two_processes.slack_api
    await both.requester_via(both.survivor).hire(DEMO)
    root = await eventually(lambda: root_of(api), "the root message")
    await eventually(lambda: in_thread(api, root, "(1 of"), "the first question")

    # `doomed` takes the event (its id is now marked delivered), then freezes for good, heartbeat and all.
    frozen = asyncio.Event()

    async def freeze(*args, **kwargs):
        await frozen.wait()

    async def no_heartbeat(item_id: str) -> None:
        return None

    monkeypatch.setattr(both.doomed.runtime.deps.dialogue, "answer", freeze)
    monkeypatch.setattr(both.doomed.runtime.deps.inbox, "_keep_due_ahead", no_heartbeat)
    person = both.requester_via(both.doomed)
    envelope = person.message_envelope("Bounding box", root.channel, root.ts)
    assert await person.slack.event(envelope) == 200
    # Slack retries it at the other process: a duplicate event id there, yet it must not drop the step.
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert await both.requester_via(both.survivor).slack.event(envelope, headers=retry) == 200
    await eventually(lambda: in_thread(api, root, "(2 of"), "the next question, once the dead one's step fell due")
    frozen.set()


async def test_a_step_applied_by_a_process_that_died_before_showing_it_is_shown_by_another(two_processes,
                                                                                           monkeypatch):
    both, api = two_processes, two_processes.slack_api
    await both.requester_via(both.survivor).hire(DEMO)
    root = await eventually(lambda: root_of(api), "the root message")
    await eventually(lambda: in_thread(api, root, "(1 of"), "the first question")

    # `doomed` applies the answer, then freezes before showing anything: no next question, no heartbeat.
    dies_here = asyncio.Event()

    async def frozen(*args, **kwargs) -> None:
        await dies_here.wait()

    async def no_heartbeat(item_id: str) -> None:
        return None

    monkeypatch.setattr(both.doomed.runtime.deps.dialogue, "show", frozen)
    monkeypatch.setattr(both.doomed.runtime.deps.inbox, "_keep_due_ahead", no_heartbeat)
    assert await both.requester_via(both.doomed).say("Bounding box", root) == 200
    await eventually(lambda: in_thread(api, root, "(2 of"), "the next question, shown by the other process")
    dies_here.set()
    await both.doomed.runtime.deps.work.drain(timeout=10)
    assert sum("(2 of" in text_of(message) for message in api.thread(root.channel, root.ts)) == 1


async def test_a_step_posted_by_a_process_that_died_before_remembering_it_is_not_posted_again(two_processes,
                                                                                             monkeypatch):
    both, api = two_processes, two_processes.slack_api
    await both.requester_via(both.survivor).hire(DEMO)
    root = await eventually(lambda: root_of(api), "the root message")
    await eventually(lambda: in_thread(api, root, "(1 of"), "the first question")

    # `doomed` applies the answer and posts the next question, then freezes before remembering where it posted it.
    dies_here = asyncio.Event()
    dialogue = both.doomed.runtime.deps.dialogue
    remember = dialogue._remember

    async def frozen_after_posting(team_id, conversation, **fields):
        if fields.get("question_ts"):
            await dies_here.wait()  # and, released at the end of the test, remembers nothing: it is dead
            return conversation
        return await remember(team_id, conversation, **fields)

    async def no_heartbeat(item_id: str) -> None:
        return None

    monkeypatch.setattr(dialogue, "_remember", frozen_after_posting)
    monkeypatch.setattr(both.doomed.runtime.deps.inbox, "_keep_due_ahead", no_heartbeat)
    assert await both.requester_via(both.doomed).say("Bounding box", root) == 200
    question = await eventually(lambda: in_thread(api, root, "(2 of"), "the next question, posted by `doomed`")
    # The survivor replays the message once the doomed process's inbox entry falls due; it finds the question posted.
    survivor = both.survivor.runtime.deps
    conversation_id = f"{root.channel}:{root.ts}"
    await _until_remembered(survivor, conversation_id)
    assert sum("(2 of" in text_of(message) for message in api.thread(root.channel, root.ts)) == 1

    # The remembered question is the live one: answering it settles that very message and moves on.
    assert await both.requester_via(both.survivor).say("2", root) == 200
    await eventually(lambda: in_thread(api, root, "(3 of") or in_thread(api, root, "Review your job"), "the next step")
    answered = api.messages[(question.channel, question.ts)]
    assert "(2 of" not in text_of(answered), "the answered question keeps its buttons"
    dies_here.set()
    await both.doomed.runtime.deps.work.drain(timeout=10)


async def _until_remembered(deps: Any, conversation_id: str, timeout: float = 20.0) -> None:
    """Until the registry holds the open question's message again."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not getattr(await deps.registry.get(TEAM, conversation_id), "question_ts", ""):
        assert asyncio.get_running_loop().time() < deadline, "the question's message was never remembered"
        await asyncio.sleep(0.05)
