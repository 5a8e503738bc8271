"""The conversation store against a real Redis: versioned compare-and-set, dedupe memory, expiry."""

import asyncio

from bot.hiring.jobs import JobRecord, list_workspaces_with_jobs, lookup_job, record_job
from bot.hiring.record import PROCESSED_MEMORY, Conversation, ConversationRef
from bot.hiring.states import State
from bot.hiring.store import ConversationStore

REF = ConversationRef("T1", "C1:1700.1")


def new_conversation() -> Conversation:
    return Conversation(workspace_id=REF.workspace_id, conversation_id=REF.conversation_id, requester="U1",
                        state=State.DRAFTING, created_at=1.0, updated_at=1.0, description="annotators")


async def test_only_one_writer_of_a_version_wins_and_records_round_trip(redis, namespace):
    store = ConversationStore(redis, namespace, idle_seconds=60)
    assert await store.load(REF) is None
    assert await store.save(new_conversation())

    first, second = await store.load(REF), await store.load(REF)
    first.state, second.state = State.ASKING, State.CANCELLED
    results = await asyncio.gather(store.save(first), store.save(second))
    assert sorted(results) == [False, True]

    stored = await store.load(REF)
    assert stored.version == 2
    assert stored.state == ("asking" if results[0] else "cancelled")
    # A stale copy can never overwrite a newer one, and a brand-new record can't replace an existing one.
    assert not await store.save(first if not results[0] else second)
    assert not await store.save(new_conversation())

    ttl = await redis.pttl(store.record_key(REF))
    assert 60_000 < ttl <= 120_000  # kept past the idle time, so a late answer can hear "expired"


async def test_processed_ids_are_bounded(redis, namespace):
    conversation = new_conversation()
    for n in range(PROCESSED_MEMORY + 5):
        conversation.mark_processed(f"m{n}")
    conversation.mark_processed("m10")  # seen again: not duplicated
    assert len(conversation.processed) == PROCESSED_MEMORY
    assert conversation.processed[-1] == f"m{PROCESSED_MEMORY + 4}"


async def test_job_registry(redis, namespace):
    record = JobRecord(job_id="job_1", workspace_id="T1", ref=REF, requester="U1", surface={"dm": "D1"})
    await record_job(redis, namespace, record)
    assert await lookup_job(redis, namespace, "job_1") == record
    assert await lookup_job(redis, namespace, "job_404") is None
    assert await list_workspaces_with_jobs(redis, namespace) == ["T1"]
