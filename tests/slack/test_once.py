"""SlackOnce over a real Redis and the Slack stand-in: a message posted once per record, whatever Slack answers."""

from __future__ import annotations

import asyncio

import pytest

from bot.infra.storage import key
from bot.slack.blocks.conversation import SlackMessage
from bot.slack.once import PostUnsure, SlackOnce
from tests.support.proposals import CHANNEL, ROOT_TS, slack_client

MESSAGE = SlackMessage(text="The budget is running low.")


def posts(slack_api) -> list:
    return [m for m in slack_api.messages.values() if m.text == MESSAGE.text]


async def test_a_post_whose_answer_was_lost_is_found_not_repeated(redis, namespace, slack_api):
    once = SlackOnce(redis, slack_client(slack_api), 60)
    record = key(namespace, "ws", "T1", "contract", "ctr_1", "budget", "7")
    slack_api.drop_connection("chat.postMessage")
    with pytest.raises(PostUnsure):
        await once.post(record, CHANNEL, ROOT_TS, MESSAGE)
    ts = await once.post(record, CHANNEL, ROOT_TS, MESSAGE)  # looks in the thread first, finds it
    assert ts == posts(slack_api)[0].ts and len(posts(slack_api)) == 1
    assert await once.post(record, CHANNEL, ROOT_TS, MESSAGE) == ts
    assert 0 < await redis.ttl(record) <= 60


async def test_an_error_after_the_effect_and_racing_processes_still_post_once(redis, namespace, slack_api):
    record = key(namespace, "ws", "T1", "contract", "ctr_2", "budget", "8")
    slack_api.fail_after_effect("chat.postMessage", "internal_error", status=500)
    first = SlackOnce(redis, slack_client(slack_api), 60)
    with pytest.raises(PostUnsure):
        await first.post(record, "D_UREQ", None, MESSAGE)  # a DM: looked for in the channel's history
    racing = [SlackOnce(redis, slack_client(slack_api), 60) for _ in range(5)]
    answers = await asyncio.gather(*(o.post(record, "D_UREQ", None, MESSAGE) for o in racing))
    assert len(posts(slack_api)) == 1 and posts(slack_api)[0].ts in answers


async def test_a_refused_post_is_given_up_without_holding_anything(redis, namespace, slack_api):
    slack_api.bot_cannot_post_in("CCLOSED")
    once = SlackOnce(redis, slack_client(slack_api), 60)
    assert await once.post(key(namespace, "ws", "T1", "x"), "CCLOSED", None, MESSAGE) is None
    assert posts(slack_api) == []


async def test_a_send_slower_than_the_lock_is_not_repeated_by_another_process(redis, namespace, slack_api):
    record = key(namespace, "ws", "T1", "contract", "ctr_3")
    slack_api.slow("chat.postMessage", 1.2)  # Slack slow to answer (a timeout, Retry-After waits)
    slow, other = (SlackOnce(redis, slack_client(slack_api), 60, lock_ms=300) for _ in range(2))
    sending = asyncio.create_task(slow.post(record, CHANNEL, ROOT_TS, MESSAGE))
    await asyncio.sleep(0.7)  # past the lock's first 300 ms
    assert await other.post(record, CHANNEL, ROOT_TS, MESSAGE) is None  # the sender still holds it
    ts = await sending
    assert [m.ts for m in posts(slack_api)] == [ts]
    assert await other.post(record, CHANNEL, ROOT_TS, MESSAGE) == ts
