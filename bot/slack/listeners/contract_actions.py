"""The contract card's actions: "Add milestone" (a modal), "Fund milestone", "Release payment", "End contract".

What they do is `bot.hiring.contracts.ContractDesk`'s, checked again as they run; this reads the click, refuses a
button whose contract has no card in this workspace before anything else, opens the modal at once (its trigger lives
~3 s) and fills it in once the contract is checked, answers beside the card (ephemerally), and redraws the card
after an action (ending a contract at once emits no event).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError

from bot.hiring.authz import Action
from bot.hiring.contracts import Checked, ContractAsk, MilestoneTerms, check_terms
from bot.hiring.views import Words
from bot.slack.blocks.contracts import (
    ADD_MILESTONE,
    ADD_MILESTONE_MODAL,
    APPROVAL_LINK,
    END_CONTRACT,
    FUND_MILESTONE,
    RELEASE_PAYMENT,
    add_milestone_modal,
    parse_contract_value,
)
from bot.slack.blocks.job_changes import said, working
from bot.slack.blocks.proposals import mrkdwn
from bot.slack.clicks import click_origin
from bot.slack.deps import SlackDeps
from bot.slack.dialogue import SLACK_CALL_ERRORS, failure_code

log = logging.getLogger(__name__)

ADD_MILESTONE_TITLE = "Add milestone"
NOT_OUR_CARD = ("This button doesn't match a contract card I posted in this workspace.",)


@dataclass(frozen=True)
class ContractClick:
    team_id: str
    user_id: str
    channel: str
    thread_ts: str | None
    contract_id: str
    milestone_id: str | None

    @classmethod
    def read(cls, body: dict[str, Any], value: str) -> ContractClick:
        contract_id, milestone_id = parse_contract_value(value)
        origin = click_origin(body)
        return cls(origin.team_id, origin.user_id, origin.channel, origin.thread_ts, contract_id, milestone_id)

    @property
    def ask(self) -> ContractAsk:
        return ContractAsk(self.team_id, self.user_id, self.contract_id, self.milestone_id)

    @property
    def surface(self) -> dict[str, Any]:
        return {"card": "contract", "contract_id": self.contract_id}


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.action(APPROVAL_LINK)
    async def on_approval_link(ack: AsyncAck) -> None:
        await ack()  # a URL button: Slack opens the link

    @app.action(FUND_MILESTONE)
    async def on_fund(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        click = ContractClick.read(body, action["value"])
        await deps.work.run(partial(_act, deps, click, lambda: deps.contracts.fund(click.ask, click.surface)))

    @app.action(RELEASE_PAYMENT)
    async def on_release(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        click = ContractClick.read(body, action["value"])
        await deps.work.run(partial(_act, deps, click, lambda: deps.contracts.release(click.ask, click.surface)))

    @app.action(END_CONTRACT)
    async def on_end(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        click = ContractClick.read(body, action["value"])
        # A contract with nothing funded ends at once, and no event says so.
        await deps.work.run(partial(_act, deps, click, lambda: deps.contracts.end(click.ask, click.surface),
                                    redraw=True))

    @app.action(ADD_MILESTONE)
    async def on_add(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        # The trigger lives ~3 s and reading the contract may take longer: open the modal first, fill it in after.
        view_id = await _open_checking(deps, body.get("trigger_id", ""))
        if view_id:
            await deps.work.run(partial(_offer_milestone, deps, ContractClick.read(body, action["value"]), view_id))

    @app.view(ADD_MILESTONE_MODAL)
    async def on_milestone_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        hints = json.loads(view["private_metadata"])
        terms, problems = read_terms(view, hints.get("payment_type", ""), hints.get("rate"))
        if problems:
            await ack(response_action="errors", errors=problems)
            return
        await ack()
        # Who submits is Slack's word; the contract and the person's right to add to it are checked again now.
        origin = click_origin(body)
        click = ContractClick(origin.team_id, origin.user_id, str(hints.get("channel") or ""),
                              hints.get("thread_ts"), str(hints.get("contract_id") or ""), None)
        await deps.work.run(partial(_act, deps, click, lambda: deps.contracts.add_milestone(click.ask, terms)))


def read_terms(view: dict[str, Any], payment_type: str, rate: float | None) -> tuple[MilestoneTerms,
                                                                                      dict[str, str]]:
    """The modal's values, and the per-field errors Slack shows under the inputs (checked with the card's rate as
    a hint; the desk checks them again against the contract as OpenTrain serves it)."""
    values = view.get("state", {}).get("values", {})

    def typed(block: str) -> str:
        return str((values.get(block, {}).get("value") or {}).get("value") or "").strip()

    due = (values.get("due", {}).get("value") or {}).get("selected_date")
    problems: dict[str, str] = {}
    numbers: dict[str, float | None] = {}
    for block in ("amount", "volume"):
        try:
            numbers[block] = float(typed(block)) if typed(block) else None
        except ValueError:
            numbers[block], problems[block] = None, "Enter a number."
    if due:
        try:
            date.fromisoformat(str(due))
        except ValueError:
            problems["due"] = "Pick a due date."
    terms = MilestoneTerms(description=typed("description"), name=typed("name") or None,
                           amount_usd=numbers["amount"], volume=numbers["volume"], due_date=due or None)
    return terms, {**check_terms(payment_type, rate, terms), **problems}


async def _act(deps: SlackDeps, click: ContractClick, action: Any, *, redraw: bool = False) -> None:
    """Refuse a button whose contract has no card here, else run the desk's action and say how it went. The card
    redraws itself on the events and approvals that follow; `redraw` for an outcome no event announces."""
    if not await deps.money.knows(click.team_id, click.contract_id):
        words: Words = NOT_OUR_CARD
    else:
        words = await action()
        if redraw:
            await deps.money.refresh(click.team_id, click.contract_id)
    await _ephemeral(deps, click, words)


async def _open_checking(deps: SlackDeps, trigger_id: str) -> str | None:
    """The add-milestone modal, opened at once saying it is checking the contract; its view id."""
    try:
        opened = await deps.client.views_open(trigger_id=trigger_id,
                                              view=working(ADD_MILESTONE_TITLE, "Checking the contract…"))
    except SLACK_CALL_ERRORS as exc:
        log.warning("add-milestone modal not opened: %s", failure_code(exc))
        return None
    return str((opened.get("view") or {}).get("id") or "") or None


async def _offer_milestone(deps: SlackDeps, click: ContractClick, view_id: str) -> None:
    """The form in the open modal, or why not."""
    if not await deps.money.knows(click.team_id, click.contract_id):
        view = said(ADD_MILESTONE_TITLE, NOT_OUR_CARD)
    else:
        checked = await deps.contracts.check(click.ask, Action.ADD_MILESTONE)
        if isinstance(checked, Checked):
            contract = checked.contract
            hints = {"channel": click.channel, "thread_ts": click.thread_ts, "contract_id": contract.id,
                     "payment_type": contract.payment_type, "rate": contract.rate_usd}
            view = add_milestone_modal(json.dumps(hints, separators=(",", ":")), contract)
        else:
            view = said(ADD_MILESTONE_TITLE, checked)
    try:
        await deps.client.views_update(view_id=view_id, view=view)
    except SLACK_CALL_ERRORS as exc:  # the person closed the modal meanwhile
        log.warning("add-milestone modal not updated: %s", failure_code(exc))


async def _ephemeral(deps: SlackDeps, click: ContractClick, words: Words) -> None:
    try:
        await deps.client.chat_postEphemeral(channel=click.channel, user=click.user_id, text=mrkdwn(words),
                                             thread_ts=click.thread_ts)
    except SlackApiError as exc:
        log.warning("chat.postEphemeral failed: %s", exc.response.get("error"))
