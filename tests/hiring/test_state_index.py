"""The per-state index behind the metrics' conversation counts: filed by every save, forgotten with the record."""

from __future__ import annotations

import asyncio

from bot.hiring.record import Conversation, ConversationRef
from bot.hiring.states import State
from bot.hiring.store import SHARDS, ConversationStore, conversations_by_state, state_index_key
from bot.infra.storage import shard_of


def conversation(n: int) -> Conversation:
    return Conversation(workspace_id="T1", conversation_id=f"C1:1700.{n}", requester="U1", state=State.DRAFTING,
                        created_at=1.0, updated_at=1.0, description="annotators")


def nonzero(counts: dict[State, int]) -> dict[State, int]:
    return {state: count for state, count in counts.items() if count}


async def test_each_conversation_is_counted_once_in_the_state_of_its_last_save(redis, namespace):
    store = ConversationStore(redis, namespace, idle_seconds=60)
    assert nonzero(await conversations_by_state(redis, namespace)) == {}
    first, second = conversation(1), conversation(2)
    assert await store.save(first) and await store.save(second)
    assert nonzero(await conversations_by_state(redis, namespace)) == {State.DRAFTING: 2}

    first.state = State.ASKING
    assert await store.save(first)
    stale = await store.load(ConversationRef("T1", "C1:1700.2"))
    second.state = State.CANCELLED
    assert await store.save(second)
    stale.state = State.REVIEW
    assert not await store.save(stale)  # a write that loses its compare-and-set files nothing either
    assert nonzero(await conversations_by_state(redis, namespace)) == {State.ASKING: 1, State.CANCELLED: 1}


async def test_a_record_that_expires_untouched_leaves_the_count(redis, namespace):
    store = ConversationStore(redis, namespace, idle_seconds=0.15)  # records live 0.3 s
    assert await store.save(conversation(1))
    assert nonzero(await conversations_by_state(redis, namespace)) == {State.DRAFTING: 1}
    await asyncio.sleep(0.4)
    assert await store.load(ConversationRef("T1", "C1:1700.1")) is None
    assert nonzero(await conversations_by_state(redis, namespace)) == {}
    # The next save into that state (and index shard) prunes the expired entry from the index itself.
    shard = shard_of("T1:C1:1700.1", SHARDS)
    neighbour = next(n for n in range(2, 1000) if shard_of(f"T1:C1:1700.{n}", SHARDS) == shard)
    assert await store.save(conversation(neighbour))
    assert await redis.zcard(state_index_key(namespace, State.DRAFTING, shard)) == 1
