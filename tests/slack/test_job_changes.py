"""A live job's "Edit" and "Invite a trainer", over signed HTTP with the sandbox, a real Redis and the Slack stand-in.

Edit: the modal opens prefilled (selects for enums, number inputs for numbers), a bad number goes back next to its
field, a save is applied on OpenTrain, a save moderation blocks is said plainly with its reasons (the edit applied,
the job back to draft, in the modal and in the job's thread), and a save on a job no longer open is explained.
Invite: a profile link is looked up and the masked profile shown for confirmation before the invite is sent; a link
elsewhere is refused next to the input. A stranger is refused on each step, and a job id from another workspace is
refused whoever sends it.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.app import serve_http
from bot.hiring.wording import NOT_A_PROFILE
from bot.slack.blocks.job_changes import CONFIRM_INVITE_VIEW, EDIT_VIEW, INVITE_VIEW, TRAINER
from bot.slack.blocks.jobs import EDIT_JOB, INVITE_TRAINER
from tests.slack.conftest import REQUESTER, STRANGER, TEAM, HttpSlack, Person, labels
from tests.slack.conftest import text_of as text_of_message
from tests.slack.story import eventually, in_thread, publish_a_job
from tests.slack.test_jobs import home_opened, job_buttons
from tests.support import slack_signing as signing
from tests.support.market import Market, seed_job
from tests.support.slack_api import PostedMessage
from tests.support.untrusted import assert_nothing_from_outside

OTHER_TEAM = "T2"
GROUPED = "UGRP"  # a hiring manager by user group


def click(user: str, action_id: str, job_id: str) -> dict[str, Any]:
    """A job's button on the Home tab, as Slack sends it: the job id is the button's value, a hint."""
    return {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A1", "token": "t", "trigger_id": f"trig-{time.monotonic_ns()}",
            "container": {"type": "view", "view_id": "VHOME"}, "view": {"id": "VHOME", "type": "home"},
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": job_id,
                         "text": {"type": "plain_text", "text": "x"}, "action_ts": f"{time.time():.6f}"}]}


def submitted(user: str, view: dict[str, Any], values: dict[str, str], *, metadata: str | None = None) -> dict:
    """The modal submitted by `user` with its inputs as prefilled, changed by `values`; `metadata` forges it."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        if element["type"] == "static_select":
            chosen = values.get(block_id, (element.get("initial_option") or {}).get("value"))
            state[block_id] = {"value": {"type": "static_select",
                                         "selected_option": {"value": chosen} if chosen else None}}
        else:
            state[block_id] = {"value": {"type": element["type"],
                                         "value": values.get(block_id, element.get("initial_value"))}}
    return {"type": "view_submission", "team": {"id": TEAM, "domain": "t"}, "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A1", "token": "t", "trigger_id": f"trig-{time.monotonic_ns()}",
            "view": {"id": view["id"], "type": "modal", "callback_id": view["callback_id"],
                     "private_metadata": view["private_metadata"] if metadata is None else metadata,
                     "state": {"values": state}}}


async def submit(slack: HttpSlack, payload: dict[str, Any]) -> dict[str, Any]:
    """Deliver a view submission; Slack reads the response action in the HTTP answer."""
    response = await slack.deliver(urlencode({"payload": json.dumps(payload)}), signing.FORM)
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def text_of(view: dict[str, Any]) -> str:
    return json.dumps(view.get("blocks", []), ensure_ascii=False)


async def modal_saying(slack_api, view_id: str, marker: str) -> dict[str, Any]:
    return await eventually(lambda: slack_api.modals[view_id] if marker in text_of(slack_api.modals.get(view_id, {}))
                            else None, f"the modal saying {marker!r}")


async def opened_modal(slack_api, slack: HttpSlack, user: str, action_id: str, job_id: str, marker: str) -> dict:
    """Click a job's button; the modal opens at once and is then filled in."""
    before = len(slack_api.calls_to("views.open"))
    assert await slack.action(click(user, action_id, job_id)) == 200
    await eventually(lambda: len(slack_api.calls_to("views.open")) > before or None, "the modal opened")
    view_id = sorted(slack_api.modals, key=lambda v: int(v[1:]))[-1]
    return await modal_saying(slack_api, view_id, marker)


