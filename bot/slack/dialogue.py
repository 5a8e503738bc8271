"""A hiring conversation carried over Slack: engine replies become thread messages, DMs and message updates.

No hiring decisions here. The engine decides; this module posts its views where they belong (the thread; the DM
for anything about the claim, which carries a code), keeps older messages honest (an answered question loses its
buttons, the root message shows the job's state) and feeds the requester's Slack email into the claim ceremony.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.engine import HiringEngine
from bot.hiring.intake import JobSource, Unreadable, detect
from bot.hiring.record import ConversationRef
from bot.hiring.states import State
from bot.hiring.views import (
    ClaimConfirm,
    ClaimInstructions,
    EmailRequest,
    NotAllowed,
    Notice,
    Published,
    Question,
    Reply,
    ReviewCard,
    Status,
    View,
)
from bot.hiring.wording import description_refusal
from bot.slack.blocks import conversation as blocks
from bot.slack.blocks.conversation import SlackMessage
from bot.slack.blocks.proposals import mrkdwn
from bot.slack.blocks.safe import escape, mention
from bot.slack.registry import SlackConversation, SlackRegistry
from bot.slack.reminders import Reminders

log = logging.getLogger(__name__)

# Errors meaning "the bot cannot post here": not a member, a DM between people, an archived channel.
CANNOT_POST_ERRORS = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}
ROOT_METADATA_EVENT = "hirebot_job_root"  # the root message of a job carries its `/hire`'s id, to be found again
ROOT_LOOKUP_LIMIT = 100
# A question or review card carries which step it shows, so a process replaying a step can find the post of one that
# died between posting it and remembering its ts (and not post it twice).
STEP_METADATA_EVENT = "hirebot_step"
STEP_LOOKUP_PAGE_SIZE = 200
STEP_LOOKUP_MAX_PAGES = 5
ANSWERED_EARLIER = "(answered earlier)"  # a question the conversation moved past without the message just shown
# A call that got no answer: writes are not retried then (app.py), since Slack may have acted on them already.
CONNECTION_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)
SLACK_CALL_ERRORS = (SlackApiError, *CONNECTION_ERRORS)
CONNECTION_LOST = "connection_lost"
# Plain words for the codes a requester is likeliest to meet; any other code is named as it is.
SLACK_ERROR_WORDS = {
    "not_in_channel": "I'm not a member of this channel",
    "channel_not_found": "Slack can't find this conversation",
    "is_archived": "the channel is archived",
    "restricted_action": "a workspace setting keeps me from posting here",
    "messages_tab_disabled": "direct messages with the app are turned off",
    "msg_too_long": "the message was too long",
    "invalid_blocks": "Slack couldn't display the message",
    "fatal_error": "something broke on Slack's side",
    "internal_error": "something broke on Slack's side",
    "service_unavailable": "Slack is unavailable right now",
    "request_timeout": "Slack took too long to answer",
}

Tell = Callable[[str], Awaitable[None]]


def is_direct_message(channel: str) -> bool:
    """Slack's DM channel ids start with D: a message there is private to the person and the bot."""
    return channel.startswith("D")


def slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or "unknown_error")


def failure_code(exc: Exception) -> str:
    return slack_error(exc) if isinstance(exc, SlackApiError) else CONNECTION_LOST


def what_was_sent(view: View) -> str:
    if isinstance(view, Question):
        return "the next question"
    if isinstance(view, ReviewCard):
        return "the review card"
    if isinstance(view, Published):
        return "the link to your job"
    if isinstance(view, (EmailRequest, ClaimInstructions)):
        return "the OpenTrain account details to your direct messages"
    return "my reply"


def failure_note(what: str, code: str) -> str:
    """What the requester reads when a step of the conversation could not be shown."""
    if code == CONNECTION_LOST:
        reason = "the connection to Slack broke, so it may not have arrived"
    else:
        words = SLACK_ERROR_WORDS.get(code)
        reason = f"Slack answered `{escape(code)}`" + (f" ({words})" if words else "")
    return f"I couldn't send {what}: {reason}. Type `status` in this thread to see where things stand."


def closing_words(state: State | None) -> str:
    """What a review card says once the conversation moved on; "Reviewed." also when there is no conversation."""
    if state is None:
        return "Reviewed."
    return {
        "publishing": "Publishing…",
        "asking": "Editing…",
        "cancelled": "Cancelled.",
    }.get(state, "Reviewed.")


