"""The claim ceremony and every state of its polling, against the sandbox's agent-auth endpoints."""

from __future__ import annotations

import time

from bot.hiring.claim import (
    ATTEMPT_EXPIRED,
    CLAIM_KIND,
    GRANT_GONE,
    NO_CLAIM_TOKEN,
    POLL_REFUSED,
    START_REFUSED,
    WINDOW_CLOSED,
)
from bot.hiring.views import ClaimConfirm, ClaimInstructions, EmailRequest, Published
from tests.hiring.test_conversation import answer_until_review, confirm_flagged, notices, only


async def publish(bot):
    reply = await confirm_flagged(bot, await answer_until_review(bot, await bot.hire()))
    reply = await bot.say("publish")
    assert only(reply, Published) and reply.state == "claim_pending"
    return reply


async def claim_with(bot, email: str):
    """Name the email, then say yes: the account is handed over only on an explicit confirm."""
    assert only(await bot.say(email), ClaimConfirm).email == email
    return await bot.say("confirm")


async def test_taken_email_slow_down_lapsed_attempt_restart_and_success(bot, clock):
    bot.control("config", {"claimIntervalSeconds": 5})
    bot.control("users", {"email": "taken@example.com"})
    await publish(bot)

    reply = await claim_with(bot, "taken@example.com")
    ask = only(reply, EmailRequest)
    assert ask.reason == "email_already_registered" and reply.state == "claim_pending"
    reply = await claim_with(bot, "owner@example.com")
    first = only(reply, ClaimInstructions)
    assert first.state == "waiting" and first.email == "owner@example.com"
    assert await bot.scheduler.due_at(CLAIM_KIND, "T1") == clock.now + 5

    # Polling faster than the interval: slow_down, and the next poll waits longer.
    await bot.engine.claims.poll("T1")
    next_due = await bot.engine.claims.poll("T1")
    assert next_due == clock.now + 10

    # The 30-minute attempt lapses: a plain explanation, and `restart` gives a new code.
    bot.control("clock", {"advanceSeconds": 1801})
    assert await bot.engine.claims.poll("T1") is None
    lapsed = bot.observer.changes[-1][1]
    assert (lapsed.state, lapsed.message) == ("expired", ATTEMPT_EXPIRED)
    assert only(await bot.say("restart"), ClaimConfirm).email == "owner@example.com"
    second = only(await bot.say("confirm"), ClaimInstructions)
    assert second.state == "waiting" and second.user_code != first.user_code

    # The human confirms; the scheduled poll (any process) swaps the token in and tells the front end.
    bot.control("claims/confirm", {"user_code": second.user_code, "email": "owner@example.com"})
    bot.control("clock", {"advanceSeconds": 10})
    clock.now += 60
    assert await bot.scheduler.run_once() == 1
    assert bot.observer.changes[-1][1].state == "claimed"
    assert await bot.accounts.is_claimed("T1")
    assert (await bot.engine.status(bot.ref)).state == "claimed"
    assert await bot.scheduler.due_at(CLAIM_KIND, "T1") is None  # done: not polled again


async def test_closed_window_invalid_grant_and_an_outage(bot, redis, namespace, secretbox):
    bot.control("config", {"claimIntervalSeconds": 0})
    await publish(bot)
    reply = await claim_with(bot, "owner@example.com")
    assert only(reply, ClaimInstructions).state == "waiting"

    # OpenTrain briefly down: keep waiting, poll again later.
    bot.control("faults", {"path": "/api/agent/oauth/token", "status": 500})
    assert await bot.engine.claims.poll("T1") is not None
    assert (await bot.engine.claims.current("T1")).state == "waiting"

    # The claim token is no longer accepted: invalid_grant, explained; the conversation is failed, not stuck.
    await redis.hset(f"{namespace}:{{ws:T1}}:account", "claim_token", secretbox.encrypt("ot_clm_unknown_value"))
    assert await bot.engine.claims.poll("T1") is None
    gone = bot.observer.changes[-1][1]
    assert (gone.state, gone.message) == ("failed", GRANT_GONE)
    status = await bot.engine.status(bot.ref)
    assert status.state == "failed"


async def test_claim_window_closes(make_harness):
    from bot.hiring.engine import ConversationRef

    bot = make_harness(ref=ConversationRef("T2", "C2:1.1"))
    bot.control("config", {"claimIntervalSeconds": 0})
    await publish(bot)
    reply = await claim_with(bot, "owner@example.com")
    assert only(reply, ClaimInstructions).state == "waiting"
    bot.control("clock", {"advanceSeconds": 86_401})
    assert await bot.engine.claims.poll("T2") is None
    closed = bot.observer.changes[-1][1]
    assert (closed.state, closed.message) == ("failed", WINDOW_CLOSED)
    assert await bot.accounts.claim_token("T2") is None  # forgotten: the next /hire registers afresh