def after(earlier: PostedMessage, message: PostedMessage | None) -> PostedMessage | None:
    return message if message is not None and float(message.ts) > float(earlier.ts) else None


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["block_id"]: block["element"] for block in view["blocks"] if block.get("type") == "input"}


async def test_edit_applied_blocked_by_moderation_and_not_open(make_settings, slack_api, sandbox_url, sandbox_server):
    market = Market(sandbox_url)
    settings = make_settings(opentrain_api_token=market.account())
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        root = await publish_a_job(Person(REQUESTER, slack, slack_api), slack_api)
        assert await slack.event(home_opened(REQUESTER)) == 200
        home = await eventually(lambda: slack_api.homes.get(REQUESTER), "the requester's Home tab")
        [edit_button] = job_buttons(home, EDIT_JOB)
        assert [b["text"]["text"] for b in job_buttons(home, INVITE_TRAINER)] == ["Invite a trainer"]
        job_id = edit_button["value"]
        job = sandbox_server.world.jobs[job_id]
        patches = f"/jobs/{job_id}"

        # The form, prefilled from the job: a select for each enum, number inputs for numbers.
        form = await opened_modal(slack_api, slack, REQUESTER, EDIT_JOB, job_id, "empty fields stay")
        fields = inputs(form)
        assert form["callback_id"] == EDIT_VIEW
        assert fields["experienceLevel"]["type"] == "static_select"
        assert fields["experienceLevel"]["initial_option"]["value"] == job.fields["experienceLevel"]
        assert fields["headcount"] == {**fields["headcount"], "type": "number_input", "is_decimal_allowed": False,
                                       "initial_value": str(job.fields["headcount"])}
        assert fields["pricePerHour"]["type"] == "number_input" and fields["pricePerHour"]["initial_value"] == "18"
        assert fields["jobTitle"]["initial_value"] == job.fields["jobTitle"]

        # A bad number goes back next to its field; nothing is sent.
        answer = await submit(slack, submitted(REQUESTER, form, {"pricePerHour": "-3", "headcount": "2.5"}))
        assert answer["response_action"] == "errors"
        assert set(answer["errors"]) == {"pricePerHour", "headcount"}
        assert market.requests(patches, "PATCH") == 0

        # A stranger is refused: at the click, and on a forged submission of the requester's form.
        refused = await opened_modal(slack_api, slack, STRANGER, EDIT_JOB, job_id, "Only")
        assert "a hiring manager can edit this job" in text_of(refused)
        answer = await submit(slack, submitted(STRANGER, form, {"headcount": "99"}))
        assert answer["response_action"] == "update" and "can edit this job" in text_of(answer["view"])
        assert market.requests(patches, "PATCH") == 0

        # Applied: only the changed fields are sent; the modal says so.
        answer = await submit(slack, submitted(REQUESTER, form, {"headcount": "12", "pricePerHour": "20"}))
        assert answer["response_action"] == "update"
        await modal_saying(slack_api, form["id"], "Saved your changes")
        assert job.status == "OPEN" and job.fields["headcount"] == 12 and job.fields["pricePerHour"] == 20
        assert market.requests(patches, "PATCH") == 1
        again = await opened_modal(slack_api, slack, REQUESTER, EDIT_JOB, job_id, "empty fields stay")
        assert inputs(again)["headcount"]["initial_value"] == "12"  # the form shows the edit

        # Blocked by moderation: applied anyway, the job back to draft, said plainly with the reason, in the thread too.
        await submit(slack, submitted(REQUESTER, again, {"pricePerHour": "0.5"}))
        blocked = await modal_saying(slack_api, again["id"], "moderation blocked it")
        assert "back to a draft" in text_of(blocked) and "below the $1.00 minimum" in text_of(blocked)
        assert job.status == "DRAFT" and job.fields["pricePerHour"] == 0.5
        note = await eventually(lambda: in_thread(slack_api, root, "moderation blocked it"), "the thread's note")
        assert f"<@{REQUESTER}>" in note.text and "review card is back" in note.text
        assert "review card is back in the job's thread" in text_of(blocked)

        # Not open any more: the same form saved again is explained, nothing applied.
        await submit(slack, submitted(REQUESTER, again, {"headcount": "7"}))
        explained = await modal_saying(slack_api, again["id"], "can't be edited")
        assert "a draft (not published)" in text_of(explained) and "only open jobs can" in text_of(explained)
        assert job.fields["headcount"] == 12

        # Fixed and published again through the conversation: its review card is back in the thread.
        card = await eventually(lambda: in_thread(slack_api, root, "Review your job"), "the review card again")
        assert after(note, card) and "Publish" in labels(card)
        await eventually(lambda: "review" in slack_api.messages[(root.channel, root.ts)].text, "the root at review")
        requester = Person(REQUESTER, slack, slack_api)
        assert await requester.say("edit pricePerHour", root) == 200
        await eventually(lambda: after(card, in_thread(slack_api, root, "per hour")), "the question")
        assert await requester.say("20", root) == 200
        card = await eventually(lambda: after(card, in_thread(slack_api, root, "Review your job")),
                                "the review card after the fix")
        assert await requester.click(card, "Publish") == 200
        await eventually(lambda: job.status == "OPEN" or None, "the job open again")
        assert job.fields["pricePerHour"] == 20

    market.close()


