"""Per-person limits against the sandbox and a real Redis: starts per hour, open drafts, publishes per day."""

from __future__ import annotations

from bot.hiring.limits import LimitSettings
from bot.hiring.record import ConversationRef
from bot.hiring.views import Published
from tests.hiring.conftest import DEMO, REQUESTER
from tests.hiring.test_conversation import answer_until_review, confirm_flagged, notices, only


def place(n: int) -> ConversationRef:
    return ConversationRef("T1", f"C1:{n}.0")


async def test_starts_per_hour_then_open_drafts_refused_before_any_draft(make_harness, clock):
    bot = make_harness(limits=LimitSettings(starts_per_hour=3, open_drafts_per_user=2))
    first = await bot.engine.start(place(1), REQUESTER, "cmd-1", DEMO)
    await bot.engine.start(place(2), REQUESTER, "cmd-2", DEMO)
    assert first.state == "asking"
    drafts = bot.requests("POST", "/job-drafts")

    refused = await bot.engine.start(place(3), REQUESTER, "cmd-3", DEMO)
    assert refused.state is None and "still open" in notices(refused)
    assert bot.requests("POST", "/job-drafts") == drafts  # nothing was sent

    assert (await bot.engine.handle(place(1), REQUESTER, "m-cancel", "cancel")).state == "cancelled"
    assert (await bot.engine.start(place(3), REQUESTER, "cmd-3", DEMO)).state == "asking"  # room again
    assert (await bot.engine.start(place(3), REQUESTER, "cmd-3", DEMO)).duplicate  # a redelivery passes

    await bot.engine.handle(place(2), REQUESTER, "m-cancel-2", "cancel")
    refused = await bot.engine.start(place(4), REQUESTER, "cmd-4", DEMO)
    assert "in the last hour" in notices(refused)  # three starts already
    assert (await bot.engine.start(place(4), "U_OTHER", "cmd-5", DEMO)).state == "asking"  # per person

    clock.now += 3601
    assert (await bot.engine.start(place(4), REQUESTER, "cmd-6", DEMO)).state == "asking"


async def test_publishes_per_day_keep_room_for_colleagues(make_harness, clock):
    bot = make_harness(limits=LimitSettings(publishes_per_user_per_day=1))
    reply = await confirm_flagged(bot, await answer_until_review(bot, await bot.hire()))
    assert only(await bot.say("publish"), Published)

    second = make_harness(ref=place(9), limits=LimitSettings(publishes_per_user_per_day=1))
    reply = await confirm_flagged(second, await answer_until_review(second, await second.hire()))
    publishes = second.requests("POST", "/publish")
    reply = await second.say("publish")
    assert reply.state == "review" and "published 1 jobs today" in notices(reply)
    assert second.requests("POST", "/publish") == publishes  # refused before OpenTrain
    clock.now += 86_401
    assert only(await second.say("publish"), Published)
