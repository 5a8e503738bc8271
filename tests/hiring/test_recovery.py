"""The recovery decisions, fast: an answer sent before the open question was asked, messages waiting for a live call
in the order they were sent, a dead owner's call taken over at once. The engine against the sandbox and a real Redis;
a lease lapsing is its key deleted, as Redis does when no heartbeat renews it."""

from __future__ import annotations

import asyncio

from bot.hiring import wording
from bot.hiring.record import CallArgs, PendingCall
from bot.hiring.states import Op
from bot.hiring.views import Notice, Question, ReviewCard
from tests.hiring.conftest import REQUESTER
from tests.hiring.test_conversation import ProcessDied, dies_after, lapse_lease, notices, only


def values(reply) -> dict[str, str]:
    return {f.key: f.value for f in only(reply, ReviewCard).fields}


async def test_an_answer_sent_before_the_open_question_was_asked_is_not_applied_to_it(bot, clock):
    reply = await bot.hire()
    assert only(reply, Question).key == "labelTypes"
    clock.advance(5)
    reply = await bot.engine.handle(bot.ref, REQUESTER, "m-1", "Bounding box", sent_at=clock.now - 1)
    assert reply.taken and only(reply, Question).key == "experienceLevel"
    patches = bot.requests("PATCH", "/job-drafts/")

    # The same words typed again before the second question was asked (the bot seemed stuck): not its answer.
    late = await bot.engine.handle(bot.ref, REQUESTER, "m-2", "Bounding box", sent_at=clock.now - 0.5)
    assert not late.taken and wording.ALREADY_TAKEN in notices(late)
    assert only(late, Question).key == "experienceLevel"
    assert bot.requests("PATCH", "/job-drafts/") == patches
    assert (await bot.engine.handle(bot.ref, REQUESTER, "m-2", "Bounding box", sent_at=clock.now - 0.5)).duplicate
    # Words that are not an answer still work, and an answer sent after the question is its answer.
    assert "help" not in notices(await bot.engine.handle(bot.ref, REQUESTER, "m-3", "help", sent_at=clock.now - 9))
    reply = await bot.engine.handle(bot.ref, REQUESTER, "m-4", "expert", sent_at=clock.now + 1)
    assert reply.taken and values(reply)["experienceLevel"] == "Expert"


async def test_a_retyped_answer_replays_the_dead_call_and_never_fills_the_next_field(make_harness, clock):
    doomed = make_harness()
    reply = await doomed.hire()
    assert only(reply, Question).key == "labelTypes"
    dies_after(doomed, "update_draft")
    clock.advance(5)
    try:
        await doomed.engine.handle(doomed.ref, REQUESTER, "m-first", "Bounding box", sent_at=clock.now)
    except ProcessDied:
        pass
    else:
        raise AssertionError("the doomed process should have died")

    survivor = make_harness()
    clock.advance(3)
    await lapse_lease(doomed)  # within pending_lease_seconds of the death, with no heartbeat
    # Typed a moment before it arrives; the replay it triggers asks the next question after that.
    again = await survivor.engine.handle(survivor.ref, REQUESTER, "m-again", "Bounding box",
                                         sent_at=clock.now - 0.1)
    assert "Picking up" in notices(again) and wording.ALREADY_TAKEN in notices(again)
    assert not again.taken
    assert [v.key for v in again.views if isinstance(v, Question)] == ["experienceLevel"]  # shown once
    # The dead process's own message, redelivered meanwhile, is a duplicate and leaves the showing to the replayer
    # (alive, maybe posting it this very moment); were the replayer to die too, its own redelivery would show it.
    redelivered = await survivor.engine.handle(survivor.ref, REQUESTER, "m-first", "Bounding box", sent_at=clock.now)
    assert redelivered.duplicate
    assert (await survivor.engine.open_view(survivor.ref, "m-first")).views == []
    assert [v.key for v in (await survivor.engine.open_view(survivor.ref, "m-again")).views] == ["experienceLevel"]
    reply = await survivor.engine.handle(survivor.ref, REQUESTER, "m-level", "2", sent_at=clock.now + 1)
    assert values(reply)["labelTypes"] == "Bounding box" and values(reply)["experienceLevel"] == "Entry level"