async def test_invite_with_the_profile_confirmed_first(make_settings, slack_api, sandbox_url):
    market = Market(sandbox_url)
    settings = make_settings(opentrain_api_token=market.account())
    maria = market.control("freelancers", {"slug": "maria-g", "firstName": "Maria", "lastInitial": "G"})["freelancer"]
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        await publish_a_job(Person(REQUESTER, slack, slack_api), slack_api)
        assert await slack.event(home_opened(REQUESTER)) == 200
        home = await eventually(lambda: slack_api.homes.get(REQUESTER), "the requester's Home tab")
        job_id = job_buttons(home, INVITE_TRAINER)[0]["value"]
        invites = f"/jobs/{job_id}/invites"

        form = await opened_modal(slack_api, slack, REQUESTER, INVITE_TRAINER, job_id, "profile")
        assert form["callback_id"] == INVITE_VIEW

        # A link anywhere but OpenTrain is refused next to the input, in one sentence.
        for elsewhere in ("https://evil.example/profile/maria-g", "https://app.opentrain.ai.evil.example/profile/x",
                          "not a profile at all"):
            answer = await submit(slack, submitted(REQUESTER, form, {TRAINER: elsewhere}))
            assert answer == {"response_action": "errors", "errors": {TRAINER: NOT_A_PROFILE}}

        # A stranger is refused at the click.
        refused = await opened_modal(slack_api, slack, STRANGER, INVITE_TRAINER, job_id, "Only")
        assert "can invite a trainer to this job" in text_of(refused)

        # The profile link: the masked profile is shown to confirm; nothing is sent yet.
        answer = await submit(slack, submitted(REQUESTER, form, {TRAINER: "https://app.opentrain.ai/profile/maria-g"}))
        assert answer["response_action"] == "update"
        confirm = await modal_saying(slack_api, form["id"], "Maria G.")
        assert confirm["callback_id"] == CONFIRM_INVITE_VIEW and confirm["submit"]["text"] == "Invite"
        assert "$18/hour" in text_of(confirm) and "https://app.opentrain.ai/profile/maria-g" in text_of(confirm)
        assert market.requests(invites, "POST") == 0

        # A stranger's forged confirmation sends nothing.
        await submit(slack, submitted(STRANGER, confirm, {}))
        await modal_saying(slack_api, form["id"], "can invite a trainer")
        assert market.requests(invites, "POST") == 0

        # Confirmed: invited once; a second confirmation says so and sends nothing twice.
        await submit(slack, submitted(REQUESTER, confirm, {}))
        await modal_saying(slack_api, form["id"], "Invited")
        assert market.requests(invites, "POST") == 1
        await submit(slack, submitted(REQUESTER, confirm, {}))
        await modal_saying(slack_api, form["id"], "already invited")

        # An unknown slug is said in the form.
        await submit(slack, submitted(REQUESTER, form, {TRAINER: "nobody-here"}))
        await modal_saying(slack_api, form["id"], "no trainer with that profile")
        assert maria["id"] not in text_of(slack_api.modals[form["id"]])
    market.close()


