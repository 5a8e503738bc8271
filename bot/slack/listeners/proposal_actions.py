"""The proposal card's actions: "Open conversation" and "Request hire" (a modal for the first milestone).

Both need a claimed OpenTrain account; on an unclaimed one the clicker hears why and where the claim steps are.
A hire request never hires: OpenTrain answers with an approval link, which goes to the clicker in a DM.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.jobs import lookup_job
from bot.hiring.wording import refusal
from bot.opentrain import errors
from bot.opentrain.links import conversation_page
from bot.slack.blocks.proposals import (
    DIGEST_MENU,
    HIRE_MODAL,
    OPEN_CONVERSATION,
    REQUEST_HIRE,
    REVIEW_LINK,
    hire_modal,
    parse_action_value,
    unclaimed_notice,
)
from bot.slack.outbox import stored_card

log = logging.getLogger(__name__)


@dataclass
class ProposalDesk:
    """What the actions need beyond the Slack client: Redis (cards, jobs) and the workspace accounts."""

    redis: Any
    namespace: str
    accounts: Any


@dataclass(frozen=True)
class Click:
    team_id: str
    user_id: str
    channel: str
    thread_ts: str | None
    proposal_id: str
    job_id: str

    @classmethod
    def read(cls, body: dict[str, Any], value: str) -> "Click":
        proposal_id, job_id = parse_action_value(value)
        container = body.get("container") or {}
        message = body.get("message") or {}
        return cls(
            team_id=(body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", ""),
            user_id=body["user"]["id"],
            channel=(body.get("channel") or {}).get("id") or container.get("channel_id", ""),
            thread_ts=message.get("thread_ts") or container.get("thread_ts"),
            proposal_id=proposal_id, job_id=job_id,
        )


def register(app: AsyncApp, deps) -> None:
    desk: ProposalDesk | None = getattr(deps, "proposals", None)
    client: AsyncWebClient = deps.client

    @app.action(REVIEW_LINK)
    async def on_review_link(ack) -> None:
        await ack()  # a URL button: Slack opens the link, the app only acknowledges

    @app.action(OPEN_CONVERSATION)
    async def on_open(ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await _open_conversation(desk, client, Click.read(body, action["value"]))

    @app.action(REQUEST_HIRE)
    async def on_hire(ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await _offer_hire(desk, client, Click.read(body, action["value"]), body.get("trigger_id", ""))

    @app.action(DIGEST_MENU)
    async def on_menu(ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        value = (action.get("selected_option") or {}).get("value", "{}")
        click = Click.read(body, value)
        if json.loads(value).get("a") == "hire":
            await _offer_hire(desk, client, click, body.get("trigger_id", ""))
        else:
            await _open_conversation(desk, client, click)

    @app.view(HIRE_MODAL)
    async def on_hire_submitted(ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        milestone, problems = read_milestone(view)
        if problems:
            await ack(response_action="errors", errors=problems)
            return
        await ack()
        click = replace(Click(**json.loads(view["private_metadata"])), user_id=body["user"]["id"])
        await _request_hire(desk, client, click, milestone)


def read_milestone(view: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The modal's values, and the per-field errors Slack shows under the inputs."""
    values = view.get("state", {}).get("values", {})
    name = str((values.get("name", {}).get("value") or {}).get("value") or "").strip()
    raw_amount = (values.get("amount", {}).get("value") or {}).get("value")
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
    return {"name": name, "amount": amount, "due_date": due}, problems


async def _claim_hint(desk: ProposalDesk, click: Click) -> str:
    job = await lookup_job(desk.redis, desk.namespace, click.job_id)
    requester = job.requester if job else ""
    if requester == click.user_id:
        return "the steps are in the DM I sent you when the job was published."
    if requester:
        return f"<@{requester}> has the steps in a DM from me."
    return "run `/hire` to start the claim."


