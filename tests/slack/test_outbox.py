"""The outbox on a real Redis and the Slack stand-in: pacing, digests, 429s and crashes lose and repeat nothing."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from bot.infra.scheduler import Scheduler
from bot.infra.storage import key
from bot.slack.outbox import CardAction, Destination, Lane, Outbox
from tests.support.proposals import CHANNEL, ROOT_TS, TEAM, make_card, slack_client

LANE = Lane(TEAM, CHANNEL)
THREAD = Destination(CHANNEL, ROOT_TS)


def outbox_for(redis, namespace, api, clock, client=None) -> Outbox:
    scheduler = Scheduler(redis, namespace, clock=clock)
    return Outbox(redis, namespace, client or slack_client(api), scheduler, clock=clock)


async def queue(outbox: Outbox, namespace: str, actions: list[CardAction], cursor: tuple[str | None, str]) -> bool:
    # The cursor under the workspace's hash tag, as the ledger's: the commit script touches one Cluster slot.
    return await outbox.commit(key(namespace, "ws", TEAM, "test-cursor"), cursor[0], cursor[1], actions)


def proposals_shown(api) -> Counter[str]:
    """How many Slack messages name each proposal (cards and digest lines alike)."""
    shown: Counter[str] = Counter()
    for message in api.messages.values():
        shown.update(set(re.findall(r"prop_[A-Za-z0-9]+", json.dumps(message.blocks))))
    return shown


async def drain(outbox: Outbox, clock, rounds: int = 30) -> None:
    for _ in range(rounds):
        if await outbox.run_lane(LANE) is None:
            return
        clock.advance(1.0)
    raise AssertionError("the lane never emptied")


async def test_a_burst_becomes_one_digest_and_single_arrivals_stay_cards(redis, namespace, slack_api, clock):
    outbox = outbox_for(redis, namespace, slack_api, clock)
    burst = [make_card() for _ in range(12)]
    assert await queue(outbox, namespace, [CardAction(TEAM, c, THREAD) for c in burst], (None, "1012"))

    assert await outbox.run_lane(LANE) is None
    [digest] = slack_api.messages.values()
    assert digest.thread_ts == ROOT_TS and "12 new proposals" in digest.text
    assert proposals_shown(slack_api) == Counter({c.proposal_id: 1 for c in burst})

    # Two more, one at a time: a card each, never faster than one message a second.
    first, second = make_card(), make_card()
    await queue(outbox, namespace, [CardAction(TEAM, first, THREAD)], ("1012", "1013"))
    clock.advance(1.0)
    await outbox.run_lane(LANE)
    await queue(outbox, namespace, [CardAction(TEAM, second, THREAD)], ("1013", "1014"))
    assert await outbox.run_lane(LANE) == clock.now + 1.0  # the slot is taken: come back in a second
    assert len(slack_api.messages) == 2
    clock.advance(1.0)
    assert await outbox.run_lane(LANE) is None
    card = slack_api.message(CHANNEL, (await outbox.location(TEAM, second.proposal_id))[1])
    assert "Request hire" in str(card.blocks) and "profilePhotoUrl" not in str(card.blocks)
    assert all(m.thread_ts == ROOT_TS for m in slack_api.messages.values())
    assert not any(c.args.get("reply_broadcast") for c in slack_api.calls_to("chat.postMessage"))

    # A stale cursor (another reader got there first) queues nothing.
    assert not await queue(outbox, namespace, [CardAction(TEAM, make_card(), THREAD)], ("1012", "1015"))


async def test_slack_429s_during_a_burst_lose_nothing(redis, namespace, slack_api, clock):
    outbox = outbox_for(redis, namespace, slack_api, clock)
    slack_api.rate_limit("chat.postMessage", retry_after=3, times=2)
    cards = [make_card() for _ in range(2)]
    await queue(outbox, namespace, [CardAction(TEAM, c, THREAD) for c in cards], (None, "1"))

    assert await outbox.run_lane(LANE) == clock.now + 3  # Retry-After honoured
    assert not slack_api.messages
    clock.advance(3)
    await outbox.run_lane(LANE)
    assert not slack_api.messages
    clock.advance(3)
    await drain(outbox, clock)
    assert proposals_shown(slack_api) == Counter({c.proposal_id: 1 for c in cards})
    assert not slack_api.calls_to("conversations.replies")  # a 429 proves nothing was posted: no need to look


@pytest.mark.parametrize("error, status", [("internal_error", 200), ("fatal_error", 500),
                                           ("service_unavailable", 503), ("request_timeout", 200)])
async def test_a_post_slack_failed_after_making_is_found_not_posted_again(
        redis, namespace, slack_api, clock, error, status):
    outbox = outbox_for(redis, namespace, slack_api, clock)
    slack_api.fail_after_effect("chat.postMessage", error, status=status)
    card = make_card()
    await queue(outbox, namespace, [CardAction(TEAM, card, THREAD)], (None, "1"))

    assert await outbox.run_lane(LANE) == clock.now + 5  # Slack failed: try again a little later
    [message] = slack_api.messages.values()  # ... though the post was made
    clock.advance(5)
    await drain(outbox, clock)
    assert list(slack_api.messages.values()) == [message]
    assert await outbox.location(TEAM, card.proposal_id) == (CHANNEL, message.ts)
    assert len(slack_api.calls_to("chat.postMessage")) == 1


async def test_a_post_slack_failed_without_making_is_sent_after_looking(redis, namespace, slack_api, clock):
    outbox = outbox_for(redis, namespace, slack_api, clock)
    slack_api.fail("chat.postMessage", "internal_error")
    card = make_card()
    await queue(outbox, namespace, [CardAction(TEAM, card, THREAD)], (None, "1"))

    await outbox.run_lane(LANE)
    assert not slack_api.messages
    clock.advance(5)
    await drain(outbox, clock)
    assert proposals_shown(slack_api) == Counter({card.proposal_id: 1})
    assert slack_api.calls_to("conversations.replies")


class LostAnswer(Exception):
    """Stands for the process dying: Slack got the post, the sender never recorded it."""


async def test_a_post_whose_sender_died_is_found_in_slack_not_posted_again(redis, namespace, slack_api, clock):
    class DiesAfterPosting(type(slack_client(slack_api))):
        async def chat_postMessage(self, **kwargs):
            await super().chat_postMessage(**kwargs)
            raise LostAnswer

    dying = outbox_for(redis, namespace, slack_api, clock, DiesAfterPosting(
        token="xoxb-test-bot-token", base_url=slack_api.url, retry_handlers=[]))
    cards = [make_card()]
    await queue(dying, namespace, [CardAction(TEAM, c, THREAD) for c in cards], (None, "1"))
    try:
        await dying.run_lane(LANE)
    except LostAnswer:
        pass
    assert len(slack_api.messages) == 1 and await dying.location(TEAM, cards[0].proposal_id) is None

    clock.advance(1.0)
    survivor = outbox_for(redis, namespace, slack_api, clock)
    await drain(survivor, clock)
    assert len(slack_api.messages) == 1
    [message] = slack_api.messages.values()
    assert await survivor.location(TEAM, cards[0].proposal_id) == (CHANNEL, message.ts)
    assert slack_api.calls_to("conversations.replies")  # found by its metadata in the thread


async def test_a_post_that_never_reached_slack_is_sent_by_the_next_sender(redis, namespace, slack_api, clock):
    class DiesBeforePosting(type(slack_client(slack_api))):
        async def chat_postMessage(self, **kwargs):
            raise TimeoutError

    dying = outbox_for(redis, namespace, slack_api, clock, DiesBeforePosting(
        token="xoxb-test-bot-token", base_url=slack_api.url, retry_handlers=[]))
    top_level = Destination(CHANNEL, None)
    cards = [make_card() for _ in range(3)]
    await queue(dying, namespace, [CardAction(TEAM, c, top_level) for c in cards], (None, "1"))
    await dying.run_lane(LANE)
    assert not slack_api.messages

    clock.advance(1.0)
    await drain(outbox_for(redis, namespace, slack_api, clock), clock)
    [digest] = slack_api.messages.values()
    assert digest.thread_ts is None
    assert proposals_shown(slack_api) == Counter({c.proposal_id: 1 for c in cards})
    assert len(slack_api.calls_to("conversations.history")) == 1  # looked before posting


async def test_status_changes_update_cards_and_digest_lines_in_place(redis, namespace, slack_api, clock):
    outbox = outbox_for(redis, namespace, slack_api, clock)
    single = make_card()
    await queue(outbox, namespace, [CardAction(TEAM, single, THREAD)], (None, "1"))
    await drain(outbox, clock)
    burst = [make_card() for _ in range(3)]
    await queue(outbox, namespace, [CardAction(TEAM, c, THREAD) for c in burst], ("1", "2"))
    clock.advance(1)
    await drain(outbox, clock)

    shortlisted = make_card(status="SHORTLISTED", id=single.proposal_id)
    hired = make_card(status="HIRED", id=burst[1].proposal_id)
    await queue(outbox, namespace, [CardAction(TEAM, shortlisted), CardAction(TEAM, hired)], ("2", "3"))
    clock.advance(1)
    await drain(outbox, clock)

    assert len(slack_api.messages) == 2
    card = slack_api.message(*await outbox.location(TEAM, single.proposal_id))
    digest = slack_api.message(*await outbox.location(TEAM, burst[1].proposal_id))
    assert "Shortlisted" in card.text and card.updates == 1
    assert "Hired" in digest.text and digest.updates == 1
