"""The account behind a workspace: one registration, app tokens, scopes and feature flags in plain words."""

from __future__ import annotations

import asyncio

from bot.hiring import accounts
from bot.hiring.engine import ConversationRef
from bot.hiring.views import Published, ReviewCard
from tests.hiring.test_conversation import answer_until_review, confirm_flagged, notices, only


async def test_two_processes_register_the_workspace_once(make_harness, redis, namespace):
    first, second = make_harness(), make_harness()
    clients = await asyncio.gather(first.accounts.client_for("T9"), second.accounts.client_for("T9"),
                                   first.accounts.client_for("T9"))
    assert first.requests("POST", "/api/agent/identity") == 1
    assert len(clients) == 3
    assert (await first.accounts.me("T9")).scopes == (await second.accounts.me("T9")).scopes
    stored = await redis.hgetall(f"{namespace}:{{ws:T9}}:account")
    assert stored["claimed"] == "0" and not any("ot_" in value for value in stored.values())
    assert "ot_" not in repr(first.accounts)


async def test_disabled_features_and_missing_scopes_are_named(make_harness):
    bot = make_harness()
    bot.control("features", {"public_api_job_drafting": False})
    reply = await bot.hire()
    assert reply.state == "failed" and "`public_api_job_drafting`" in notices(reply)
    bot.control("features", {"public_api_job_drafting": True})
    reply = await bot.say("retry")  # capabilities are probed again after the feature-disabled 403
    assert reply.state == "asking"

    reply = await confirm_flagged(bot, await answer_until_review(bot, reply))
    bot.control("features", {"public_api_job_publishing": False})
    reply = await bot.say("publish")  # the cached capabilities still say yes: OpenTrain's 403 says no
    assert reply.state == "review" and "`public_api_job_publishing`" in notices(reply)
    assert (await bot.accounts.capabilities("T1")).capabilities["publish"] is False  # re-probed after the 403
    reply = await bot.say("publish")  # now refused before any call
    assert "`public_api_job_publishing`" in notices(reply)
    assert only(reply, ReviewCard).job_id  # the draft is intact

    reader = make_harness(ref=ConversationRef("T3", "C3:1.1"), app_token=bot.app_token(["jobs:read"]))
    reply = await reader.hire()
    assert reply.state == "failed" and "`jobs:write`" in notices(reply)


async def test_an_app_token_is_claimed_from_the_start(make_harness):
    bot = make_harness(app_token=make_harness().app_token())
    reply = await confirm_flagged(bot, await answer_until_review(bot, await bot.hire()))
    reply = await bot.say("publish")
    assert reply.state == "published" and only(reply, Published).job_url
    assert bot.requests("POST", "/api/agent/identity") == 0


async def test_a_registration_that_outlives_its_lock_does_not_replace_the_first(make_harness, monkeypatch):
    monkeypatch.setattr(accounts, "REGISTRATION_LOCK_MS", 100)
    slow, fast = make_harness(), make_harness()
    slow.control("faults", {"path": "/api/agent/identity", "method": "POST", "latencyMs": 1500, "times": 1})
    slow_client = asyncio.create_task(slow.accounts.client_for("T8"))
    await asyncio.sleep(0.5)  # the slow registration's lock has lapsed: the other process registers meanwhile
    fast_client = await fast.accounts.client_for("T8")
    slow_client = await slow_client

    assert slow.requests("POST", "/api/agent/identity") == 2
    first, second = await fast_client.me(), await slow_client.me()  # the spare account's token was revoked
    assert first.actor.user_id and first.actor.user_id == second.actor.user_id
