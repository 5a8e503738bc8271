"""The proposal card's actions: "Open conversation" and "Request hire" (a modal for the first milestone).

What they do is `bot.hiring.proposals.ProposalDesk`'s; this only reads the click, shows the hire modal, and posts
the desk's words: ephemerally beside the card, or in a DM for a hire request (its approval link is personal).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.authz import Action
from bot.hiring.proposals import Milestone, ProposalAsk
from bot.hiring.views import Words
from bot.slack.blocks.proposals import (
    DIGEST_MENU,
    HIRE_MODAL,
    OPEN_CONVERSATION,
    REQUEST_HIRE,
    REVIEW_LINK,
    card_version,
    hire_modal,
    mrkdwn,
    parse_action_value,
)
from bot.slack.clicks import click_origin
from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

NOT_OUR_CARD = "This button doesn't match a proposal card I posted in this workspace."
STALE_CARD = "This card has changed since it was drawn: use the buttons on its current version."


@dataclass(frozen=True)
class Click:
    team_id: str
    user_id: str
    channel: str
    thread_ts: str | None
    proposal_id: str
    job_id: str
    version: str  # the card rendering the button was on; "" from cards posted before versions existed

    @classmethod
    def read(cls, body: dict[str, Any], value: str) -> Click:
        proposal_id, job_id, version = parse_action_value(value)
        origin = click_origin(body)
        return cls(team_id=origin.team_id, user_id=origin.user_id, channel=origin.channel,
                   thread_ts=origin.thread_ts, proposal_id=proposal_id, job_id=job_id, version=version)

    @property
    def ask(self) -> ProposalAsk:
        return ProposalAsk(self.team_id, self.user_id, self.proposal_id, self.job_id)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.action(REVIEW_LINK)
    async def on_review_link(ack: AsyncAck) -> None:
        await ack()  # a URL button: Slack opens the link, the app only acknowledges

    @app.action(OPEN_CONVERSATION)
    async def on_open(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await _open_conversation(deps, Click.read(body, action["value"]), from_digest=False)

    @app.action(REQUEST_HIRE)
    async def on_hire(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await _offer_hire(deps, Click.read(body, action["value"]), body.get("trigger_id", ""))

    @app.action(DIGEST_MENU)
    async def on_menu(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        value = (action.get("selected_option") or {}).get("value", "{}")
        click = Click.read(body, value)
        if json.loads(value).get("a") == "hire":
            await _offer_hire(deps, click, body.get("trigger_id", ""))
        else:
            await _open_conversation(deps, click, from_digest=True)

    @app.view(HIRE_MODAL)
    async def on_hire_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        milestone, problems = read_milestone(view)
        if problems:
            await ack(response_action="errors", errors=problems)
            return
        await ack()
        # The metadata only says which card the modal came from; who submits is Slack's word, and the rest is
        # checked again now: the card still current, the job this workspace's, the person allowed.
        click = replace(Click(**json.loads(view["private_metadata"])), user_id=body["user"]["id"])
        if (stale := await _stale(deps, click)) is not None:
            await _direct_message(deps.client, click.user_id, stale)
            return
        # The approval is drawn on the card itself (the tracker's observer); the DM keeps the link at hand.
        words = await deps.proposals.request_hire(click.ask, milestone, await _candidate(deps, click),
                                                  surface={"card": "proposal", "proposal_id": click.proposal_id})
        await _direct_message(deps.client, click.user_id, words)


def read_milestone(view: dict[str, Any]) -> tuple[Milestone, dict[str, str]]:
    """The modal's values, and the per-field errors Slack shows under the inputs."""
    values = view.get("state", {}).get("values", {})
    name = str((values.get("name", {}).get("value") or {}).get("value") or "").strip()
    raw_amount = str((values.get("amount", {}).get("value") or {}).get("value") or "")  # "" when left empty
    due = (values.get("due", {}).get("value") or {}).get("selected_date")
    problems: dict[str, str] = {}
    if not name:
        problems["name"] = "Give the milestone a name."
    try:
        amount = float(raw_amount)
        if amount <= 0:
            raise ValueError
    except (TypeError, ValueError):
        amount, problems["amount"] = 0.0, "Enter an amount in USD above zero."
    try:
        date.fromisoformat(str(due))
    except ValueError:
        problems["due"] = "Pick a due date."
    return Milestone(name, amount, due or ""), problems


async def _candidate(deps: SlackDeps, click: Click) -> str:
    card = await deps.outbox.stored_card(click.team_id, click.proposal_id)
    return card.name if card else "this candidate"


async def _stale(deps: SlackDeps, click: Click) -> Words | None:
    """Why the card a click came from no longer stands for what it showed, or None."""
    card = await deps.outbox.stored_card(click.team_id, click.proposal_id)
    if card is None or card.job_id != click.job_id:
        return (NOT_OUR_CARD,)
    if click.version and click.version != card_version(card):
        return (STALE_CARD,)
    return None


async def _open_conversation(deps: SlackDeps, click: Click, *, from_digest: bool) -> None:
    """"Open conversation": the conversation with the candidate, in a thread of its own (bot/slack/relay.py)."""
    card = await deps.outbox.stored_card(click.team_id, click.proposal_id)
    location = await deps.outbox.location(click.team_id, click.proposal_id)
    if (stale := await _stale(deps, click)) is not None or card is None or location is None:
        await _ephemeral(deps.client, click, stale or (NOT_OUR_CARD,))
        return
    channel, card_ts = location
    # A single card at the top level holds the thread; one inside the job's thread, or a digest, cannot.
    holds_thread = not from_digest and click.thread_ts in (None, "", card_ts)
    words = await deps.relay.open(click.ask, card, channel, card_ts, card_holds_thread=holds_thread)
    await _ephemeral(deps.client, click, words)


async def _offer_hire(deps: SlackDeps, click: Click, trigger_id: str) -> None:
    if (refused := await _stale(deps, click) or await deps.proposals.may(click.ask, Action.REQUEST_HIRE)):
        await _ephemeral(deps.client, click, refused)
        return
    metadata = json.dumps(vars(click), separators=(",", ":"))
    try:
        await deps.client.views_open(trigger_id=trigger_id, view=hire_modal(metadata, await _candidate(deps, click)))
    except SlackApiError as exc:
        log.warning("hire modal not opened: %s", exc.response.get("error"))


async def _ephemeral(client: AsyncWebClient, click: Click, words: Words) -> None:
    try:
        await client.chat_postEphemeral(channel=click.channel, user=click.user_id, text=mrkdwn(words),
                                        thread_ts=click.thread_ts)
    except SlackApiError as exc:
        log.warning("chat.postEphemeral failed: %s", exc.response.get("error"))


async def _direct_message(client: AsyncWebClient, user_id: str, words: Words) -> None:
    try:
        opened = await client.conversations_open(users=user_id)
        await client.chat_postMessage(channel=opened["channel"]["id"], text=mrkdwn(words))
    except SlackApiError as exc:
        log.warning("DM to %s failed: %s", user_id, exc.response.get("error"))
