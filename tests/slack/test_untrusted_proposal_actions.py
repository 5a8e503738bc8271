"""A proposal card's actions against a hostile OpenTrain: the candidate's name, OpenTrain's messages and links are
hostile; what the clicker reads (ephemeral, modal, DM) is inert text with links to OpenTrain's own pages only."""

from __future__ import annotations

import httpx
from cryptography.fernet import Fernet

from bot.hiring.accounts import Accounts
from bot.infra.secretbox import SecretBox
from bot.opentrain.client import OpenTrainClient
from bot.slack.blocks.proposals import OPEN_CONVERSATION, REQUEST_HIRE
from tests.slack.test_proposal_actions import TEAMMATE, Bot, desk, outbox_for, posted_card, submission
from tests.support.market import Market
from tests.support.untrusted import HOSTILE_TEXT, assert_nothing_from_outside

APP = "https://app.opentrain.ai"


def arm(sandbox_url: str, **hostility: object) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/hostile", json=hostility, timeout=5).raise_for_status()


async def test_hostile_candidate_and_links_stay_inert_through_the_actions(redis, namespace, sandbox_url, slack_api):
    market = Market(sandbox_url)
    token = market.account()
    arm(sandbox_url, urls="elsewhere", text=True)
    opentrain = OpenTrainClient(sandbox_url)
    accounts = Accounts(redis, namespace, opentrain, SecretBox(Fernet.generate_key()), app_token=token)
    bot = Bot(slack_api, desk(redis, namespace, accounts), outbox_for(redis, namespace, slack_api), redis, namespace,
              accounts)
    card_ts, values = await posted_card(redis, namespace, sandbox_url, slack_api, token, market)

    await bot.click(card_ts, OPEN_CONVERSATION, values[OPEN_CONVERSATION], TEAMMATE)
    [opened] = await slack_api.wait_for("chat.postEphemeral")
    assert "is open: write in its thread" in opened.args["text"]
    assert "&lt;!here&gt;" in opened.args["text"]  # the candidate's hostile name, as text

    await bot.click(card_ts, REQUEST_HIRE, values[REQUEST_HIRE], TEAMMATE)
    [modal] = await slack_api.wait_for("views.open")
    await bot.deliver(submission(modal.args["view"]["private_metadata"], TEAMMATE, name=f"Batch {HOSTILE_TEXT}",
                                 amount="300", due="2026-12-31"))
    [dm] = await slack_api.wait_for("chat.postMessage", where=lambda args: args["channel"] == "D" + TEAMMATE)
    assert f"<{APP}/approvals/apr_" in dm.args["text"]  # built from the approval id, not the foreign link
    assert "Batch &lt;!here&gt;" in dm.args["text"]  # the typed milestone name, as text

    assert assert_nothing_from_outside(slack_api, users=set()) >= 3
    await opentrain.aclose()
    market.close()


async def test_a_conversation_id_with_markup_is_refused_plainly(redis, namespace, sandbox_url, slack_api):
    market = Market(sandbox_url)
    token = market.account()
    opentrain = OpenTrainClient(sandbox_url)
    accounts = Accounts(redis, namespace, opentrain, SecretBox(Fernet.generate_key()), app_token=token)
    bot = Bot(slack_api, desk(redis, namespace, accounts), outbox_for(redis, namespace, slack_api), redis, namespace,
              accounts)
    card_ts, values = await posted_card(redis, namespace, sandbox_url, slack_api, token, market)

    arm(sandbox_url, ids=["conversationId"], text=True, path="/api/public/v1/proposals/*/conversation")
    await bot.click(card_ts, OPEN_CONVERSATION, values[OPEN_CONVERSATION], TEAMMATE)
    [refused] = await slack_api.wait_for("chat.postEphemeral")
    assert refused.args["text"].startswith("I couldn't open the conversation.")
    assert "conversationId=" not in refused.args["text"]
    assert assert_nothing_from_outside(slack_api, users=set()) >= 2
    await opentrain.aclose()
    market.close()