async def test_a_job_of_another_workspace_is_refused_whoever_asks(make_settings, slack_api, sandbox_url, redis,
                                                                  namespace):
    market = Market(sandbox_url)
    settings = make_settings(opentrain_api_token=market.account())
    # A job published from another workspace sharing this deployment: its record names T2.
    foreign_id, foreign_url = market.publish_job(market.account())
    await seed_job(redis, namespace, job_id=foreign_id, job_url=foreign_url, workspace_id=OTHER_TEAM,
                   channel="COTHER", root_ts="1700000000.000100", requester=REQUESTER)
    market.control("freelancers", {"slug": "maria-g"})
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        for action_id in (EDIT_JOB, INVITE_TRAINER):
            refused = await opened_modal(slack_api, slack, REQUESTER, action_id, foreign_id, "this workspace")
            assert "wasn't published from this workspace" in text_of(refused)

        # Forged submissions carrying the foreign id: refused before anything reaches OpenTrain.
        forged = json.dumps({"job": foreign_id})
        edit_form = {"id": refused["id"], "callback_id": EDIT_VIEW, "private_metadata": forged,
                     "blocks": [{"type": "input", "block_id": "headcount", "element": {"type": "number_input"}}]}
        answer = await submit(slack, submitted(REQUESTER, edit_form, {"headcount": "3"}))
        assert answer["response_action"] == "update" and "this workspace" in text_of(answer["view"])
        confirm = {"id": refused["id"], "callback_id": CONFIRM_INVITE_VIEW, "blocks": [],
                   "private_metadata": json.dumps({"job": foreign_id, "trainer": "usr_0123"})}
        await submit(slack, submitted(REQUESTER, confirm, {}))
        await modal_saying(slack_api, refused["id"], "wasn't published from this workspace")
        assert market.requests(f"/jobs/{foreign_id}", "PATCH") == 0
        assert market.requests(f"/jobs/{foreign_id}/invites", "POST") == 0
    market.close()


async def test_a_hostile_profile_is_shown_as_text(make_settings, slack_api, sandbox_url):
    """OpenTrain's answers about a trainer are text: a name or title carrying Slack markup pings and links nobody."""
    market = Market(sandbox_url)
    settings = make_settings(opentrain_api_token=market.account())
    market.control("freelancers", {"slug": "maria-g"})
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        await publish_a_job(Person(REQUESTER, slack, slack_api), slack_api)
        market.control("hostile", {"text": True, "path": "/api/public/v1/freelancers/*"})
        assert await slack.event(home_opened(REQUESTER)) == 200
        home = await eventually(lambda: slack_api.homes.get(REQUESTER), "the requester's Home tab")
        job_id = job_buttons(home, INVITE_TRAINER)[0]["value"]
        form = await opened_modal(slack_api, slack, REQUESTER, INVITE_TRAINER, job_id, "profile")
        await submit(slack, submitted(REQUESTER, form, {TRAINER: "maria-g"}))
        confirm = await modal_saying(slack_api, form["id"], "Maria G.")
        await submit(slack, submitted(REQUESTER, confirm, {}))
        await modal_saying(slack_api, form["id"], "Invited")
        assert "&lt;!here&gt;" in text_of(slack_api.modals[form["id"]])
        assert assert_nothing_from_outside(slack_api, users={REQUESTER}) > 0
    market.close()


