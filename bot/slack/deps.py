"""What listeners need, built once per process by the composition root (`bot.app`)."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.proposals import ProposalDesk
from bot.infra.settings import Settings
from bot.slack.dedupe import EventDeduper
from bot.slack.dialogue import SlackDialogue
from bot.slack.inbox import SlackInbox
from bot.slack.outbox import Outbox
from bot.slack.registry import SlackRegistry
from bot.slack.relay import SlackRelay
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
    relay: SlackRelay  # candidate conversations in threads