class StartedElsewhere(Exception):
    """Another process took this `/hire` first (a Slack retry reached this one)."""


class SlackDialogue:
    def __init__(self, engine: HiringEngine, registry: SlackRegistry, client: AsyncWebClient,
                 reminders: Reminders | None = None):
        self._engine = engine
        self._registry = registry
        self._client = client
        self._reminders = reminders

    # ---- entry points ------------------------------------------------------------------------------------------

    async def start(self, *, team_id: str, user_id: str, channel_id: str, text: str, message_id: str,
                    tell: Tell, redelivered: bool = False, source: JobSource | None = None,
                    reply_to: str | None = None) -> bool:
        """`/hire <text>`: a root message naming the requester and the job, then the engine's first step.

        Handled at most once per command even when the inbox replays it (`redelivered`) after a process died:
        the start is recorded in Redis and the root message carries `message_id` in its metadata. False: another
        process took this start first and may still be at it (the inbox keeps it, in case that process died).
        `source`: a job source already read (a shared file); otherwise `text` is read for a pasted posting.
        `reply_to`: the ts of a message in `channel_id` to hold the conversation in its thread (a DM'd file).
        """
        try:
            source = source or detect(text)
        except Unreadable as exc:
            await tell(escape(exc.sentence))  # before any root message: nothing to clean up in the channel
            return True
        if not source.structured and (refusal := description_refusal(str(source.payload))):
            await tell(escape(refusal))
            return True
        if not redelivered and (limited := await self._engine.start_refusal(team_id, user_id, message_id)):
            await tell(limited)  # likewise: a flood of /hire posts nothing
            return True
        try:
            conversation = await self._begin(team_id, user_id, channel_id, source.headline, message_id, tell,
                                             redelivered, reply_to)
        except StartedElsewhere:
            return False
        if conversation is None:
            return True
        reply = await self._engine.start(self._ref(team_id, conversation), user_id, message_id, text,
                                         surface=self._surface(conversation), source=source)
        if not reply.duplicate:
            await self.show(team_id, conversation, reply, message_id)
        elif redelivered:
            await self._show_if_unseen(team_id, conversation, message_id)
        return True

    async def _begin(self, team_id: str, user_id: str, channel_id: str, text: str, message_id: str, tell: Tell,
                     redelivered: bool, reply_to: str | None = None) -> SlackConversation | None:
        """The conversation this `/hire` began: its root message posted once, whichever run gets here first."""
        earlier = await self._registry.claim_start(team_id, message_id)
        if earlier:
            return await self._registry.get(team_id, earlier)
        if earlier == "" and not redelivered:
            raise StartedElsewhere()  # another process is starting it right now
        # A replay after a process died between posting the root and recording it finds that root in Slack.
        located = await self._find_root(channel_id, user_id, message_id, reply_to) if earlier == "" else None
        located = located or await self._post_root(channel_id, user_id, blocks.root_message(user_id, text),
                                                   message_id, tell, reply_to)
        if located is None:
            return None
        channel, root_ts = located
        in_reply = reply_to is not None and channel == channel_id  # not when it had to move to a DM
        thread_ts = reply_to if reply_to is not None and in_reply else root_ts
        conversation = SlackConversation(
            conversation_id=f"{channel}:{thread_ts}", requester=user_id, channel=channel, thread_ts=thread_ts,
            title=text.strip().splitlines()[0][:200], root_state="drafting",
            dm_channel=channel if channel != channel_id else "", root_ts=root_ts if in_reply else "",
        )
        if not await self._registry.add(team_id, conversation, start_id=message_id):
            return await self._registry.get(team_id, conversation.conversation_id)
        if conversation.dm_channel:
            await self._registry.route_dm(team_id, user_id, conversation.conversation_id)
        return conversation

    async def answer(self, team_id: str, conversation: SlackConversation, user_id: str, message_id: str,
                     text: str, *, channel: str, shown_as: str | None = None, sent_at: float | None = None,
                     redelivered: bool = False) -> None:
        """A line typed in the thread (or the DM), or a click standing for one; `shown_as` labels a click.
        `channel` is where it was sent: a refusal goes back there, to the sender alone. `sent_at` is when Slack says
        it was sent (the message's `ts`, the click's `action_ts`)."""
        try:
            reply = await self._engine.handle(self._ref(team_id, conversation), user_id, message_id, text,
                                              private=is_direct_message(channel), sent_at=sent_at)
            # The engine may have waited for another call: render with the Slack coordinates as they are now.
            conversation = await self._registry.get(team_id, conversation.conversation_id) or conversation
            refused = [view for view in reply.views if isinstance(view, NotAllowed)]
            if refused:
                thread_ts = conversation.thread_ts if channel == conversation.channel else None
                await self.tell_ephemeral(channel, user_id, mrkdwn(refused[0].words), thread_ts)
                rest: list[View] = [view for view in reply.views if not isinstance(view, NotAllowed)]
                if rest:  # a replay the refused message set off: the requester's conversation moved on
                    await self.show(team_id, conversation, dataclasses.replace(reply, views=rest), message_id)
            elif not reply.duplicate:
                from_dm = is_direct_message(channel) and channel != conversation.channel
                await self.show(team_id, conversation, reply, message_id, answer=shown_as or text,
                                notes_to=channel if from_dm else None)
            elif redelivered:
                await self._show_if_unseen(team_id, conversation, message_id)
        except Exception:
            log.exception("handling an answer in %s failed", conversation.conversation_id)
            await self._note_in_thread(conversation, blocks.plain(
                "Something went wrong on my side and your last message was not taken; please send it again."))

    async def _show_if_unseen(self, team_id: str, conversation: SlackConversation, message_id: str) -> None:
        """A replayed step the engine had already applied: the process that applied it may have died before showing
        its outcome, so show the open question or review card unless this thread already shows it."""
        fresh = await self._registry.get(team_id, conversation.conversation_id) or conversation
        reply = await self._engine.open_view(self._ref(team_id, fresh), message_id)
        for view in reply.views:
            shown = (fresh.question_ts and isinstance(view, Question) and view.key == fresh.question_key) or (
                fresh.review_ts and isinstance(view, ReviewCard))
            if shown:
                continue
            posted = await self._last_step_post(fresh)
            if posted is not None and posted[0] == _step_of(view):
                # Posted by the process that died before remembering it: remember it now rather than post it again.
                ts = posted[1]
                if isinstance(view, Question):
                    await self._remember(team_id, fresh, question_ts=ts, question_key=view.key,
                                         question_label=view.label)
                    await self._question_shown(team_id, fresh)
                else:
                    await self._remember(team_id, fresh, review_ts=ts)
                continue
            await self.show(team_id, fresh, dataclasses.replace(reply, views=[view]), message_id)

    async def _last_step_post(self, conversation: SlackConversation) -> tuple[str, str] | None:
        """(step, ts) of the newest question or review card in the thread; None when there is none or Slack can't
        say (then the step is shown again: a duplicate card is better than a conversation with no way on)."""
        last: tuple[str, str] | None = None
        cursor: str | None = None  # None (the first page) is left out of the request by the client
        for _ in range(STEP_LOOKUP_MAX_PAGES):
            try:
                page = await self._client.conversations_replies(
                    channel=conversation.channel, ts=conversation.thread_ts, cursor=cursor,
                    include_all_metadata=True, limit=STEP_LOOKUP_PAGE_SIZE)
            except SLACK_CALL_ERRORS as exc:
                log.warning("cannot look for an unremembered step in %s: %s", conversation.conversation_id,
                            failure_code(exc))
                return None
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == STEP_METADATA_EVENT and payload.get("conversation_id") == (
                        conversation.conversation_id):
                    last = (str(payload.get("step", "")), str(message["ts"]))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return last

    async def start_claim(self, *, team_id: str, user_id: str, message_id: str, tell: Tell) -> None:
        """`/hire claim`: an account admin sets up the OpenTrain account in a conversation of its own, in their DM."""
        if (refused := await self._engine.claim_refusal(team_id, user_id)) is not None:
            await tell(mrkdwn(refused.words) if isinstance(refused, NotAllowed) else escape(refused.text))
            return
        if await self._registry.claim_start(team_id, message_id) is not None:
            return  # this `/hire claim` was taken on already (a Slack retry, or the inbox replaying it)
        dm_channel = await self._open_dm(user_id)
        if not dm_channel:
            await tell("I couldn't open a direct message with you; check that direct messages with the app are "
                       "allowed.")
            return
        root_ts = await self._post(dm_channel, blocks.plain("Setting up this workspace's OpenTrain account."))
        if not root_ts:
            await tell("Slack didn't take my direct message to you; please try `/hire claim` again.")
            return
        conversation = SlackConversation(conversation_id=f"{dm_channel}:{root_ts}", requester=user_id,
                                         channel=dm_channel, thread_ts=root_ts, title="OpenTrain account",
                                         dm_channel=dm_channel)
        await self._registry.add(team_id, conversation, start_id=message_id)
        await self._registry.route_dm(team_id, user_id, conversation.conversation_id)
        reply = await self._engine.start_claim(self._ref(team_id, conversation), user_id, message_id, private=True)
        not_allowed = [view for view in reply.views if isinstance(view, NotAllowed)]
        if not_allowed:
            await tell(mrkdwn(not_allowed[0].words))
        elif not reply.duplicate:
            await self.show(team_id, conversation, reply, message_id)

    async def status(self, team_id: str, user_id: str) -> SlackMessage:
        entries = []
        for conversation in await self._registry.recent(team_id, user_id):
            reply = await self._engine.status(self._ref(team_id, conversation))
            entries += [(conversation.title, v) for v in reply.views if isinstance(v, Status)]
        return blocks.status_list(entries)

    async def in_progress(self, team_id: str, user_id: str) -> list[SlackConversation]:
        """The person's recent conversations not yet published, cancelled or expired, newest first."""
        return [c for c in await self._registry.recent(team_id, user_id) if c.root_state in blocks.IN_PROGRESS]

    async def job_closed(self, team_id: str, conversation_id: str, closed_by: str) -> None:
        """A published job was closed from Slack: say so in its thread and on its root message."""
        conversation = await self._registry.get(team_id, conversation_id)
        if conversation is None:
            return
        await self._note_in_thread(conversation, SlackMessage(
            text=f"Closed on OpenTrain by {mention(closed_by)}: no new proposals will come in.",
            blocks=[blocks.section(f":lock: Closed on OpenTrain by {mention(closed_by)}: no new proposals will "
                                   "come in.")]))
        message = blocks.root_message(conversation.requester, conversation.title, "closed",
                                      conversation.job_url or None)
        await self._update(conversation.channel, conversation.root_ts or conversation.thread_ts, message)
        await self._remember(team_id, conversation, root_state="closed")

    async def reopened(self, team_id: str, conversation_id: str, surface: dict[str, Any], title: str,
                       reply: Reply, message_id: str) -> None:
        """A published job's conversation back at its review card (moderation unpublished it after an edit): shown
        in its thread. A thread whose Slack record lapsed is remembered again from the job's surface."""
        conversation = await self._registry.get(team_id, conversation_id)
        if conversation is None:
            channel, thread_ts = str(surface.get("channel") or ""), str(surface.get("thread_ts") or "")
            if not channel or not thread_ts:
                return  # published from a front end without a thread
            conversation = SlackConversation(conversation_id=conversation_id, channel=channel, thread_ts=thread_ts,
                                             requester=str(surface.get("requester") or ""), title=title)
            await self._registry.restore(team_id, conversation)
        await self.show(team_id, conversation, reply, message_id)

    # ---- rendering a reply --------------------------------------------------------------------------------------

    async def show(self, team_id: str, conversation: SlackConversation, reply: Reply, message_id: str,
                   answer: str | None = None, notes_to: str | None = None) -> None:
        """`notes_to`: a DM the message came from; its notices are answered there rather than in the thread."""
        conversation = await self._settle_previous(team_id, conversation, reply, answer)
        failed: str | None = None
        for view in reply.views:
            try:
                if notes_to and isinstance(view, Notice):
                    await self._post_or_raise(notes_to, blocks.notice(view))
                    continue
                conversation = await self._show_view(team_id, conversation, view, message_id)
            except SLACK_CALL_ERRORS as exc:
                log.error("showing a %s failed: %s", type(view).__name__, failure_code(exc))
                failed = failed or failure_note(what_was_sent(view), failure_code(exc))  # one note a step
        await self._refresh_root(team_id, conversation, reply.state)
        if failed:
            await self.tell_ephemeral(conversation.channel, conversation.requester, failed, conversation.thread_ts)

    async def _show_view(self, team_id: str, conversation: SlackConversation, view: View,
                         message_id: str) -> SlackConversation:
        """Post (or refresh) one view; a Slack failure is raised, for `show` to explain to the requester."""
        cid = conversation.conversation_id
        if isinstance(view, Question):
            ts = await self._post_in_thread(conversation, blocks.question(view, cid), step=_step_of(view))
            conversation = await self._remember(team_id, conversation, question_ts=ts, question_key=view.key,
                                                question_label=view.label)
            await self._question_shown(team_id, conversation)
            return conversation
        if isinstance(view, ReviewCard):
            card = blocks.review_card(view, cid)
            if conversation.review_ts:  # still on the card (a field confirmed): refresh it in place
                await self._update_or_raise(conversation.channel, conversation.review_ts, card)
                return conversation
            ts = await self._post_in_thread(conversation, card, step=_step_of(view))
            return await self._remember(team_id, conversation, review_ts=ts)
        if isinstance(view, Published):
            await self._post_in_thread(conversation, blocks.published(view))
            return await self._remember(team_id, conversation, job_url=view.job_url or "")
        if isinstance(view, EmailRequest):
            return await self._email_needed(team_id, conversation, view, message_id)
        if isinstance(view, ClaimInstructions):
            return await self._show_claim(team_id, conversation, view)
        if isinstance(view, ClaimConfirm):
            message = blocks.claim_confirm(view, conversation.conversation_id)
            return await self._show_in_dm(team_id, conversation, message, expects_reply=True)
        if isinstance(view, Notice):
            await self._post_in_thread(conversation, blocks.notice(view))
        elif isinstance(view, Status):
            await self._post_in_thread(conversation, blocks.status_list([(conversation.title, view)]))
        return conversation

    async def _settle_previous(self, team_id: str, conversation: SlackConversation, reply: Reply,
                               answer: str | None) -> SlackConversation:
        """The open question, once answered, shows its answer without buttons; a left review card loses its own."""
        asked_again = any(isinstance(v, Question) and v.key == conversation.question_key for v in reply.views)
        # Not taken (still working, refused, an answer its question already had): the question stays open, unless
        # the conversation moved past it anyway (the replay of an earlier answer to it): then it is closed as such.
        moved_on = any(isinstance(v, (Question, ReviewCard)) for v in reply.views) and not asked_again
        if (conversation.question_ts and answer is not None and not asked_again and reply.state != "failed"
                and (reply.taken or moved_on)):
            await self._update(conversation.channel, conversation.question_ts,
                               blocks.answered_question(conversation.question_label,
                                                        answer if reply.taken else ANSWERED_EARLIER))
            conversation = await self._remember(team_id, conversation, question_ts="", question_key="",
                                                question_label="")
        if conversation.review_ts and reply.state != "review":
            await self._update(conversation.channel, conversation.review_ts,
                               blocks.review_closed(closing_words(reply.state)))
            conversation = await self._remember(team_id, conversation, review_ts="")
        return conversation

    async def _refresh_root(self, team_id: str, conversation: SlackConversation, state: State | None) -> None:
        if state is None:
            return  # no conversation (any more): the root message stays as it is
        label = blocks.STATE_LABELS.get(state)
        if label is None or label == blocks.STATE_LABELS.get(conversation.root_state):
            return
        message = blocks.root_message(conversation.requester, conversation.title, state, conversation.job_url or None)
        await self._update(conversation.channel, conversation.root_ts or conversation.thread_ts, message)
        await self._remember(team_id, conversation, root_state=state)

    # ---- the claim, always in a DM -----------------------------------------------------------------------------

    async def _email_needed(self, team_id: str, conversation: SlackConversation, view: EmailRequest,
                            message_id: str) -> SlackConversation:
        """Ask in the DM which email should own the account, offering the admin's own Slack email as one click."""
        suggestion = None if view.reason else await self._profile_email(conversation.requester)
        message = blocks.email_request(view, conversation.conversation_id, suggestion)
        return await self._show_in_dm(team_id, conversation, message, expects_reply=True)

    async def _show_claim(self, team_id: str, conversation: SlackConversation,
                          view: ClaimInstructions) -> SlackConversation:
        message = blocks.claim_dm(view, conversation.conversation_id)
        conversation = await self._show_in_dm(team_id, conversation, message,
                                              expects_reply=view.state == "needs_email")
        if self._reminders and view.state == "waiting" and view.expires_at:
            await self._reminders.code_shown(team_id, conversation.conversation_id, view.expires_at)
        return conversation

    async def _question_shown(self, team_id: str, conversation: SlackConversation) -> None:
        if self._reminders:
            await self._reminders.question_shown(team_id, conversation.conversation_id)

    async def _show_in_dm(self, team_id: str, conversation: SlackConversation, message: SlackMessage, *,
                          expects_reply: bool) -> SlackConversation:
        """One DM message per claim, updated in place; the thread only hears that a DM was sent."""
        first_dm = not conversation.claim_ts
        dm_channel = conversation.dm_channel or await self._open_dm(conversation.requester)
        if not dm_channel:
            await self._note_in_thread(conversation, blocks.plain(
                "I couldn't send you a direct message, so I can't finish setting up the OpenTrain account. "
                "Check that direct messages with the app are allowed."))
            return conversation
        if first_dm:
            claim_ts = await self._post_or_raise(dm_channel, message)
        else:
            await self._update_or_raise(dm_channel, conversation.claim_ts, message)
            claim_ts = conversation.claim_ts
        conversation = await self._remember(team_id, conversation, dm_channel=dm_channel, claim_ts=claim_ts)
        await self._engine.set_surface(self._ref(team_id, conversation), self._surface(conversation))
        if expects_reply:
            await self._registry.route_dm(team_id, conversation.requester, conversation.conversation_id)
        if first_dm and dm_channel != conversation.channel:
            await self._note_in_thread(conversation, blocks.plain(
                "One more step to claim the OpenTrain account: I sent you the details in a direct message."))
        return conversation

    async def _profile_email(self, user_id: str) -> str | None:
        try:
            response = await self._client.users_info(user=user_id)
        except SLACK_CALL_ERRORS as exc:
            log.warning("users.info failed: %s", failure_code(exc))
            return None
        email: str | None = (response.get("user") or {}).get("profile", {}).get("email")
        return email

    # ---- Slack calls -------------------------------------------------------------------------------------------

    async def _post_root(self, channel_id: str, user_id: str, message: SlackMessage, start_id: str,
                         tell: Tell, reply_to: str | None = None) -> tuple[str, str] | None:
        """Post in the channel (in `reply_to`'s thread, if given), or, when the bot can't, tell the requester why
        and continue in a DM."""
        metadata = {"event_type": ROOT_METADATA_EVENT, "event_payload": {"start_id": start_id}}
        try:
            return channel_id, await self._post_or_raise(channel_id, message, reply_to, metadata=metadata)
        except CONNECTION_ERRORS:
            # Slack may have posted it before the connection broke: look for it rather than post it twice.
            located = await self._find_root(channel_id, user_id, start_id, reply_to)
            if located is None:
                await tell("I lost the connection to Slack while starting this job; please try again.")
            return located
        except SlackApiError as exc:
            code = slack_error(exc)
            if code not in CANNOT_POST_ERRORS:
                log.error("chat.postMessage failed for /hire: %s", code)
                await tell(f"Slack refused my message ({escape(code)}); please try again in a moment.")
                return None
        await tell("I can't post in this conversation: I'm not a member (or it's a DM between people). "
                   "Invite me with `/invite @hirebot` to hire from this channel. Meanwhile we'll continue in a "
                   "direct message.")
        dm_channel = await self._open_dm(user_id)
        ts = await self._post(dm_channel, message, metadata=metadata) if dm_channel else None
        if not dm_channel or not ts:  # no DM channel means nothing was posted (ts None) either
            await tell("I couldn't open a direct message with you either, so I can't start this job.")
            return None
        return dm_channel, ts

    async def _find_root(self, channel_id: str, user_id: str, start_id: str,
                         reply_to: str | None = None) -> tuple[str, str] | None:
        """Where an earlier run posted the root of `start_id`: the channel (`reply_to`'s thread, if given), or the
        DM when it could not post there."""
        try:
            return await self._root_in(channel_id, start_id, reply_to)
        except SlackApiError as exc:
            if slack_error(exc) not in CANNOT_POST_ERRORS:
                log.warning("cannot look for an unfinished /hire in %s (%s)", channel_id, slack_error(exc))
                return None
        dm_channel = await self._open_dm(user_id)
        if not dm_channel:
            return None
        try:
            return await self._root_in(dm_channel, start_id)
        except SlackApiError as exc:
            log.warning("cannot look for an unfinished /hire in a DM (%s)", slack_error(exc))
            return None

    async def _root_in(self, channel: str, start_id: str, reply_to: str | None = None) -> tuple[str, str] | None:
        # The newest messages suffice: the root was posted moments before its process died.
        if reply_to:
            page = await self._client.conversations_replies(channel=channel, ts=reply_to, include_all_metadata=True,
                                                            limit=ROOT_LOOKUP_LIMIT)
        else:
            page = await self._client.conversations_history(channel=channel, include_all_metadata=True,
                                                            limit=ROOT_LOOKUP_LIMIT)
        for message in page.get("messages") or []:
            if ((message.get("metadata") or {}).get("event_payload") or {}).get("start_id") == start_id:
                return channel, str(message["ts"])
        return None

    async def _post_or_raise(self, channel: str, message: SlackMessage, thread_ts: str | None = None, *,
                             metadata: dict | None = None) -> str:
        # Never reply_broadcast: thread replies stay in the thread.
        response = await self._client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks, thread_ts=thread_ts, unfurl_links=False,
            metadata=metadata,
        )
        return str(response["ts"])

    async def _post(self, channel: str, message: SlackMessage, thread_ts: str | None = None, *,
                    metadata: dict | None = None) -> str | None:
        try:
            return await self._post_or_raise(channel, message, thread_ts, metadata=metadata)
        except SLACK_CALL_ERRORS as exc:
            log.error("chat.postMessage failed: %s", failure_code(exc))
            return None

    async def _post_in_thread(self, conversation: SlackConversation, message: SlackMessage, *,
                              step: str | None = None) -> str:
        """`step`: the question or review card this message shows, carried in its metadata (`_last_step_post`)."""
        metadata = None if step is None else {
            "event_type": STEP_METADATA_EVENT,
            "event_payload": {"conversation_id": conversation.conversation_id, "step": step}}
        return await self._post_or_raise(conversation.channel, message, conversation.thread_ts, metadata=metadata)

    async def _note_in_thread(self, conversation: SlackConversation, message: SlackMessage) -> None:
        """A courtesy line in the thread: if even that fails, there is nothing left to tell anyone."""
        await self._post(conversation.channel, message, conversation.thread_ts)

    async def _update_or_raise(self, channel: str, ts: str, message: SlackMessage) -> None:
        await self._client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)

    async def _update(self, channel: str, ts: str, message: SlackMessage) -> None:
        """Updates that only tidy up (an answered question, the root's state): a failure is logged, not told."""
        try:
            await self._update_or_raise(channel, ts, message)
        except SLACK_CALL_ERRORS as exc:
            log.error("chat.update failed: %s", failure_code(exc))

    async def _open_dm(self, user_id: str) -> str | None:
        try:
            response = await self._client.conversations_open(users=user_id)
        except SLACK_CALL_ERRORS as exc:
            log.error("conversations.open failed: %s", failure_code(exc))
            return None
        return str(response["channel"]["id"])

    async def tell_ephemeral(self, channel: str, user_id: str, text: str, thread_ts: str | None = None) -> None:
        try:
            await self._client.chat_postEphemeral(channel=channel, user=user_id, text=text, thread_ts=thread_ts)
        except SLACK_CALL_ERRORS as exc:
            log.warning("chat.postEphemeral failed: %s", failure_code(exc))

    # ---- helpers -----------------------------------------------------------------------------------------------

    async def _remember(self, team_id: str, conversation: SlackConversation, **fields: str) -> SlackConversation:
        await self._registry.update(team_id, conversation.conversation_id, **fields)
        return dataclasses.replace(conversation, **fields)

    @staticmethod
    def _ref(team_id: str, conversation: SlackConversation) -> ConversationRef:
        return ConversationRef(team_id, conversation.conversation_id)

    @staticmethod
    def _surface(conversation: SlackConversation) -> dict[str, str]:
        return {
            "channel": conversation.channel,
            "thread_ts": conversation.thread_ts,
            "requester": conversation.requester,
            "dm_channel": conversation.dm_channel,
            "claim_ts": conversation.claim_ts,
        }


def _step_of(view: View) -> str:
    """The step a question or review card shows, as carried in its message's metadata."""
    return f"question:{view.key}" if isinstance(view, Question) else "review"
