"""The card's buttons through bolt, signed like Slack: claimed accounts open conversations and request hires."""

from __future__ import annotations

import json
from types import SimpleNamespace
from urllib.parse import urlencode

from cryptography.fernet import Fernet
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.hiring.accounts import Accounts
from bot.hiring.authz import Authorizer
from bot.hiring.proposals import ProposalDesk
from bot.hiring.talk import CandidateTalks
from bot.infra.scheduler import Scheduler
from bot.infra.secretbox import SecretBox
from bot.infra.storage import key
from bot.ledger.cards import ProposalCard
from bot.opentrain.client import OpenTrainClient
from bot.slack.blocks.proposals import HIRE_MODAL, OPEN_CONVERSATION, REQUEST_HIRE
from bot.slack.listeners.proposal_actions import register
from bot.slack.outbox import CardAction, Destination, Lane, Outbox
from bot.slack.relay import SlackRelay
from tests.support import slack_signing as signing
from tests.support.directory import Listed
from tests.support.market import Market, seed_job
from tests.support.proposals import CHANNEL, ROOT_TS, TEAM, slack_client

SIGNING_SECRET = "test-signing-secret"
REQUESTER, TEAMMATE = "UREQ", "UMATE"


class Bot:
    """The proposal-action listeners in a bolt app whose Web API calls reach the Slack stand-in."""

    def __init__(self, slack_api, desk: ProposalDesk, outbox: Outbox, redis, namespace: str, accounts: Accounts):
        self.app = AsyncApp(signing_secret=SIGNING_SECRET, client=slack_client(slack_api))
        talks = CandidateTalks(redis, namespace, accounts, desk, Scheduler(redis, namespace))
        register(self.app, SimpleNamespace(client=self.app.client, proposals=desk, outbox=outbox,
                                           relay=SlackRelay(talks, self.app.client)))

    async def deliver(self, payload: dict) -> tuple[int, str]:
        raw = urlencode({"payload": json.dumps(payload)})
        response = await self.app.async_dispatch(AsyncBoltRequest(
            body=raw, headers=signing.signed_headers(SIGNING_SECRET, raw, signing.FORM)))
        return response.status, response.body

    async def click(self, card_ts: str, action_id: str, value: str, user: str) -> None:
        status, _ = await self.deliver(signing.block_action_payload(
            user_id=user, channel_id=CHANNEL, message_ts=card_ts, thread_ts=ROOT_TS, action_id=action_id,
            value=value))
        assert status == 200


def desk(redis, namespace, accounts) -> ProposalDesk:
    """TEAMMATE is a hiring manager: the job's requester and hiring managers may act on its proposals."""
    return ProposalDesk(redis, namespace, accounts, Authorizer(Listed(managers={TEAMMATE})))


def submission(private_metadata: str, user: str, *, name: str, amount: str, due: str | None) -> dict:
    values = {"name": {"value": {"type": "plain_text_input", "value": name}},
              "amount": {"value": {"type": "number_input", "value": amount}},
              "due": {"value": {"type": "datepicker", "selected_date": due}}}
    return {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A1", "token": "legacy-verification-token", "trigger_id": "trigger-3",
            "view": {"id": "V1", "type": "modal", "callback_id": HIRE_MODAL, "private_metadata": private_metadata,
                     "state": {"values": values}}}


def outbox_for(redis, namespace, slack_api) -> Outbox:
    return Outbox(redis, namespace, slack_client(slack_api), Scheduler(redis, namespace))


async def posted_card(redis, namespace, sandbox_url, slack_api, token, market) -> tuple[str, dict[str, str]]:
    """A real proposal's card in the job thread: (its ts, button values by action id)."""
    job_id, job_url = market.publish_job(token)
    await seed_job(redis, namespace, job_id=job_id, job_url=job_url, workspace_id=TEAM, channel=CHANNEL,
                   root_ts=ROOT_TS, requester=REQUESTER)
    [proposal_id] = market.propose(job_id)
    async with OpenTrainClient(sandbox_url, token) as opentrain:
        card = ProposalCard.read(await opentrain.get_proposal(proposal_id), job_url=job_url)
    outbox = outbox_for(redis, namespace, slack_api)
    await outbox.commit(key(namespace, "ws", TEAM, "test-cursor"), None, "1",
                        [CardAction(TEAM, card, Destination(CHANNEL, ROOT_TS))])
    await outbox.run_lane(Lane(TEAM, CHANNEL))
    channel, ts = await outbox.location(TEAM, proposal_id)
    buttons = [e for b in slack_api.message(channel, ts).blocks if b["type"] == "actions" for e in b["elements"]]
    return ts, {button["action_id"]: button["value"] for button in buttons}


