"""Reminders, each sent at most once across every process: a nudge in the thread for a question left unanswered
REMINDER_HOURS, and a word in the DM a few minutes before a claim code expires.

Both are scheduled work (the scheduler's lease gives each item one runner at a time), due from the moment the
question or the code was shown. A run looks at the conversation as it is then: a question answered or replaced, a
claim finished or restarted, owes no reminder (a replaced question is due its own, later). What was reminded is
written to the conversation's registry record *before* posting, so a run that dies after posting is never
followed by a second reminder: a lost reminder is better than two.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.engine import HiringEngine
from bot.hiring.record import ConversationRef
from bot.infra.scheduler import ScheduledItem, Scheduler
from bot.slack.blocks.conversation import SlackMessage, section
from bot.slack.blocks.safe import escape, mention
from bot.slack.registry import SlackConversation, SlackRegistry

log = logging.getLogger(__name__)

NUDGE_KIND = "nudge"
CLAIM_REMINDER_KIND = "claim-reminder"
CLAIM_REMINDER_LEAD_SECONDS = 300.0  # before the code expires; halfway through a window shorter than twice this
SEPARATOR = "|"  # between workspace and conversation ids in an item id: neither contains it


class Reminders:
    def __init__(self, registry: SlackRegistry, engine: HiringEngine, client: AsyncWebClient, scheduler: Scheduler,
                 *, question_after_seconds: float, clock: Callable[[], float] = time.time):
        self._registry = registry
        self._engine = engine
        self._client = client
        self._scheduler = scheduler
        self._after = question_after_seconds
        self._clock = clock

    def register(self, scheduler: Scheduler) -> None:
        scheduler.register(NUDGE_KIND, self._nudge)
        scheduler.register(CLAIM_REMINDER_KIND, self._remind_claim)

    async def question_shown(self, team_id: str, conversation_id: str) -> float:
        """Remember when the open question was shown and have its nudge due; returns that moment."""
        now = self._clock()
        await self._registry.update(team_id, conversation_id, question_shown_at=repr(now))
        await self._scheduler.schedule(NUDGE_KIND, _item(team_id, conversation_id), now + self._after)
        return now

    async def code_shown(self, team_id: str, conversation_id: str, expires_at: float) -> None:
        """A claim code with its end was shown in the DM: a reminder is due a little before that end."""
        lead = min(CLAIM_REMINDER_LEAD_SECONDS, max(expires_at - self._clock(), 0.0) / 2)
        await self._scheduler.schedule(CLAIM_REMINDER_KIND, _item(team_id, conversation_id), expires_at - lead)

    async def _nudge(self, item: ScheduledItem) -> float | None:
        team_id, conversation_id = item.item_id.split(SEPARATOR, 1)
        conversation = await self._registry.get(team_id, conversation_id)
        if conversation is None or not conversation.question_ts or conversation.nudged == conversation.question_ts:
            return None  # no open question, or this one was nudged already
        due = float(conversation.question_shown_at or 0.0) + self._after
        if self._clock() < due:
            return due  # a newer question than the one this item was scheduled for: its own time
        await self._registry.update(team_id, conversation_id, nudged=conversation.question_ts)
        await self._post(conversation.channel, conversation.thread_ts, nudge(conversation))
        return None

    async def _remind_claim(self, item: ScheduledItem) -> float | None:
        team_id, conversation_id = item.item_id.split(SEPARATOR, 1)
        conversation = await self._registry.get(team_id, conversation_id)
        claim = await self._engine.claims.current(team_id, started_by=ConversationRef(team_id, conversation_id))
        if conversation is None or claim is None or claim.state != "waiting" or claim.expires_at is None:
            return None  # finished, failed or handed to another conversation: nothing to remind
        if conversation.claim_reminded == repr(claim.expires_at) or self._clock() >= claim.expires_at:
            return None
        dm_channel, claim_ts = conversation.dm_channel, conversation.claim_ts
        if not dm_channel or not claim_ts:
            return None
        await self._registry.update(team_id, conversation_id, claim_reminded=repr(claim.expires_at))
        minutes = max(round((claim.expires_at - self._clock()) / 60), 1)
        await self._post(dm_channel, claim_ts, claim_reminder(minutes))
        return None

    async def _post(self, channel: str, thread_ts: str, message: SlackMessage) -> None:
        try:
            await self._client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message.text,
                                                blocks=message.blocks, unfurl_links=False)
        except Exception as exc:  # a reminder is a courtesy: it is not retried (it was marked sent)
            log.warning("a reminder could not be posted (%s)", type(exc).__name__)


def nudge(conversation: SlackConversation) -> SlackMessage:
    label = escape(conversation.question_label or "the open question", 120)
    text = (f"{mention(conversation.requester)} this job is still waiting for your answer to *{label}*. Reply in "
            "this thread to go on, or type `cancel` to drop the draft.")
    return SlackMessage(text=text, blocks=[section(text)])


def claim_reminder(minutes: int) -> SlackMessage:
    text = (f":hourglass_flowing_sand: The claim code above expires in about {minutes} minute"
            f"{'s' if minutes != 1 else ''}. Open the verification link and enter it before then; if it lapses, "
            "type `/hire claim` for a new one.")
    return SlackMessage(text=text, blocks=[section(text)])


def _item(team_id: str, conversation_id: str) -> str:
    return f"{team_id}{SEPARATOR}{conversation_id}"