async def test_a_blocked_edit_reopens_a_conversation_whose_records_expired(make_settings, slack_api, sandbox_url,
                                                                         sandbox_server, redis, namespace):
    """Weeks after publishing, the conversation's record and its Slack record are gone: the job's own record is
    enough to bring its review card back to the thread, under the root message that keeps the job's title."""
    market = Market(sandbox_url)
    settings = make_settings(opentrain_api_token=market.account())
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        root = await publish_a_job(Person(REQUESTER, slack, slack_api), slack_api)
        expired = [k for pattern in (f"{namespace}:{{ws:{TEAM}}}:*conv:*", f"{namespace}:{{conv:*}}:ws:{TEAM}:*")
                   async for k in redis.scan_iter(pattern)]
        assert len(expired) >= 2
        for record in expired:  # one by one: they lie in different Cluster slots
            await redis.delete(record)
        assert await slack.event(home_opened(REQUESTER)) == 200
        home = await eventually(lambda: slack_api.homes.get(REQUESTER), "the requester's Home tab")
        job_id = job_buttons(home, EDIT_JOB)[0]["value"]
        form = await opened_modal(slack_api, slack, REQUESTER, EDIT_JOB, job_id, "empty fields stay")
        await submit(slack, submitted(REQUESTER, form, {"pricePerHour": "0.5"}))
        await modal_saying(slack_api, form["id"], "review card is back")
        card = await eventually(lambda: in_thread(slack_api, root, "Review your job"), "the review card again")
        assert "Publish" in labels(card) and "0.5" in text_of_message(card)
        title = sandbox_server.world.jobs[job_id].fields["jobTitle"]
        await eventually(lambda: "review" in slack_api.messages[(root.channel, root.ts)].text or None, "the root")
        assert title.split()[0] in slack_api.messages[(root.channel, root.ts)].text
        assert await Person(REQUESTER, slack, slack_api).click(card, "Publish") == 200
        await eventually(lambda: in_thread(slack_api, root, "moderation blocked this job"), "publish refused again")
    market.close()


async def test_a_blocked_edit_while_a_claim_waits_points_to_the_draft_instead(make_settings, slack_api,
                                                                             sandbox_url, sandbox_server):
    """The requester (an admin) was asked who should own the OpenTrain account: the conversation waits for that, so
    it is not taken back to review; the words say where to fix the draft instead."""
    settings = make_settings()  # the bot registers its own, unclaimed, account
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        root = await publish_a_job(Person(REQUESTER, slack, slack_api), slack_api)
        assert await slack.event(home_opened(REQUESTER)) == 200
        home = await eventually(lambda: slack_api.homes.get(REQUESTER), "the requester's Home tab")
        job_id = job_buttons(home, EDIT_JOB)[0]["value"]
        form = await opened_modal(slack_api, slack, REQUESTER, EDIT_JOB, job_id, "empty fields stay")
        await submit(slack, submitted(REQUESTER, form, {"jobDescription": "Solve captchas for our scrapers."}))
        blocked = await modal_saying(slack_api, form["id"], "moderation blocked it")
        assert f"https://app.opentrain.ai/job-post?jobId={job_id}" in text_of(blocked)
        assert "CAPTCHAs" in text_of(blocked) and sandbox_server.world.jobs[job_id].status == "DRAFT"
        note = await eventually(lambda: in_thread(slack_api, root, "moderation blocked it"), "the thread's note")
        assert "the draft on OpenTrain" in text_of_message(note)
        assert not in_thread(slack_api, root, "sent this job back to draft")  # no review card: the claim waits