async def test_an_account_registered_without_a_claim_token_says_it_cannot_be_handed_over(bot, redis, namespace):
    await publish(bot)
    await redis.hdel(f"{namespace}:{{ws:T1}}:account", "claim_token")  # as a registration that carried none leaves it
    reply = await claim_with(bot, "owner@example.com")
    refused = only(reply, ClaimInstructions)
    assert (refused.state, refused.message) == ("failed", NO_CLAIM_TOKEN)
    assert await bot.scheduler.due_at(CLAIM_KIND, "T1") is None  # nothing to poll


async def start_waiting(bot) -> ClaimInstructions:
    await publish(bot)
    waiting = only(await claim_with(bot, "owner@example.com"), ClaimInstructions)
    assert waiting.state == "waiting"
    return waiting


async def collects_the_token(bot, clock) -> None:
    """The scheduled poll (any process) swaps the post-claim token in and settles the conversation."""
    clock.now += 60
    assert await bot.scheduler.run_once() == 1
    assert bot.observer.changes[-1][1].state == "claimed"
    assert await bot.accounts.is_claimed("T1")
    assert (await bot.engine.status(bot.ref)).state == "claimed"


async def test_a_live_code_is_never_restarted_or_redirected_and_the_poll_still_collects(bot, clock):
    bot.control("config", {"claimIntervalSeconds": 0})
    bot.control("users", {"email": "taken@example.com"})
    waiting = await start_waiting(bot)
    due = await bot.scheduler.due_at(CLAIM_KIND, "T1")
    bot.control("claims/confirm", {"user_code": waiting.user_code, "email": "owner@example.com"})
    starts = bot.requests("POST", "/api/agent/identity/claim")

    # A restart, or another email, while the code a human may be typing is live: refused, nothing sent to OpenTrain.
    for words in ("restart", "someone.else@example.com", "taken@example.com"):
        await bot.say(words)
        reply = await bot.say("confirm")
        assert "already waiting for its code" in notices(reply) and reply.state == "claim_pending", words
    assert bot.requests("POST", "/api/agent/identity/claim") == starts
    kept = await bot.engine.claims.current("T1")
    assert (kept.state, kept.user_code, kept.email) == ("waiting", waiting.user_code, "owner@example.com")
    assert await bot.scheduler.due_at(CLAIM_KIND, "T1") == due
    await collects_the_token(bot, clock)


async def test_a_refused_start_after_the_code_lapsed_says_why(bot, clock):
    clock.now = time.time()  # the bot's clock agrees with OpenTrain's, as in production: the claim window is open
    bot.control("config", {"claimIntervalSeconds": 0})
    await start_waiting(bot)
    clock.now += 1801  # the code lapsed: restarting is allowed again

    bot.control("faults", {"path": "/api/agent/identity/claim", "status": 400})  # an unexplained invalid_request
    await bot.say("restart")
    reply = await bot.say("confirm")
    ask = only(reply, EmailRequest)
    assert "injected by the sandbox" in ask.text and ask.text.startswith(START_REFUSED.split("(")[0])
    assert reply.state == "claim_pending"


async def test_a_claim_started_after_the_window_closed_forgets_the_account(bot, clock):
    await publish(bot)
    bot.control("clock", {"advanceSeconds": 86_401})
    clock.now = time.time() + 86_401  # past the registration's claim_token_expires_at
    reply = await claim_with(bot, "owner@example.com")
    closed = only(reply, ClaimInstructions)
    assert (closed.state, closed.message, reply.state) == ("failed", WINDOW_CLOSED, "failed")
    assert await bot.accounts.claim_token("T1") is None  # forgotten: the next /hire registers afresh


async def test_a_refused_poll_ends_the_claim_instead_of_retrying_forever(bot, clock):
    bot.control("config", {"claimIntervalSeconds": 0})
    await start_waiting(bot)
    bot.control("faults", {"path": "/api/agent/oauth/token", "status": 400})  # invalid_request: not an outage

    clock.now += 60
    assert await bot.scheduler.run_once() == 1
    refused = bot.observer.changes[-1][1]
    assert (refused.state, refused.message) == ("failed", POLL_REFUSED)
    assert (await bot.engine.status(bot.ref)).state == "failed"
    clock.now += 3600
    assert await bot.scheduler.due_at(CLAIM_KIND, "T1") is None  # not polled again


async def test_the_verification_link_is_encrypted_at_rest_and_the_code_dropped_when_the_attempt_ends(
        bot, redis, namespace, clock):
    waiting = await start_waiting(bot)
    assert "ot_cat_" in waiting.verification_uri
    raw = await redis.get(f"{namespace}:{{ws:T1}}:claim")
    assert "ot_cat_" not in raw and waiting.verification_uri not in raw
    assert (await bot.engine.claims.current("T1")).verification_uri == waiting.verification_uri
    assert await redis.ttl(f"{namespace}:{{ws:T1}}:claim") > 1800  # kept while the code lives, and a while after

    bot.control("clock", {"advanceSeconds": 1801})
    assert await bot.engine.claims.poll("T1") is None  # the attempt lapsed
    raw = await redis.get(f"{namespace}:{{ws:T1}}:claim")
    assert waiting.user_code not in raw and "sealed_verification_uri" not in raw
    assert 0 < await redis.ttl(f"{namespace}:{{ws:T1}}:claim") <= 7 * 24 * 3600
