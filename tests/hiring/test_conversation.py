"""Whole hiring conversations: the engine against the sandbox over HTTP and a real Redis."""

from __future__ import annotations

import asyncio

import pytest

from bot.hiring.jobs import lookup_job
from bot.hiring.record import PendingCall
from bot.hiring.states import IllegalTransition, Op, State
from bot.hiring.table import move
from bot.hiring.views import (
    ClaimConfirm,
    ClaimInstructions,
    EmailRequest,
    Mention,
    NotAllowed,
    Notice,
    Published,
    Question,
    ReviewCard,
    Status,
)
from tests.hiring.conftest import DEMO, REQUESTER

SAMPLE_ANSWERS = {"enum": "1", "number": "20", "integer": "4", "array": "Bounding box", "boolean": "yes"}


def only(reply, kind):
    found = [v for v in reply.views if isinstance(v, kind)]
    assert found, f"no {kind.__name__} in {reply.views}"
    return found[-1]


def notices(reply) -> str:
    return " | ".join(v.text for v in reply.views if isinstance(v, Notice))


async def answer_until_review(bot, reply):
    """Answer every question with a plausible value of its type; returns the review reply."""
    for _ in range(20):
        if reply.state == "review":
            return reply
        question = only(reply, Question)
        reply = await bot.say(SAMPLE_ANSWERS.get(question.type, "Something sensible"))
    raise AssertionError(f"never reached review: {reply}")


async def confirm_flagged(bot, reply):
    card = only(reply, ReviewCard)
    for key in card.unconfirmed:
        reply = await bot.say(f"confirm {key}")
    assert not only(reply, ReviewCard).unconfirmed
    return reply


async def test_happy_path_from_description_to_claimed_account(bot, redis, namespace):
    bot.control("config", {"claimIntervalSeconds": 0})
    reply = await bot.hire(surface={"dm": "D1"})
    assert reply.state == "asking"
    question = only(reply, Question)
    assert (question.field, question.type, question.position) == ("labelTypes", "array", "1 of 2")
    assert not question.text.lower().startswith("ask:") and question.example
    reply = await bot.say("Bounding box, Polygon")

    question = only(reply, Question)
    assert (question.field, question.position) == ("experienceLevel", "2 of 2")
    assert [value for value, _ in question.choices] == ["EXPERT", "ENTRY_LEVEL", "INTERMEDIATE", "ANY_EXPERIENCE_LEVEL"]
    assert question.choices[2][1] == "Intermediate"  # a human label, not the raw enum
    assert question.hint
    reply = await bot.say("3")  # choices answer by number too
    assert reply.state == "review"
    card = only(reply, ReviewCard)
    values = {f.key: f.value for f in card.fields}
    assert values["labelTypes"] == "Bounding box, Polygon" and values["experienceLevel"] == "Intermediate"
    reply = await confirm_flagged(bot, reply)

    reply = await bot.say("publish")
    published = only(reply, Published)
    assert published.job_id == card.job_id and published.job_url
    assert reply.state == "claim_pending" and isinstance(reply.views[-1], EmailRequest)
    job = await lookup_job(redis, namespace, card.job_id)
    assert job.workspace_id == "T1" and job.requester == REQUESTER and job.surface == {"dm": "D1"}
    assert await bot.scheduler.due_at("ledger", "T1") is not None
    assert not await bot.accounts.is_claimed("T1")

    assert only(await bot.say("owner@example.com"), ClaimConfirm).email == "owner@example.com"
    reply = await bot.say("confirm")  # handing the account over takes an explicit yes
    claim = only(reply, ClaimInstructions)
    assert claim.state == "waiting" and len(claim.user_code) == 6 and claim.verification_uri
    assert await bot.engine.claims.poll("T1") is not None  # authorization_pending: poll again later

    bot.control("claims/confirm", {"user_code": claim.user_code, "email": "owner@example.com"})
    assert await bot.engine.claims.poll("T1") is None
    assert await bot.accounts.is_claimed("T1")
    ref, final, surface = bot.observer.changes[-1]
    assert (ref, final.state, surface) == (bot.ref, "claimed", {"dm": "D1"})
    assert (await bot.engine.status(bot.ref)).state == "claimed"
    me = await bot.accounts.me("T1", refresh=True)  # the stored token is now the post-claim one
    assert "proposals:write" in me.scopes
    raw = await redis.hgetall(f"{namespace}:{{ws:T1}}:account")
    assert all("ot_pat_" not in value and "ot_clm_" not in value for value in raw.values())


