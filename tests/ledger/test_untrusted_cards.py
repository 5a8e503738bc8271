"""Proposal cards from a hostile OpenTrain (`/_sandbox/hostile`): candidate names, titles and cover letters full of
Slack markup, every link pointing elsewhere, a proposal id with `|` and `>`. Every card and digest the Slack stand-in
received is read: nothing from outside forms a mention, a broadcast or a link, and review links go to OpenTrain."""

from __future__ import annotations

import json

import httpx

from bot.hiring.jobs import LEDGER_KIND
from tests.ledger.test_ledger import Worker, publish_from_slack, pump, shown
from tests.support.market import Market
from tests.support.proposals import TEAM
from tests.support.untrusted import assert_nothing_from_outside


def arm(sandbox_url: str, **hostility: object) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/hostile", json=hostility, timeout=5).raise_for_status()


async def test_hostile_proposals_become_inert_cards_with_trusted_links(
        redis, redis_url, namespace, sandbox_url, slack_api, clock):
    market = Market(sandbox_url)
    token = market.account()
    arm(sandbox_url, urls="elsewhere", text=True)
    job_id = await publish_from_slack(market, token, redis, namespace)  # its stored jobUrl is the foreign one
    worker = Worker(redis_url, namespace, sandbox_url, slack_api, token, clock)
    await worker.scheduler.schedule(LEDGER_KIND, TEAM)

    [single] = market.propose(job_id)
    await pump(worker, clock, lambda: shown(slack_api)[single])
    burst = market.propose(job_id, 4)
    await pump(worker, clock, lambda: all(shown(slack_api)[p] for p in burst))

    card = slack_api.message(*await worker.outbox.location(TEAM, single))
    blocks = json.dumps(card.blocks)
    assert "&lt;!here&gt;" in card.text and "&lt;!here&gt;" in blocks  # the hostile name is shown, as text
    review = f"https://app.opentrain.ai/jobs/{job_id}/proposals/{single}"
    assert f"<{review}|" in blocks and review in card.text  # built from ids, not from the foreign job URL
    assert any(e.get("url") == review for b in card.blocks if b["type"] == "actions" for e in b["elements"])
    assert assert_nothing_from_outside(slack_api, users=set()) >= 2
    await worker.aclose()
    market.close()


async def test_a_proposal_with_a_markup_id_gets_no_card_and_holds_nothing_back(
        redis, redis_url, namespace, sandbox_url, slack_api, clock):
    market = Market(sandbox_url)
    token = market.account()
    job_id = await publish_from_slack(market, token, redis, namespace)
    worker = Worker(redis_url, namespace, sandbox_url, slack_api, token, clock)
    await worker.scheduler.schedule(LEDGER_KIND, TEAM)

    arm(sandbox_url, ids=["id"], path="/api/public/v1/proposals/*", times=1)
    [spoofed] = market.propose(job_id)
    [honest] = market.propose(job_id)
    await pump(worker, clock, lambda: shown(slack_api)[honest])
    assert not shown(slack_api)[spoofed]  # its answer was unreadable: no card, and the next one still came
    assert assert_nothing_from_outside(slack_api, users=set()) >= 1
    await worker.aclose()
    market.close()
