"""Who may do what, tried from outside over signed HTTP: each cell of the authorization table, forged button values,
stale cards, and every way of taking over the claim that used to work.

Roles here: the requester (UREQ, also a workspace admin in the stand-in), a hiring manager (HIRING_MANAGERS=UMGR), a
second workspace admin (UADM, read from users.info), a plain member (USTRANGER), and a member in a hiring-manager user
group (UGRP via S0HIRING).
"""

from __future__ import annotations

import json
from functools import partial

import httpx

from bot.app import serve_http
from bot.slack.blocks.proposals import OPEN_CONVERSATION, REQUEST_HIRE, parse_action_value
from tests.slack.conftest import (
    DEMO,
    REQUESTER,
    REQUESTER_EMAIL,
    STRANGER,
    TEAM,
    HttpSlack,
    Person,
    labels,
    text_of,
)
from tests.slack.story import CODE, claim_dm, eventually, hand_over, in_thread, publish_a_job, root_of
from tests.support import slack_signing as signing
from tests.support.market import Market

MANAGER, ADMIN, GROUPED = "UMGR", "UADM", "UGRP"


async def answer_until_card(person: Person, slack_api, root):
    """Answer the demo's two questions (a typed list, a clicked choice); returns the review card."""
    for position in (1, 2):
        question = await eventually(partial(in_thread, slack_api, root, f"({position} of"), f"question {position}")
        choices = labels(question)
        if choices:
            assert await person.click(question, choices[2]) == 200
        else:
            assert await person.say("Bounding box, Polygon", root) == 200
    return await eventually(lambda: in_thread(slack_api, root, "Review your job"), "the review card")


def people(slack_api, slack) -> dict[str, Person]:
    slack_api.add_user(MANAGER, "mo@example.com", "Mo Manager")
    slack_api.add_user(ADMIN, "ada@example.com", "Ada Admin", admin=True)
    slack_api.add_user(GROUPED, "gus@example.com", "Gus Grouped")
    slack_api.add_group("S0HIRING", [GROUPED])
    return {user: Person(user, slack, slack_api) for user in (REQUESTER, MANAGER, ADMIN, STRANGER, GROUPED)}


def ephemerals_to(slack_api, user: str) -> list[str]:
    return [c.args["text"] for c in slack_api.calls_to("chat.postEphemeral", lambda a: a.get("user") == user)]


def told(slack_api) -> list[str]:
    return [c.args.get("text", "") for c in slack_api.calls_to("response_url")]


async def test_only_the_requester_answers_publishes_and_cancels(make_settings, slack_api, sandbox_url):
    settings = make_settings(hiring_managers=f"{MANAGER},S0HIRING")
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        who = people(slack_api, HttpSlack([server.url], http))
        assert await who[REQUESTER].hire(DEMO) == 200
        root = await eventually(lambda: root_of(slack_api), "the root message")
        first = await eventually(lambda: in_thread(slack_api, root, "(1 of"), "the first question")
        patches = Market(sandbox_url).requests("/job-drafts/", method="PATCH")

        for other in (MANAGER, ADMIN, STRANGER, GROUPED):  # answering: typed, and by clicking a choice
            assert await who[other].say("Bounding box", root) == 200
            await eventually(lambda o=other: ephemerals_to(slack_api, o), f"{other} told no")
            assert f"Only <@{REQUESTER}> can answer" in ephemerals_to(slack_api, other)[0]
        assert Market(sandbox_url).requests("/job-drafts/", method="PATCH") == patches
        assert first.updates == 0  # the open question is not marked answered

        card = await answer_until_card(who[REQUESTER], slack_api, root)
        for other in (MANAGER, ADMIN, STRANGER):
            for button in ("Publish", "Cancel"):
                if button in labels(card):
                    seen = len(ephemerals_to(slack_api, other))
                    assert await who[other].click(card, button) == 200
                    await eventually(lambda o=other, s=seen: len(ephemerals_to(slack_api, o)) > s, "a refusal")
                    said = ephemerals_to(slack_api, other)[-1]
                    assert f"Only <@{REQUESTER}> can {button.lower()}" in said, said
        assert "published" not in root.text and "cancelled" not in root.text
        assert Market(sandbox_url).requests("/publish", method="POST") == 0


async def test_anyone_may_answer_still_leaves_publishing_to_the_requester(make_settings, slack_api, sandbox_url):
    async with serve_http(make_settings(allow_anyone_to_answer=True), port=0) as server, \
            httpx.AsyncClient(timeout=10) as http:
        who = people(slack_api, HttpSlack([server.url], http))
        assert await who[REQUESTER].hire(DEMO) == 200
        root = await eventually(lambda: root_of(slack_api), "the root message")
        card = await answer_until_card(who[STRANGER], slack_api, root)  # a colleague may answer
        assert await who[STRANGER].click(card, "Publish") == 200
        await eventually(lambda: ephemerals_to(slack_api, STRANGER), "the colleague told no")
        assert f"Only <@{REQUESTER}> can publish" in ephemerals_to(slack_api, STRANGER)[-1]
        assert Market(sandbox_url).requests("/publish", method="POST") == 0