async def test_invalid_answers_of_every_type_and_api_refusals(bot):
    patches = bot.requests("PATCH", "/job-drafts/")

    async def refused(text: str, key: str) -> None:
        reply = await bot.say(text)
        assert reply.state == "asking" and notices(reply), (text, reply)
        assert only(reply, Question).key == key  # the reason, then the same question again

    reply = await bot.hire()
    assert only(reply, Question).key == "labelTypes"
    await refused(" , ; ", "labelTypes")  # array: no item
    reply = await bot.say("Bounding box")
    assert only(reply, Question).key == "experienceLevel"
    await refused("guru", "experienceLevel")  # enum: not a choice
    await refused("9", "experienceLevel")  # enum: no such number
    assert bot.requests("PATCH", "/job-drafts/") == patches + 1  # nothing refused locally was sent
    reply = await bot.say("expert")
    assert reply.state == "review"

    for key, bad_answers, good in (("headcount", ["a few", "0", "2.5"], "3"),
                                   ("pricePerHour", ["cheap", "-4", "15 to 20"], "21.5"),
                                   ("jobTitle", ["   "], "Dashcam bounding boxes")):
        reply = await bot.say(f"edit {key}")
        assert only(reply, Question).key == key
        sent = bot.requests("PATCH", "/job-drafts/")
        for bad in bad_answers:
            await refused(bad, key)
        assert bot.requests("PATCH", "/job-drafts/") == sent, key  # refused by its documented type, not by the API
        reply = await bot.say(good)
        assert reply.state == "review", (key, reply)
    values = {f.key: f.value for f in only(reply, ReviewCard).fields}
    assert (values["headcount"], values["pricePerHour"], values["jobTitle"]) == ("3", "21.5", "Dashcam bounding boxes")

    # An answer that parses but the API refuses: the API's own words, the question again, the draft unchanged.
    await bot.say("edit jobTitle")
    reply = await bot.say("x" * 250)
    assert reply.state == "asking" and only(reply, Question).key == "jobTitle"
    assert "OpenTrain didn't accept that" in notices(reply) and "200" in notices(reply)
    reply = await bot.say("back")
    assert only(reply, Question).key != "jobTitle"


async def test_payment_type_change_back_edit_and_cancel(bot):
    reply = await answer_until_review(bot, await bot.hire())
    reply = await bot.say("edit paymentType")
    question = only(reply, Question)
    assert question.type == "enum" and "PAY_PER_LABEL" in [v for v, _ in question.choices]
    reply = await bot.say("PAY_PER_LABEL")
    # The fresh report is the truth: the per-label rate is now the gap.
    question = only(reply, Question)
    assert reply.state == "asking" and question.field == "pricePerLabel"
    reply = await bot.say("back")  # re-ask the previous answer: the payment type
    assert only(reply, Question).field == "paymentType"
    reply = await bot.say("PAY_PER_HOUR")
    reply = await answer_until_review(bot, reply)
    values = {f.key: f.value for f in only(reply, ReviewCard).fields}
    assert values["paymentType"] != "PAY_PER_LABEL"

    reply = await bot.say("edit nonsenseField")
    assert reply.state == "review" and "can't edit" in notices(reply)
    reply = await bot.say("help")
    assert "publish" in notices(reply)
    status = await bot.say("status")
    assert isinstance(status.views[0], Status) and status.views[0].job_id
    # An illegal move is refused whole: the stored conversation does not change.
    stored = await bot.engine.store.load(bot.ref)
    with pytest.raises(IllegalTransition):
        move(stored, State.CLAIMED, by=Op.PUBLISH)
    assert stored.state == "review" and (await bot.engine.store.load(bot.ref)).state == "review"

    reply = await bot.say("cancel")
    assert reply.state == "cancelled"
    reply = await bot.say("publish")
    assert reply.state == "cancelled" and "cancelled" in notices(reply)


async def test_moderation_block_and_daily_limit_keep_the_draft(make_harness):

    bot = make_harness()
    reply = await answer_until_review(bot, await bot.hire())
    reply = await confirm_flagged(bot, reply)
    reply = await bot.say("edit jobDescription")
    reply = await bot.say("Draw boxes around cars. We pay with gift cards only.")
    reply = await bot.say("publish")
    assert reply.state == "review" and "moderation" in notices(reply).lower()
    assert "off OpenTrain" in notices(reply)  # the API's reason, shown as given
    reply = await bot.say("edit jobDescription")
    reply = await bot.say("Draw bounding boxes around cars in dashcam images, following our guideline.")
    reply = await confirm_flagged(bot, reply)

    bot.control("config", {"publishLimitUnclaimed": 0})
    reply = await bot.say("publish")
    assert reply.state == "review" and "limit" in notices(reply).lower()
    bot.control("config", {"publishLimitUnclaimed": 3})
    reply = await bot.say("publish")
    assert reply.state == "claim_pending" and only(reply, Published)