async def test_an_unusable_account_is_said_in_the_modal_never_left_working(make_settings, slack_api, sandbox_url,
                                                                          redis, namespace):
    """The workspace's stored OpenTrain token can no longer be decrypted (ENCRYPTION_KEY changed): a save and an
    invite each say so in their modal instead of leaving it on "Saving…" or "Sending…"."""
    market = Market(sandbox_url)
    market.control("freelancers", {"slug": "maria-g", "firstName": "Maria", "lastInitial": "G"})
    settings = make_settings()  # the bot registers its own account: its token is sealed in Redis
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        await publish_a_job(Person(REQUESTER, slack, slack_api), slack_api)
        assert await slack.event(home_opened(REQUESTER)) == 200
        home = await eventually(lambda: slack_api.homes.get(REQUESTER), "the requester's Home tab")
        job_id = job_buttons(home, EDIT_JOB)[0]["value"]
        form = await opened_modal(slack_api, slack, REQUESTER, EDIT_JOB, job_id, "empty fields stay")
        invite = await opened_modal(slack_api, slack, REQUESTER, INVITE_TRAINER, job_id, "profile")
        await submit(slack, submitted(REQUESTER, invite, {TRAINER: "maria-g"}))
        confirm = await modal_saying(slack_api, invite["id"], "Maria G.")

        await redis.hset(f"{namespace}:{{ws:{TEAM}}}:account", "access_token", "sealed-with-a-key-long-gone")
        await submit(slack, submitted(REQUESTER, form, {"headcount": "3"}))
        saved = await modal_saying(slack_api, form["id"], "can't be decrypted")
        assert "The edit didn't go through" in text_of(saved)
        await submit(slack, submitted(REQUESTER, confirm, {}))
        sent = await modal_saying(slack_api, invite["id"], "can't be decrypted")
        assert "The invite wasn't sent" in text_of(sent)
        assert market.requests(f"/jobs/{job_id}", "PATCH") == 0
        assert market.requests(f"/jobs/{job_id}/invites", "POST") == 0
    market.close()


async def test_a_slow_directory_never_delays_the_ack_of_a_submission(make_settings, slack_api, sandbox_url, redis,
                                                                     namespace):
    """A hiring manager by user group submits after the directory's cache lapsed, and Slack takes 4 s to list the
    group: each submission is acked within Slack's 3 s as working, checked again after, and its outcome shown (a bad
    input too, in words, since errors next to the inputs can only come with the ack)."""
    market = Market(sandbox_url)
    market.control("freelancers", {"slug": "maria-g", "firstName": "Maria", "lastInitial": "G"})
    slack_api.add_user(GROUPED, "gus@example.com", "Gus Grouped")
    slack_api.add_group("S0HIRING", [GROUPED])
    settings = make_settings(opentrain_api_token=market.account(), hiring_managers="S0HIRING")
    lapsed = f"{namespace}:{{ws:{TEAM}}}:slack:directory:group:S0HIRING"
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        await publish_a_job(Person(REQUESTER, slack, slack_api), slack_api)
        assert await slack.event(home_opened(REQUESTER)) == 200
        home = await eventually(lambda: slack_api.homes.get(REQUESTER), "the requester's Home tab")
        job_id = job_buttons(home, EDIT_JOB)[0]["value"]
        form = await opened_modal(slack_api, slack, GROUPED, EDIT_JOB, job_id, "empty fields stay")
        invite = await opened_modal(slack_api, slack, GROUPED, INVITE_TRAINER, job_id, "profile")

        for modal, values, outcome in ((form, {"headcount": "2.5"}, "Nothing was saved"),  # too late for errors
                                       (form, {"headcount": "4"}, "Saved your changes"),
                                       (invite, {TRAINER: "maria-g"}, "Maria G.")):
            assert await redis.delete(lapsed) == 1
            slack_api.slow("usergroups.users.list", 4, times=2)
            started = time.monotonic()
            answer = await submit(slack, submitted(GROUPED, modal, values))
            assert time.monotonic() - started < 3
            assert answer["response_action"] == "update" and "hourglass" in text_of(answer["view"])
            await modal_saying(slack_api, modal["id"], outcome)
        assert market.requests(f"/jobs/{job_id}", "PATCH") == 1
    market.close()
