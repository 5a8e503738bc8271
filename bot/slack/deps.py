"""What listeners need, built once per process by the composition root (`bot.app`)."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.board import JobBoard
from bot.hiring.contracts import ContractDesk
from bot.hiring.job_changes import JobChanges
from bot.hiring.proposals import ProposalDesk
from bot.infra.settings import Settings
from bot.slack.clients import SlackClients
from bot.slack.dedupe import EventDeduper
from bot.slack.dialogue import SlackDialogue
from bot.slack.digest import Digests
from bot.slack.inbox import SlackInbox
from bot.slack.money import SlackMoney
from bot.slack.outbox import Outbox
from bot.slack.registry import SlackRegistry
from bot.slack.relay import SlackRelay
from bot.slack.reminders import Reminders
from bot.slack.subscriptions import Subscriptions
from bot.slack.uninstall import Uninstalls
from bot.slack.work import SlowWork


@dataclass
class SlackDeps:
    settings: Settings
    client: AsyncWebClient
    deduper: EventDeduper
    registry: SlackRegistry
    dialogue: SlackDialogue
    work: SlowWork
    inbox: SlackInbox
    proposals: ProposalDesk  # what the proposal cards' buttons do
    outbox: Outbox  # holds the card each button belongs to
    board: JobBoard  # the Home tab's and /hire list's jobs, and closing one
    reminders: Reminders  # a nudge for a question left unanswered, a word before a claim code expires
    digests: Digests  # per channel, a daily list of jobs with unreviewed proposals
    subscriptions: Subscriptions  # /hire subscribe: a job's proposal cards routed to another channel
    contracts: ContractDesk  # what the contract cards' buttons do
    money: SlackMoney  # the contract cards this workspace shows
    changes: JobChanges  # a live job's Edit and Invite a trainer
    relay: SlackRelay  # candidate conversations in threads
    uninstalls: Uninstalls | None = None  # installable (OAuth) mode: a workspace removing the app
    clients: SlackClients | None = None  # which token a call carries (one workspace, or each installed one)