async def test_a_publish_refused_as_not_ready_asks_the_new_gap_and_keeps_the_flags(bot):
    reply = await confirm_flagged(bot, await answer_until_review(bot, await bot.hire()))
    card = only(reply, ReviewCard)
    flagged = {f.key for f in card.fields if f.low_confidence}
    assert flagged
    # The draft changes behind the bot's back: a fixed price now needs its amount.
    await (await bot.accounts.client_for("T1")).update_draft(card.job_id, {"paymentType": "FIXED_PRICE"})
    reply = await bot.say("publish")
    assert reply.state == "asking" and "still needs" in notices(reply)
    assert only(reply, Question).field == "fixedPrice"
    status = only(await bot.say("status"), Status)
    assert {f.key for f in status.fields if f.low_confidence and f.confirmed} == flagged
    reply = await bot.say("500")
    assert reply.state == "review" and only(reply, ReviewCard).publish_ready


async def test_same_message_twice_and_two_engines_at_once(make_harness, redis, namespace):
    first = make_harness()
    second = make_harness()
    reply = await first.hire()
    assert only(reply, Question).field == "labelTypes"

    # The same delivery twice: the second changes nothing and shows nothing.
    again = await first.engine.start(first.ref, REQUESTER, "dup-start", DEMO)
    assert again.state == "asking"
    replay = await first.engine.start(first.ref, REQUESTER, "dup-start", DEMO)
    assert replay.duplicate and replay.views == []

    patches = first.requests("PATCH", "/job-drafts/")
    one = await first.say("Bounding box", message_id="evt-1")
    assert (await first.say("Bounding box", message_id="evt-1")).duplicate
    assert first.requests("PATCH", "/job-drafts/") == patches + 1
    assert one.state == "asking"

    # Two processes answer the same question at the same moment: exactly one answer is applied; the other waits
    # for its call instead of being refused, and then meets the review, not the field.
    first.control("config", {"latencyMs": 150})
    replies = await asyncio.gather(first.say("expert", message_id="evt-a"),
                                   second.say("entry level", message_id="evt-b"))
    assert first.requests("PATCH", "/job-drafts/") == patches + 2
    assert all(r.state == "review" for r in replies) and not any("still working" in notices(r) for r in replies)
    applied = [r for r in replies if not notices(r)]
    assert len(applied) == 1
    values = {f.key: f.value for f in only(applied[0], ReviewCard).fields}
    assert values["experienceLevel"] == ("Expert" if applied[0] is replies[0] else "Entry level")


class ProcessDied(BaseException):
    """Raised after an API call returns, to stand for a process killed before it saved anything."""


def dies_after(doomed, call: str) -> None:
    """The harness's process dies right after the OpenTrain call `call` (e.g. "create_draft") returns."""
    real_client_for = doomed.accounts.client_for

    async def dying_client_for(workspace_id):
        client = await real_client_for(workspace_id)
        made = getattr(client, call)

        async def make_then_die(*args, **kwargs):
            await made(*args, **kwargs)
            raise ProcessDied()

        setattr(client, call, make_then_die)
        return client

    doomed.accounts.client_for = dying_client_for


async def lapse_lease(harness) -> None:
    """What a dead process's lease does within `pending_lease_seconds`: its key expires (no heartbeat renews it)."""
    await harness.engine.store._redis.delete(harness.engine.store.lease_key(harness.ref))


async def test_a_process_killed_after_the_api_call_is_resumed_by_another(make_harness, clock):
    doomed = make_harness()
    dies_after(doomed, "create_draft")
    try:
        await doomed.hire()
    except ProcessDied:
        pass
    else:
        raise AssertionError("the doomed process should have died")

    survivor = make_harness(pending_wait_seconds=0.2)
    busy = await survivor.say("status")
    assert busy.state == "drafting"
    early = await survivor.say("Bounding box")
    assert "still working" in notices(early)  # waited its bound; the dead process's lease has not lapsed yet
    assert not early.taken
    await lapse_lease(doomed)
    reply = await survivor.say("Bounding box")
    assert "Picking up" in notices(reply)
    assert reply.state == "asking" and only(reply, Question).field == "experienceLevel"
    assert survivor.requests("POST", "/job-drafts") == 2  # replayed with the same idempotencyKey
    jobs = [job async for job in (await survivor.accounts.client_for("T1")).my_jobs()]
    assert len(jobs) == 1