async def test_claimed_account_opens_a_conversation_and_requests_a_hire(redis, namespace, sandbox_url, slack_api):
    market = Market(sandbox_url)
    token = market.account()
    opentrain = OpenTrainClient(sandbox_url)
    accounts = Accounts(redis, namespace, opentrain, SecretBox(Fernet.generate_key()), app_token=token)
    bot = Bot(slack_api, desk(redis, namespace, accounts), outbox_for(redis, namespace, slack_api), redis, namespace,
              accounts)
    card_ts, values = await posted_card(redis, namespace, sandbox_url, slack_api, token, market)

    await bot.click(card_ts, OPEN_CONVERSATION, values[OPEN_CONVERSATION], TEAMMATE)
    [opened] = await slack_api.wait_for("chat.postEphemeral")
    assert opened.args["user"] == TEAMMATE and opened.args["thread_ts"] == ROOT_TS
    assert "is open: write in its thread" in opened.args["text"]
    # The card sits in the job's thread, so the conversation gets a top-level message of its own to thread under.
    [root] = [m for m in slack_api.messages.values() if m.channel == CHANNEL and m.thread_ts is None]
    assert "Conversation with" in root.text

    await bot.click(card_ts, REQUEST_HIRE, values[REQUEST_HIRE], TEAMMATE)
    [modal] = await slack_api.wait_for("views.open")
    view = modal.args["view"]
    assert view["callback_id"] == HIRE_MODAL
    assert {b.get("block_id") for b in view["blocks"]} >= {"name", "amount", "due"}

    status, body = await bot.deliver(submission(view["private_metadata"], TEAMMATE, name="", amount="-5", due=None))
    assert status == 200 and set(json.loads(body)["errors"]) == {"name", "amount", "due"}
    assert not slack_api.calls_to("conversations.open")

    await bot.deliver(submission(view["private_metadata"], TEAMMATE, name="First batch", amount="300",
                                 due="2026-12-31"))
    [dm] = await slack_api.wait_for("chat.postMessage", where=lambda args: args["channel"] == "D" + TEAMMATE)
    assert "https://app.opentrain.ai/approvals/" in dm.args["text"] and "First batch" in dm.args["text"]
    assert market.requests("/hire", method="POST") == 1
    await opentrain.aclose()
    market.close()


async def test_unclaimed_account_points_to_the_claim_instead(redis, namespace, sandbox_url, slack_api):
    market = Market(sandbox_url)
    token = market.account(claimed=False)
    opentrain = OpenTrainClient(sandbox_url)
    # No app token: the workspace's own agent account, not claimed yet.
    await redis.hset(key(namespace, "ws", TEAM, "account"), mapping={"claimed": "0"})
    accounts = Accounts(redis, namespace, opentrain, SecretBox(Fernet.generate_key()))
    bot = Bot(slack_api, desk(redis, namespace, accounts), outbox_for(redis, namespace, slack_api), redis, namespace,
              accounts)
    card_ts, values = await posted_card(redis, namespace, sandbox_url, slack_api, token, market)

    await bot.click(card_ts, REQUEST_HIRE, values[REQUEST_HIRE], TEAMMATE)
    await bot.click(card_ts, OPEN_CONVERSATION, values[OPEN_CONVERSATION], REQUESTER)
    notes = await slack_api.wait_for("chat.postEphemeral", 2)
    by_user = {note.args["user"]: note.args["text"] for note in notes}
    assert all("account admin" in text and "/hire claim" in text for text in by_user.values())
    assert not slack_api.calls_to("views.open")
    assert market.requests("/conversation", method="POST") == 0
    await opentrain.aclose()
    market.close()