async def proposal_card(who, slack_api, sandbox_url):
    """A job published from Slack by the requester, with one proposal carded in its thread."""
    market = Market(sandbox_url)
    root = await publish_a_job(who[REQUESTER], slack_api)
    live = await eventually(lambda: in_thread(slack_api, root, "Your job is live"), "the job link")
    job_id = next(word for word in text_of(live).replace("/", " ").replace("|", " ").replace(">", " ").split()
                  if word.startswith("job_"))
    [proposal_id] = market.propose(job_id)
    posted = await eventually(lambda: in_thread(slack_api, root, "New proposal"), "the proposal card")
    return market, job_id, proposal_id, posted


def button_value(message, action_id: str) -> str:
    return next(e["value"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == action_id)


async def click_value(person: Person, message, action_id: str, value: str) -> int:
    payload = signing.block_action_payload(user_id=person.user_id, channel_id=message.channel,
                                           message_ts=message.ts, thread_ts=message.thread_ts, action_id=action_id,
                                           value=value, team_id=TEAM)
    return await person.slack.action(payload)


async def test_proposal_and_money_actions_by_role_and_forged_or_stale_buttons(make_settings, slack_api, sandbox_url):
    token = Market(sandbox_url).account()
    settings = make_settings(hiring_managers=f"{MANAGER},S0HIRING", opentrain_api_token=token,
                             opentrain_poll_seconds=0.5)  # the ledger notices the status change promptly
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        who = people(slack_api, HttpSlack([server.url], http))
        market, job_id, proposal_id, card = await proposal_card(who, slack_api, sandbox_url)
        opened = market.requests("/conversation", method="POST")

        # Talking to candidates: the job's requester and hiring managers (by id or by user group), nobody else.
        for person, allowed in ((REQUESTER, True), (MANAGER, True), (GROUPED, True), (ADMIN, False),
                                (STRANGER, False)):
            seen = len(ephemerals_to(slack_api, person))
            assert await who[person].click(card, "Message candidate") == 200
            await eventually(lambda p=person, s=seen: len(ephemerals_to(slack_api, p)) > s, f"{person} answered")
            said = ephemerals_to(slack_api, person)[-1]
            assert ("is open: write in its thread" in said or "already has its thread" in said) == allowed, \
                (person, said)
            if not allowed:
                assert f"Only <@{REQUESTER}> or a hiring manager can talk to candidates" in said
        assert market.requests("/conversation", method="POST") == opened + 3

        # Requesting a hire (money): the modal opens for the requester and hiring managers only; a forged
        # submission (a manager's modal metadata, submitted as a member) is refused on submit, and OpenTrain never
        # hears of it.
        for person, allowed in ((ADMIN, False), (STRANGER, False), (REQUESTER, True), (GROUPED, True),
                                (MANAGER, True)):
            modals, seen = len(slack_api.calls_to("views.open")), len(ephemerals_to(slack_api, person))
            assert await who[person].click(card, "Request hire") == 200
            if allowed:
                await eventually(lambda m=modals: len(slack_api.calls_to("views.open")) > m, f"{person}'s modal")
            else:
                await eventually(lambda p=person, s=seen: len(ephemerals_to(slack_api, p)) > s, f"{person} told no")
                assert "Only" in ephemerals_to(slack_api, person)[-1]
                assert len(slack_api.calls_to("views.open")) == modals
        modal = slack_api.calls_to("views.open")[-1]
        metadata = modal.args["view"]["private_metadata"]
        forged = submission(metadata, STRANGER, name="Batch", amount="9999", due="2026-12-31")
        assert await who[STRANGER].slack.action(forged) == 200
        dm = await eventually(lambda: [c for c in slack_api.calls_to("chat.postMessage")
                                       if c.args["channel"] == slack_api.dm_channel(STRANGER)], "the refusal DM")
        assert "Only" in dm[-1].args["text"] and market.requests("/hire", method="POST") == 0

        # Forged values: this card's button naming another job, or another proposal, is refused before OpenTrain.
        value = button_value(card, REQUEST_HIRE)
        proposal, _, version = parse_action_value(value)
        other_job, _ = market.publish_job(token)
        for forged_value in ({"p": proposal, "j": other_job, "v": version},
                             {"p": market.propose(other_job)[0], "j": job_id, "v": version}):
            seen = len(ephemerals_to(slack_api, MANAGER))
            assert await click_value(who[MANAGER], card, OPEN_CONVERSATION, json.dumps(forged_value)) == 200
            await eventually(lambda s=seen: len(ephemerals_to(slack_api, MANAGER)) > s, "the forged click refused")
            assert "doesn't match a proposal card" in ephemerals_to(slack_api, MANAGER)[-1]
        assert market.requests("/conversation", method="POST") == opened + 3

        # A stale card: the proposal changed since the button was drawn.
        updates = card.updates
        market.set_status(proposal_id, "SHORTLISTED")
        await eventually(lambda: card.updates > updates, "the card updated in place")
        seen = len(ephemerals_to(slack_api, MANAGER))
        assert await click_value(who[MANAGER], card, REQUEST_HIRE, value) == 200  # the old button's value
        await eventually(lambda: len(ephemerals_to(slack_api, MANAGER)) > seen, "the stale click refused")
        assert "has changed since" in ephemerals_to(slack_api, MANAGER)[-1]
        market.close()


def submission(private_metadata: str, user: str, *, name: str, amount: str, due: str) -> dict:
    values = {"name": {"value": {"type": "plain_text_input", "value": name}},
              "amount": {"value": {"type": "number_input", "value": amount}},
              "due": {"value": {"type": "datepicker", "selected_date": due}}}
    return {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A1", "token": "legacy", "trigger_id": "trigger-9",
            "view": {"id": "V9", "type": "modal", "callback_id": "proposal:hire-modal",
                     "private_metadata": private_metadata, "state": {"values": values}}}


async def test_a_member_publishing_first_does_not_decide_who_owns_the_account(make_settings, slack_api, sandbox_url):
    async with serve_http(make_settings(hiring_managers=MANAGER), port=0) as server, \
            httpx.AsyncClient(timeout=10) as http:
        who = people(slack_api, HttpSlack([server.url], http))
        assert await who[ADMIN].hire("claim") == 200  # nothing to hand over before the first /hire
        await eventually(lambda: told(slack_api), "the admin told")
        assert "no OpenTrain account to hand over yet" in told(slack_api)[-1]
        root = await publish_a_job(who[STRANGER], slack_api)
        await eventually(lambda: in_thread(slack_api, root, "/hire claim"), "who can claim, said in the thread")
        assert claim_dm(slack_api) is None and Market(sandbox_url).requests("/identity/claim", method="POST") == 0

        for person in (STRANGER, MANAGER):  # `/hire claim` from a member or a hiring manager: refused, privately
            assert await who[person].hire("claim") == 200
        await eventually(lambda: len(told(slack_api)) >= 3, "both refused")
        assert all("account admin" in text for text in told(slack_api)[1:])
        assert Market(sandbox_url).requests("/identity/claim", method="POST") == 0

        assert await who[ADMIN].hire("claim") == 200  # an admin (users.info says so) can, in their own DM
        dm = slack_api.dm_channel(ADMIN)
        claim = await eventually(lambda: next((m for m in slack_api.messages.values()
                                               if m.channel == dm and "Use ada@example.com" in labels(m)), None),
                                 "the admin's claim DM")
        await hand_over(who[ADMIN], claim, "ada@example.com")
        await eventually(lambda: CODE.search(text_of(claim)), "the code, in the admin's DM only")


async def test_a_live_claim_cannot_be_taken_over(make_settings, slack_api, sandbox_url):
    async with serve_http(make_settings(allow_anyone_to_answer=True), port=0) as server, \
            httpx.AsyncClient(timeout=10) as http:
        who = people(slack_api, HttpSlack([server.url], http))
        root = await publish_a_job(who[REQUESTER], slack_api)  # the requester is an admin: asked in their DM
        claim = await eventually(lambda: claim_dm(slack_api), "the claim DM")
        await hand_over(who[REQUESTER], claim, REQUESTER_EMAIL)
        code = (await eventually(lambda: CODE.search(text_of(claim)), "the code")).group(1)
        starts = Market(sandbox_url).requests("/identity/claim", method="POST")

        # Anyone may answer in this workspace, yet a member typing an outside email into the job's thread is refused.
        assert await who[STRANGER].say("evil@example.com", root) == 200
        await eventually(lambda: ephemerals_to(slack_api, STRANGER), "the member told no")
        assert "account admin" in ephemerals_to(slack_api, STRANGER)[-1]
        # The admin's own `restart` in the public thread is refused too: claim steps happen only in the DM.
        assert await who[REQUESTER].say("restart", root) == 200
        await eventually(lambda: ephemerals_to(slack_api, REQUESTER), "the admin told where")
        assert "direct messages" in ephemerals_to(slack_api, REQUESTER)[-1]
        # Another admin cannot start a second claim while this code lives.
        assert await who[ADMIN].hire("claim") == 200
        await eventually(lambda: told(slack_api), "the second admin told")
        assert "already waiting for its code" in told(slack_api)[-1]
        # And the admin redirecting it in the DM is refused until the code lapses.
        reply = who[REQUESTER].message_envelope("other@example.com", claim.channel, None, channel_type="im")
        assert await who[REQUESTER].slack.event(reply) == 200
        await eventually(lambda: "other@example.com" in text_of(claim) and "Confirm" in labels(claim), "confirm?")
        assert await who[REQUESTER].click(claim, "Confirm") == 200
        await eventually(lambda: "already waiting for its code" in dm_text(slack_api, claim.channel), "refused")

        assert Market(sandbox_url).requests("/identity/claim", method="POST") == starts
        assert code not in " ".join(text_of(m) for m in slack_api.messages.values() if m.channel != claim.channel)


def dm_text(slack_api, channel: str) -> str:
    return " ".join(text_of(m) for m in slack_api.messages.values() if m.channel == channel)