async def test_a_redelivery_of_the_message_a_dead_process_left_pending_picks_it_up(make_harness, clock):
    doomed, survivor = make_harness(), make_harness()
    dies_after(doomed, "create_draft")
    with pytest.raises(ProcessDied):
        await doomed.engine.start(doomed.ref, REQUESTER, "command:trig-1", DEMO)

    survivor = make_harness(pending_wait_seconds=0.2)
    early = await survivor.engine.start(survivor.ref, REQUESTER, "command:trig-1", DEMO)
    assert early.duplicate  # within the lease the first delivery may still be at work
    await lapse_lease(doomed)
    resumed = await survivor.engine.start(survivor.ref, REQUESTER, "command:trig-1", DEMO)
    assert not resumed.duplicate and "Picking up" in notices(resumed)
    assert resumed.state == "asking" and only(resumed, Question).field == "labelTypes"
    assert (await survivor.engine.start(survivor.ref, REQUESTER, "command:trig-1", DEMO)).duplicate
    assert survivor.requests("POST", "/job-drafts") == 2  # replayed with the same idempotencyKey


async def test_a_left_call_the_conversation_has_outgrown_is_dropped_not_replayed_forever(bot, clock):
    await confirm_flagged(bot, await answer_until_review(bot, await bot.hire()))
    await bot.say("publish")
    await bot.say("owner@example.com")
    code = only(await bot.say("confirm"), ClaimInstructions).user_code
    bot.control("claims/confirm", {"user_code": code, "email": "owner@example.com"})
    bot.control("clock", {"advanceSeconds": 10})
    clock.now += 60
    await bot.scheduler.run_once()
    # As if a publish had been left pending by a dead process: replaying it now would move `claimed` backwards.
    stored = await bot.engine.store.load(bot.ref)
    assert stored.state == "claimed"
    stored.pending = PendingCall(op=Op.PUBLISH, message_id="m-left", started_at=clock.now - 3600)
    assert await bot.engine.store.save(stored)

    reply = await bot.say("help")
    assert reply.state == "claimed" and "no longer applies" in notices(reply)
    after = await bot.engine.store.load(bot.ref)
    assert after.pending is None and after.state == "claimed"
    assert "no longer applies" not in notices(await bot.say("help"))


async def test_a_description_over_the_api_limit_is_refused_before_any_call(bot):
    reply = await bot.hire("x" * 60_001)
    assert reply.state is None and "60,001 characters" in notices(reply)
    assert bot.requests("POST", "/job-drafts") == 0
    assert (await bot.hire()).state == "asking"  # nothing was stored: the same place starts normally


async def test_idle_conversation_expires_and_says_so(make_harness, clock):
    bot = make_harness(idle_seconds=3600)
    await bot.hire()
    clock.now += 3601
    reply = await bot.say("Bounding box")
    assert reply.state == "expired" and "expired" in notices(reply)
    reply = await bot.hire()
    assert reply.state == "asking"  # a new /hire in the same place starts over
    other = await bot.say("Bounding box", user="U_OTHER")
    assert Mention(REQUESTER) in only(other, NotAllowed).words


async def test_a_gap_with_several_update_keys_gets_one_answer_per_key(bot):
    reply = await bot.hire("3 Spanish transcribers at $20/hour for call-center recordings, intermediate level")
    volume = only(reply, Question)
    assert (volume.field, volume.key, volume.type, volume.choices) == ("dataVolume", "dataVolume", "number", [])
    assert volume.position.startswith("1 of ")
    patches = bot.requests("PATCH", "/job-drafts/")

    reply = await bot.say("about 200")
    unit = only(reply, Question)
    # Same gap, second key: its own type and the choices the capabilities report for it.
    assert (unit.field, unit.key, unit.type) == ("dataVolume", "dataVolumeUnit", "enum")
    assert "HOURS_OF_RECORDING_AUDIO_VIDEO" in [value for value, _ in unit.choices]
    assert unit.position.startswith("2 of ")
    assert bot.requests("PATCH", "/job-drafts/") == patches  # nothing sent until every key has its answer
    refused = await bot.say("parsecs")
    assert notices(refused) and only(refused, Question).key == "dataVolumeUnit"

    reply = await bot.say("hours")
    assert bot.requests("PATCH", "/job-drafts/") == patches + 1  # both keys in one PATCH
    assert all(q.field != "dataVolume" for q in reply.views if isinstance(q, Question))
    status = only(await bot.say("status"), Status)
    values = {f.key: f.value for f in status.fields}
    assert (values["dataVolume"], values["dataVolumeUnit"]) == ("200", "Hours of recording audio video")