async def _ready(desk: ProposalDesk | None, client: AsyncWebClient, click: Click) -> bool:
    if desk is None:
        await _ephemeral(client, click, "Proposal actions are not available in this deployment.")
        return False
    if not await desk.accounts.is_claimed(click.team_id):
        await _ephemeral(client, click, unclaimed_notice(await _claim_hint(desk, click)))
        return False
    return True


async def _candidate(desk: ProposalDesk, click: Click) -> str:
    card = await stored_card(desk.redis, desk.namespace, click.team_id, click.proposal_id)
    return card.name if card else "this candidate"


async def _open_conversation(desk: ProposalDesk | None, client: AsyncWebClient, click: Click) -> None:
    if not await _ready(desk, client, click):
        return
    try:
        opened = await (await desk.accounts.client_for(click.team_id)).open_conversation(click.proposal_id)
    except errors.OpenTrainError as exc:
        await _ephemeral(client, click, await _failure_text(desk, click, exc, "open the conversation"))
        return
    link = conversation_page(opened.conversation_id)
    verb = "is open" if opened.created else "was already open"
    await _ephemeral(client, click, f"The conversation with {await _candidate(desk, click)} {verb} in OpenTrain: "
                                    f"<{link}|write the first message>. They can reply once you have.")


async def _offer_hire(desk: ProposalDesk | None, client: AsyncWebClient, click: Click, trigger_id: str) -> None:
    if not await _ready(desk, client, click):
        return
    metadata = json.dumps(vars(click), separators=(",", ":"))
    try:
        await client.views_open(trigger_id=trigger_id, view=hire_modal(metadata, await _candidate(desk, click)))
    except SlackApiError as exc:
        log.warning("hire modal not opened: %s", exc.response.get("error"))


async def _request_hire(desk: ProposalDesk | None, client: AsyncWebClient, click: Click,
                        milestone: dict[str, Any]) -> None:
    if desk is None:
        return
    candidate = await _candidate(desk, click)
    try:
        opentrain = await desk.accounts.client_for(click.team_id)
        requested = await opentrain.request_hire(click.proposal_id, milestone["name"], milestone["amount"],
                                                 milestone["due_date"])
    except errors.OpenTrainError as exc:
        await _direct_message(client, click.user_id, await _failure_text(desk, click, exc, f"request hiring {candidate}"))
        return
    url = requested.approval.approval_url or ""
    await _direct_message(client, click.user_id, (
        f"Hire request for *{candidate}* recorded (first milestone \"{milestone['name']}\", "
        f"${milestone['amount']:,.2f}, due {milestone['due_date']}). Nothing is hired and no money moves until a "
        f"signed-in human approves it in OpenTrain: <{url}|review and approve>."))


async def _failure_text(desk: ProposalDesk, click: Click, exc: errors.OpenTrainError, doing: str) -> str:
    if isinstance(exc, errors.ClaimRequired):
        return unclaimed_notice(await _claim_hint(desk, click))
    if not isinstance(exc, (errors.Forbidden, errors.Conflict)):
        log.warning("could not %s for proposal %s: %s", doing, click.proposal_id, type(exc).__name__)
    text = f"I couldn't {doing}. {refusal(exc)}"
    if isinstance(exc, errors.Conflict) and exc.billing_url:
        text += f" <{exc.billing_url}|Billing>"
    return text


async def _ephemeral(client: AsyncWebClient, click: Click, text: str) -> None:
    try:
        await client.chat_postEphemeral(channel=click.channel, user=click.user_id, text=text,
                                        thread_ts=click.thread_ts)
    except SlackApiError as exc:
        log.warning("chat.postEphemeral failed: %s", exc.response.get("error"))


async def _direct_message(client: AsyncWebClient, user_id: str, text: str) -> None:
    try:
        opened = await client.conversations_open(users=user_id)
        await client.chat_postMessage(channel=opened["channel"]["id"], text=text)
    except SlackApiError as exc:
        log.warning("DM to %s failed: %s", user_id, exc.response.get("error"))