async def test_a_dead_owners_call_is_taken_over_at_once_by_a_waiting_message(make_harness, clock):
    doomed = make_harness()
    await doomed.hire()
    dies_after(doomed, "update_draft")
    try:
        await doomed.say("Bounding box")
    except ProcessDied:
        pass
    survivor = make_harness()
    waiting = asyncio.create_task(survivor.say("status please"))  # any words: they wait for the live lease
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await lapse_lease(doomed)
    reply = await asyncio.wait_for(waiting, timeout=10)
    assert "Picking up" in notices(reply) and only(reply, Question).key == "experienceLevel"


async def test_messages_waiting_for_a_live_call_go_in_the_order_they_were_sent(bot, clock, redis):
    await bot.hire()
    store = bot.engine.store
    # A live call, as another process holds it: pending, its lease held by a token that is not ours.
    held = await store.load(bot.ref)
    held.pending = PendingCall(op=Op.PATCH, args=CallArgs(), message_id="m-owner", started_at=clock.now)
    assert await store.save(held, lease="other-process:token")

    # The later-sent one arrives first; both wait.
    later = asyncio.create_task(bot.engine.handle(bot.ref, REQUESTER, "m-b", "expert", sent_at=clock.now + 2))
    await asyncio.sleep(0.2)
    earlier = asyncio.create_task(bot.engine.handle(bot.ref, REQUESTER, "m-a", "Bounding box",
                                                    sent_at=clock.now + 1))
    await asyncio.sleep(0.3)
    assert not later.done() and not earlier.done()
    assert await redis.zcard(store.record_key(bot.ref) + ":queue") == 2

    # The owner finishes (nothing changed): the earlier answer goes first, to the first question.
    done = await store.load(bot.ref)
    done.pending = None
    done.mark_processed("m-owner")
    assert await store.save(done, release="other-process:token")
    first, second = await asyncio.wait_for(asyncio.gather(earlier, later), timeout=20)
    assert first.taken and second.taken
    assert values(second) == {**values(second), "labelTypes": "Bounding box", "experienceLevel": "Expert"}
    assert not await redis.exists(store.record_key(bot.ref) + ":queue")


async def test_a_message_told_to_wait_too_long_is_asked_to_send_again(make_harness, clock):
    bot = make_harness(pending_wait_seconds=0.3)
    await bot.hire()
    held = await bot.engine.store.load(bot.ref)
    held.pending = PendingCall(op=Op.PATCH, message_id="m-owner", started_at=clock.now)
    assert await bot.engine.store.save(held, lease="other-process:token")
    reply = await bot.say("Bounding box")
    assert not reply.taken and notices(reply) == wording.STILL_WORKING
    assert isinstance(reply.views[0], Notice)


async def test_a_retyped_answer_after_a_step_nobody_showed_leaves_its_showing_to_the_redelivery(make_harness, clock):
    bot = make_harness()
    await bot.hire()
    clock.advance(5)
    await bot.engine.handle(bot.ref, REQUESTER, "m-labels", "Bounding box", sent_at=clock.now)
    clock.advance(5)
    # The level answer is applied (the review card is next), then its process dies before showing anything.
    applied = await bot.engine.handle(bot.ref, REQUESTER, "m-level", "2", sent_at=clock.now)
    assert only(applied, ReviewCard)
    clock.advance(4)
    # The requester, seeing no card, types it again: that message is not the card's to show ...
    again = await bot.engine.handle(bot.ref, REQUESTER, "m-again", "2", sent_at=clock.now)
    shown_again = [v for v in again.views if isinstance(v, ReviewCard)]
    # ... so exactly one of the two shows it: the retype, or the dead process's message when it is redelivered.
    redelivered = (await bot.engine.open_view(bot.ref, "m-level")).views
    assert len(shown_again) + len(redelivered) == 1, (again.views, redelivered)
