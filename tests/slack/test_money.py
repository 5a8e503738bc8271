"""Money from Slack, over signed HTTP with the sandbox and a real Redis: hire requests followed to their end on the
proposal card, the contract card and its milestones, ending a contract, budget notices, refusals explained, and
every money button and modal refused to someone not allowed (or naming a contract that isn't this workspace's).

The human co-signing in OpenTrain is played through the sandbox's control API (`/_sandbox/approvals/{id}/resolve`),
usage through `/_sandbox/contracts/{id}/usage`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time

import httpx

from bot.app import serve_http
from bot.hiring.approvals import APPROVAL_EXPIRY_KIND
from bot.infra.scheduler import Scheduler
from bot.slack.blocks.contracts import ADD_MILESTONE_MODAL, END_CONTRACT, FUND_MILESTONE, parse_contract_value
from tests.slack.conftest import REQUESTER, STRANGER, TEAM, HttpSlack, Person, labels, text_of
from tests.slack.story import eventually, in_thread, publish_a_job
from tests.slack.test_authorization import (
    MANAGER,
    click_value,
    ephemerals_to,
    people,
    submission,
)
from tests.slack.test_story import keys_that_live_forever
from tests.support.market import Market
from tests.support.slack_api import PostedMessage, SlackApiStandIn

FAST = {"opentrain_poll_seconds": 0.3}


def resolve(sandbox_url: str, approval_id: str, decision: str) -> dict:
    response = httpx.post(f"{sandbox_url}/_sandbox/approvals/{approval_id}/resolve", json={"decision": decision},
                          timeout=5)
    assert response.status_code == 200, response.text
    return response.json()["approval"]


def approval_id_in(message: PostedMessage) -> str:
    """The approval a card links to (the URL button), as a human would open it."""
    for block in message.blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            url = element.get("url") or ""
            if "/approvals/" in url:
                return url.rsplit("/", 1)[1]
    raise AssertionError(f"no approval link in {json.dumps(message.blocks)[:600]}")


def hire_submission(metadata: str, user: str, name: str = "First batch", amount: str = "300") -> dict:
    return submission(metadata, user, name=name, amount=amount, due="2026-12-31")


async def new_proposal_card(market: Market, api: SlackApiStandIn, root: PostedMessage, job_id: str
                            ) -> tuple[str, PostedMessage]:
    [proposal_id] = market.propose(job_id)
    card = await eventually(lambda: next((m for m in api.thread(root.channel, root.ts)
                                          if proposal_id in json.dumps(m.blocks)), None), "the proposal card")
    return proposal_id, card


async def request_hire(person: Person, api: SlackApiStandIn, card: PostedMessage, **terms: str) -> str:
    """Request hire from the card (modal, submit); returns the approval id once the card shows the request."""
    modals = len(api.calls_to("views.open"))
    assert await person.click(card, "Request hire") == 200
    await eventually(lambda: len(api.calls_to("views.open")) > modals, "the hire modal")
    metadata = api.calls_to("views.open")[-1].args["view"]["private_metadata"]
    assert await person.slack.action(hire_submission(metadata, person.user_id, **terms)) == 200
    await eventually(lambda: "waiting for approval in OpenTrain" in text_of(card), "the request on the card")
    assert f"<@{person.user_id}>" in text_of(card) and "expires" in text_of(card)
    assert "Request hire" not in labels(card)
    return approval_id_in(card)


async def settled(seconds: float = 1.5) -> None:
    """Give late duplicates (a second event, a second process) the time to show up, if they were going to."""
    await asyncio.sleep(seconds)


async def a_published_job(who: dict[str, Person], api: SlackApiStandIn) -> tuple[PostedMessage, str]:
    root = await publish_a_job(who[REQUESTER], api)
    live = await eventually(lambda: in_thread(api, root, "Your job is live"), "the job link")
    job_id = next(word for word in text_of(live).replace("/", " ").replace("|", " ").replace(">", " ").split()
                  if word.startswith("job_"))
    return root, job_id


async def a_contract(who, api, sandbox_url, root, job_id) -> tuple[str, PostedMessage]:
    """A hire confirmed in OpenTrain: (contract id, its card in the job's thread)."""
    market = Market(sandbox_url)
    _, card = await new_proposal_card(market, api, root, job_id)
    approval_id = await request_hire(who[REQUESTER], api, card)
    result = resolve(sandbox_url, approval_id, "confirm")["result"]
    contract = await eventually(lambda: in_thread(api, root, "Contract with"), "the contract card")
    await eventually(lambda: "Hired" in text_of(card), "the proposal card showing Hired")
    market.close()
    return result["contractId"], contract


async def test_a_hire_request_is_shown_on_its_card_and_each_end_updates_it_once(make_settings, slack_api,
                                                                               sandbox_url, redis, namespace):
    token = Market(sandbox_url).account()
    settings = make_settings(opentrain_api_token=token, hiring_managers=MANAGER, **FAST)
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        who = people(slack_api, HttpSlack([server.url], http))
        market = Market(sandbox_url)
        root, job_id = await a_published_job(who, slack_api)

        # Declined: the card says so, once, and offers the hire again.
        _, declined_card = await new_proposal_card(market, slack_api, root, job_id)
        approval_id = await request_hire(who[REQUESTER], slack_api, declined_card)
        dm = slack_api.calls_to("chat.postMessage", lambda a: a["channel"] == slack_api.dm_channel(REQUESTER))
        assert f"/approvals/{approval_id}" in dm[-1].args["text"]
        before = declined_card.updates
        resolve(sandbox_url, approval_id, "decline")
        await eventually(lambda: "Declined" in text_of(declined_card), "the card showing Declined")
        await settled()
        assert declined_card.updates == before + 1 and "Request hire" in labels(declined_card)

        # Expired: nobody acted within 72 hours. No event says so; the bot's scheduled check reads it again.
        _, lapsing_card = await new_proposal_card(market, slack_api, root, job_id)
        approval_id = await request_hire(who[MANAGER], slack_api, lapsing_card)
        before = lapsing_card.updates
        await http.post(f"{sandbox_url}/_sandbox/clock", json={"advanceSeconds": 72 * 3600 + 1})
        await Scheduler(redis, namespace).schedule(APPROVAL_EXPIRY_KIND, f"{TEAM}:{approval_id}",
                                                   due_at=time.time())  # the bot's 72 hours pass too
        await eventually(lambda: "Expired" in text_of(lapsing_card), "the card showing Expired")
        await settled()
        assert lapsing_card.updates == before + 1
        assert market.requests(f"/approvals/{approval_id}") >= 1

        # Confirmed: hired, and the contract card appears in the job's thread.
        _, hired_card = await new_proposal_card(market, slack_api, root, job_id)
        approval_id = await request_hire(who[REQUESTER], slack_api, hired_card)
        before = hired_card.updates
        resolve(sandbox_url, approval_id, "confirm")
        await eventually(lambda: "Hired" in text_of(hired_card), "the card showing Hired")
        contract = await eventually(lambda: in_thread(slack_api, root, "Contract with"), "the contract card")
        await settled()
        # The approval's end is drawn once; the proposal's own status change (HIRED) may redraw the card once more.
        assert before + 1 <= hired_card.updates <= before + 2
        assert "Request hire" not in labels(hired_card)
        assert len([m for m in slack_api.thread(root.channel, root.ts) if "Contract with" in m.text]) == 1
        assert "Per hour" in text_of(contract) and "First batch" in text_of(contract) and "Funded" in text_of(contract)
        assert {"Add milestone", "Release payment", "End contract"} <= set(labels(contract))
        market.close()


async def test_milestones_are_added_funded_and_released_and_the_contract_ended(make_settings, slack_api,
                                                                               sandbox_url):
    token = Market(sandbox_url).account()
    settings = make_settings(opentrain_api_token=token, hiring_managers=MANAGER, **FAST)
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        who = people(slack_api, HttpSlack([server.url], http))
        market = Market(sandbox_url)
        root, job_id = await a_published_job(who, slack_api)
        contract_id, card = await a_contract(who, slack_api, sandbox_url, root, job_id)

        # Add a milestone: a volume (hours) on this hourly contract; a wrong amount is refused in the modal.
        assert await who[MANAGER].click(card, "Add milestone") == 200
        view = await milestone_form(slack_api)
        assert {b.get("block_id") for b in view["blocks"]} >= {"name", "description", "volume", "amount", "due"}
        wrong = milestone_submission(view["private_metadata"], MANAGER, volume="10", amount="1")
        response = await who[MANAGER].slack.deliver(form(wrong), "application/x-www-form-urlencoded")
        assert response.status_code == 200 and set(json.loads(response.text)["errors"]) == {"amount"}
        assert market.requests("/milestones", method="POST") == 0
        right = milestone_submission(view["private_metadata"], MANAGER, volume="10")
        assert await who[MANAGER].slack.action(right) == 200
        await eventually(lambda: any("added" in t for t in ephemerals_to(slack_api, MANAGER)), "milestone added")
        await eventually(lambda: "Batch 2" in text_of(card) and "Fund milestone" in labels(card), "card redrawn")

        # Fund it: a co-signed request shown on the card until OpenTrain says it is confirmed.
        assert await who[REQUESTER].click(card, "Fund milestone") == 200
        await eventually(lambda: "Funding requested by" in text_of(card) and "waiting for approval" in text_of(card),
                         "the funding request on the card")
        resolve(sandbox_url, approval_id_in(card), "confirm")
        await eventually(lambda: "*confirmed*" in text_of(card) and "Fund milestone" not in labels(card),
                         "funding confirmed")

        # Release the first milestone's payment.
        assert await who[REQUESTER].click(card, "Release payment") == 200
        await eventually(lambda: "Payment release requested by" in text_of(card), "the release request")
        pending = [b for b in card.blocks if "Payment release requested" in json.dumps(b) and b.get("accessory")]
        resolve(sandbox_url, pending[-1]["accessory"]["url"].rsplit("/", 1)[1], "confirm")
        await eventually(lambda: "Paid" in text_of(card), "the milestone paid")

        # End the contract: a funded milestone is left, so a human approves that too.
        assert await who[REQUESTER].click(card, "End contract") == 200
        await eventually(lambda: "Ending the contract requested by" in text_of(card), "the end request")
        ending = [b for b in card.blocks if "Ending the contract requested" in json.dumps(b) and b.get("accessory")]
        resolve(sandbox_url, ending[-1]["accessory"]["url"].rsplit("/", 1)[1], "confirm")
        await eventually(lambda: "Ended" in text_of(card) and not labels(card), "the contract ended, no buttons")
        assert len(slack_api.calls_to("chat.postMessage", lambda a: "Contract with" in a.get("text", ""))) == 1
        ended = await http.get(f"{sandbox_url}/api/public/v1/contracts/{contract_id}",
                               headers={"authorization": f"Bearer {token}"})
        assert ended.json()["contract"]["status"] == "ended"
        market.close()


async def test_a_budget_running_low_then_depleted_dms_the_requester_once_each_with_two_workers(
        make_settings, slack_api, sandbox_url, redis, namespace):
    token = Market(sandbox_url).account()
    settings = make_settings(opentrain_api_token=token, **FAST)
    async with serve_http(settings, port=0) as one, serve_http(settings, port=0) as two, \
            httpx.AsyncClient(timeout=10) as http:
        who = people(slack_api, HttpSlack([one.url, two.url], http))
        root, job_id = await a_published_job(who, slack_api)
        contract_id, card = await a_contract(who, slack_api, sandbox_url, root, job_id)
        read = await http.get(f"{sandbox_url}/api/public/v1/contracts/{contract_id}",
                              headers={"authorization": f"Bearer {token}"})
        budget = read.json()["contract"]["budget"]
        usage = f"{sandbox_url}/_sandbox/contracts/{contract_id}/usage"

        def notices(word: str) -> list:
            return slack_api.calls_to("chat.postMessage", lambda a: a["channel"] == slack_api.dm_channel(REQUESTER)
                                      and word in a.get("text", ""))

        await http.post(usage, json={"hours": budget["fundedVolume"] * 0.85})
        await eventually(lambda: notices("running low"), "the LOW notice")
        await eventually(lambda: "Low" in text_of(card), "the card's budget LOW")
        await http.post(usage, json={"hours": budget["fundedVolume"] * 0.2})
        await eventually(lambda: notices("depleted"), "the DEPLETED notice")
        await eventually(lambda: "Depleted" in text_of(card), "the card's budget DEPLETED")
        await settled(2.0)
        assert len(notices("running low")) == 1 and len(notices("depleted")) == 1
        assert len(slack_api.calls_to("chat.postMessage", lambda a: "Contract with" in a.get("text", ""))) == 1
    # Every key the money story wrote has a TTL, or docs/architecture.md says why it lives forever.
    forever = keys_that_live_forever(namespace)
    lifetimes = {str(k): await redis.ttl(k) async for k in redis.scan_iter(match=f"{namespace}:*", count=500)}
    assert [k for k, ttl in lifetimes.items() if ttl == -1 and not any(p.match(k) for p in forever)] == []
    for kind in (":approval:", ":approval-of:", ":contract:", ":budget:"):
        assert any(kind in k for k in lifetimes), (kind, sorted(lifetimes))


async def test_refusals_are_explained_with_the_way_to_fix_them(make_settings, slack_api, sandbox_url):
    market = Market(sandbox_url)
    created = market.control("tokens", {"scopes": ["jobs:read", "jobs:write", "proposals:read", "proposals:write",
                                                   "messages:read", "messages:write", "payments:read"]})
    settings = make_settings(opentrain_api_token=created["token"], **FAST)
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        who = people(slack_api, HttpSlack([server.url], http))
        root, job_id = await a_published_job(who, slack_api)
        _, card = await a_contract(who, slack_api, sandbox_url, root, job_id)

        # The token lacks payments:write: what is missing and who can fix it.
        assert await who[REQUESTER].click(card, "End contract") == 200
        await eventually(lambda: ephemerals_to(slack_api, REQUESTER), "the refusal")
        said = ephemerals_to(slack_api, REQUESTER)[-1]
        assert "missing the scope `payments:write`" in said and "OPENTRAIN_API_TOKEN" in said

        # A payment method missing: the hire request says so, with the billing link.
        market.control(f"accounts/{created['accountId']}/payment-method", {"onFile": False})
        _, proposal_card = await new_proposal_card(market, slack_api, root, job_id)
        modals = len(slack_api.calls_to("views.open"))
        assert await who[REQUESTER].click(proposal_card, "Request hire") == 200
        await eventually(lambda: len(slack_api.calls_to("views.open")) > modals, "the hire modal")
        metadata = slack_api.calls_to("views.open")[-1].args["view"]["private_metadata"]
        assert await who[REQUESTER].slack.action(hire_submission(metadata, REQUESTER)) == 200
        dm = await eventually(lambda: [c for c in slack_api.calls_to("chat.postMessage")
                                       if "payment method" in c.args.get("text", "")], "the billing DM")
        assert "<https://app.opentrain.ai/settings/billing|" in dm[-1].args["text"]

        # Hiring switched off for the account: the feature named, and who can turn it on.
        market.control("features", {"public_api_hiring": False})
        seen = len(slack_api.calls_to("chat.postMessage"))
        assert await who[REQUESTER].slack.action(hire_submission(metadata, REQUESTER)) == 200
        off = await eventually(lambda: [c for c in slack_api.calls_to("chat.postMessage")[seen:]
                                        if "public_api_hiring" in c.args.get("text", "")], "the feature-off DM")
        assert "turn it on" in off[-1].args["text"]
        market.close()


async def test_every_money_button_and_modal_refuses_someone_not_allowed_and_forged_ids(make_settings, slack_api,
                                                                                       sandbox_url):
    token = Market(sandbox_url).account()
    settings = make_settings(opentrain_api_token=token, hiring_managers=MANAGER, **FAST)
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        who = people(slack_api, HttpSlack([server.url], http))
        market = Market(sandbox_url)
        root, job_id = await a_published_job(who, slack_api)
        contract_id, card = await a_contract(who, slack_api, sandbox_url, root, job_id)
        assert await who[REQUESTER].click(card, "Add milestone") == 200
        metadata = (await milestone_form(slack_api))["private_metadata"]
        assert await who[REQUESTER].slack.action(milestone_submission(metadata, REQUESTER, volume="5")) == 200
        await eventually(lambda: "Fund milestone" in labels(card), "an unfunded milestone to fund")
        money_calls = money_requests(market)

        updates = len(slack_api.calls_to("views.update"))
        assert await who[STRANGER].click(card, "Add milestone") == 200  # refused in the modal it opened
        refusal = await eventually(lambda: slack_api.calls_to("views.update")[updates:], "Add milestone refused")
        assert f"Only <@{REQUESTER}> or a hiring manager can" in json.dumps(refusal[-1].args["view"])
        for label in ("Fund milestone", "Release payment", "End contract"):
            seen = len(ephemerals_to(slack_api, STRANGER))
            assert await who[STRANGER].click(card, label) == 200
            await eventually(lambda s=seen: len(ephemerals_to(slack_api, STRANGER)) > s, f"{label} refused")
            said = ephemerals_to(slack_api, STRANGER)[-1]
            assert f"Only <@{REQUESTER}> or a hiring manager can" in said, (label, said)
        forged = milestone_submission(metadata, STRANGER, volume="5")  # the requester's modal, submitted by another
        seen = len(ephemerals_to(slack_api, STRANGER))
        assert await who[STRANGER].slack.action(forged) == 200
        await eventually(lambda: len(ephemerals_to(slack_api, STRANGER)) > seen, "the forged submission refused")
        assert "Only" in ephemerals_to(slack_api, STRANGER)[-1]

        # A contract of another workspace's account, and a milestone of another contract, named in our buttons.
        elsewhere = Market(sandbox_url).account()
        foreign_contract, foreign_milestone = hired_elsewhere(market, elsewhere)
        for value, expected in (({"c": foreign_contract, "m": None}, "doesn't match a contract card"),
                                ({"c": contract_id, "m": foreign_milestone}, "isn't on this contract")):
            for action_id in (FUND_MILESTONE, END_CONTRACT):
                if action_id == END_CONTRACT and value["m"]:
                    continue
                seen = len(ephemerals_to(slack_api, MANAGER))
                assert await click_value(who[MANAGER], card, action_id, json.dumps(value)) == 200
                await eventually(lambda s=seen: len(ephemerals_to(slack_api, MANAGER)) > s, "the forged click")
                assert expected in ephemerals_to(slack_api, MANAGER)[-1], ephemerals_to(slack_api, MANAGER)[-1]
        assert money_requests(market) == money_calls
        assert parse_contract_value(json.dumps({"c": contract_id, "m": None})) == (contract_id, None)
        market.close()


async def milestone_form(api: SlackApiStandIn) -> dict:
    """The add-milestone form, as it replaced the "checking" modal the click opened."""
    updated = await eventually(lambda: [c for c in api.calls_to("views.update")
                                        if c.args["view"].get("callback_id") == ADD_MILESTONE_MODAL], "the form")
    return updated[-1].args["view"]


def money_requests(market: Market) -> int:
    return sum(market.requests(part, method="POST") for part in ("/fund", "/approve", "/end", "/milestones"))


def hired_elsewhere(market: Market, token: str) -> tuple[str, str]:
    """A contract (and its milestone) of another OpenTrain account, made without the bot."""
    job_id, _ = market.publish_job(token)
    [proposal_id] = market.propose(job_id)
    with httpx.Client(base_url=market.url, timeout=10, headers={"authorization": f"Bearer {token}"}) as api:
        hire = api.post(f"/api/public/v1/proposals/{proposal_id}/hire", json={"milestone": {
            "name": "Theirs", "amount": 10, "dueDate": "2026-12-31"}}).json()["approval"]
        contract_id = resolve(market.url, hire["id"], "confirm")["result"]["contractId"]
        contract = api.get(f"/api/public/v1/contracts/{contract_id}").json()["contract"]
    return contract_id, contract["milestones"][0]["id"]


def milestone_submission(metadata: str, user: str, *, volume: str = "", amount: str = "") -> dict:
    values = {"name": {"value": {"type": "plain_text_input", "value": "Batch 2"}},
              "description": {"value": {"type": "plain_text_input", "value": "The next 500 images"}},
              "volume": {"value": {"type": "number_input", "value": volume or None}},
              "amount": {"value": {"type": "number_input", "value": amount or None}},
              "due": {"value": {"type": "datepicker", "selected_date": "2026-12-31"}}}
    return {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A1", "token": "legacy", "trigger_id": "trigger-m",
            "view": {"id": "V8", "type": "modal", "callback_id": ADD_MILESTONE_MODAL,
                     "private_metadata": metadata, "state": {"values": values}}}


def form(payload: dict) -> str:
    from urllib.parse import urlencode

    return urlencode({"payload": json.dumps(payload)})



async def test_a_contract_with_nothing_funded_ends_at_once(make_settings, slack_api, sandbox_url):
    token = Market(sandbox_url).account()
    async with serve_http(make_settings(opentrain_api_token=token, **FAST), port=0) as server, \
            httpx.AsyncClient(timeout=10) as http:
        who = people(slack_api, HttpSlack([server.url], http))
        root, job_id = await a_published_job(who, slack_api)
        _, card = await a_contract(who, slack_api, sandbox_url, root, job_id)
        assert await who[REQUESTER].click(card, "Release payment") == 200
        await eventually(lambda: "Payment release requested by" in text_of(card), "the release request")
        resolve(sandbox_url, approval_id_in(card), "confirm")
        await eventually(lambda: "Paid" in text_of(card), "the milestone paid")

        assert await who[REQUESTER].click(card, "End contract") == 200
        await eventually(lambda: any("has ended" in t for t in ephemerals_to(slack_api, REQUESTER)), "ended")
        await eventually(lambda: "Ended" in text_of(card) and not labels(card), "the card ended, no buttons")
        assert "Ending the contract requested" not in text_of(card)  # no approval was needed


def contract_unreadable_after_one_read(market: Market, contract_id: str) -> None:
    """The action's own check reads the contract; every read after it fails (OpenTrain erring mid-action)."""
    path = f"/api/public/v1/contracts/{contract_id}"
    market.control("faults", {"path": path, "method": "GET", "latencyMs": 1, "times": 1})
    market.control("faults", {"path": path, "method": "GET", "status": 404, "times": 5})


async def test_a_money_action_is_told_even_when_the_card_cannot_be_redrawn(make_settings, slack_api, sandbox_url):
    token = Market(sandbox_url).account()
    async with serve_http(make_settings(opentrain_api_token=token, **FAST), port=0) as server, \
            httpx.AsyncClient(timeout=10) as http:
        who = people(slack_api, HttpSlack([server.url], http))
        market = Market(sandbox_url)
        root, job_id = await a_published_job(who, slack_api)
        contract_id, card = await a_contract(who, slack_api, sandbox_url, root, job_id)
        await settled()

        # Requesting the release succeeds; redrawing the card with the request on it cannot read the contract.
        contract_unreadable_after_one_read(market, contract_id)
        assert await who[REQUESTER].click(card, "Release payment") == 200
        told = await eventually(lambda: [t for t in ephemerals_to(slack_api, REQUESTER)
                                         if "Payment release" in t and "requested" in t], "the release request told")
        await http.delete(f"{sandbox_url}/_sandbox/faults")
        resolve(sandbox_url, re.search(r"/approvals/([\w-]+)", told[-1])[1], "confirm")
        await eventually(lambda: "Paid" in text_of(card), "the milestone paid")
        await settled()

        # Ending it at once succeeds; the redraw after it fails: the person is told all the same.
        contract_unreadable_after_one_read(market, contract_id)
        assert await who[REQUESTER].click(card, "End contract") == 200
        await eventually(lambda: any("has ended" in t for t in ephemerals_to(slack_api, REQUESTER)), "the end told")
        await http.delete(f"{sandbox_url}/_sandbox/faults")
        market.close()


async def test_add_milestone_opens_its_modal_at_once_however_slow_opentrain_is(make_settings, slack_api,
                                                                             sandbox_url):
    token = Market(sandbox_url).account()
    async with serve_http(make_settings(opentrain_api_token=token, **FAST), port=0) as server, \
            httpx.AsyncClient(timeout=10) as http:
        who = people(slack_api, HttpSlack([server.url], http))
        market = Market(sandbox_url)
        root, job_id = await a_published_job(who, slack_api)
        contract_id, card = await a_contract(who, slack_api, sandbox_url, root, job_id)
        await settled()
        market.control("faults", {"path": f"/api/public/v1/contracts/{contract_id}", "method": "GET",
                                  "latencyMs": 3500})
        opens, clicked = len(slack_api.calls_to("views.open")), time.monotonic()
        assert await who[REQUESTER].click(card, "Add milestone") == 200
        [opened] = await eventually(lambda: slack_api.calls_to("views.open")[opens:], "a modal opened")
        assert time.monotonic() - clicked < 2.5  # within the trigger's 3 s, before OpenTrain answered
        assert "Checking the contract" in json.dumps(opened.args["view"])
        form = await milestone_form(slack_api)
        [update] = slack_api.calls_to("views.update")
        assert update.args["view_id"] in slack_api.modals and "volume" in json.dumps(form["blocks"])
        market.close()
