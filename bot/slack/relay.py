"""Candidate conversations in Slack: one thread per conversation, written in both ways.

The relaying itself (queues, cursors, exactly once) is `bot.hiring.talk.CandidateTalks`; this module is where it
meets Slack. "Message candidate" on a proposal card opens the OpenTrain conversation and ties it to a thread: under
the card when the card is a top-level message of its own, else under a new top-level message naming the candidate
(a card inside the job's thread, or a digest, cannot hold a thread of its own). A reply in that thread from someone
allowed is queued for the candidate and gets a ✅ reaction once OpenTrain took it; refusals are explained in the
thread; anyone else gets an ephemeral note and their text goes nowhere. The candidate's messages are posted there
once each, in order, under their masked name, as inert text (`safe.escape`: no pings, no fake links), with
attachments as a count and a link to the conversation in OpenTrain. Each post carries its id in the message metadata
and an unfinished one is looked for (`outbox.find_post`) before it is posted again.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.proposals import ProposalAsk
from bot.hiring.talk import CandidateTalks, Outgoing, Talk
from bot.hiring.views import Strong, Words
from bot.ledger.cards import ProposalCard
from bot.opentrain.links import LinkPolicy
from bot.opentrain.models import Message
from bot.slack.blocks.proposals import mrkdwn
from bot.slack.blocks.safe import escape, link, mention
from bot.slack.outbox import find_post, slack_failure

log = logging.getLogger(__name__)

MESSAGE_EVENT = "hirebot_candidate_message"
ROOT_EVENT = "hirebot_talk_root"
DELIVERED = "white_check_mark"
MAX_TEXT_CHARS = 39_000  # Slack keeps 40,000 characters of a message's text


def candidate_said(candidate: str, message: Message, conversation_url: str | None) -> str:
    """A candidate's message as Slack text: their name, then their words, escaped; attachments as a count."""
    text = f"*{escape(candidate)}*: {escape(message.content, limit=MAX_TEXT_CHARS)}"
    if message.attachment_count:
        count = message.attachment_count
        noun = "attachment" if count == 1 else "attachments"
        text += f"\n:paperclip: {count} {noun}: {link(conversation_url, 'open in OpenTrain')}"
    return text


def thread_intro(candidate: str, job_title: str) -> Words:
    about = f" about {job_title}" if job_title else ""
    return ("Conversation with ", Strong(candidate), f"{about}. What the job's requester or a hiring manager writes "
            "in this thread goes to them on OpenTrain (plain text, at most 10,000 characters); their replies show up "
            "here.")


class SlackTalkFront:
    """How `CandidateTalks` shows things in Slack (its `TalkFront`)."""

    def __init__(self, slack: AsyncWebClient, links: LinkPolicy):
        self._slack = slack  # no automatic retries (outbox_web_client): a post is repeated only after looking
        self._links = links

    async def show(self, talk: Talk, message: Message, post_id: str, *, maybe_shown: bool) -> bool:
        channel, thread_ts = talk.surface["channel"], talk.surface["thread_ts"]
        try:
            if maybe_shown and await find_post(self._slack, channel, thread_ts, post_id):
                return True
            await self._slack.chat_postMessage(
                channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False,
                text=candidate_said(talk.candidate, message, self._links.conversation_page(talk.conversation_id)),
                metadata={"event_type": MESSAGE_EVENT, "event_payload": {"post_id": post_id}})
        except SlackApiError as exc:
            error, retry_after = slack_failure(exc)
            if retry_after is not None:
                return False
            log.error("cannot show a message of conversation %s in %s (%s)", talk.conversation_id, channel, error)
            return True  # nowhere to show it: retrying cannot help
        except (TimeoutError, aiohttp.ClientError, OSError):
            return False  # maybe posted: the next try looks first
        return True

    async def delivered(self, talk: Talk, outgoing: Outgoing) -> None:
        try:
            await self._slack.reactions_add(channel=talk.surface["channel"], timestamp=outgoing.key, name=DELIVERED)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_reacted":
                log.warning("delivery reaction not added (%s)", exc.response.get("error"))
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("delivery reaction not added (%s)", type(exc).__name__)

    async def explain(self, talk: Talk, outgoing: Outgoing, words: Words) -> None:
        await self._say(talk.surface["channel"], talk.surface["thread_ts"],
                        f"{mention(outgoing.user_id)} {mrkdwn(words)}")

    async def _say(self, channel: str, thread_ts: str, text: str) -> None:
        try:
            await self._slack.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, unfurl_links=False,
                                               unfurl_media=False)
        except (SlackApiError, TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("note in a candidate thread not posted (%s)", type(exc).__name__)


class SlackRelay:
    """What the listeners call: open a conversation from a card, and take a reply written in its thread."""

    def __init__(self, talks: CandidateTalks, slack: AsyncWebClient):
        self._talks = talks
        self._slack = slack

    async def open(self, ask: ProposalAsk, card: ProposalCard, channel: str, card_ts: str, *,
                   card_holds_thread: bool) -> Words:
        """Open (or find) the conversation and its thread; the words for the person who clicked."""
        conversation_id, refused = await self._talks.open(ask)
        if conversation_id is None:
            return refused or ()
        if await self._talks.find(ask.workspace_id, conversation_id) is not None:
            return ("The conversation with ", Strong(card.name), " already has its thread here: write there to "
                    "message them.")
        if not await self._talks.claim_opening(ask.workspace_id, conversation_id):
            return ("The conversation with ", Strong(card.name), " is being opened; its thread appears in a moment.")
        intro = mrkdwn(thread_intro(card.name, card.job_title))
        try:
            if card_holds_thread:
                thread_ts = card_ts
                await self._slack.chat_postMessage(channel=channel, thread_ts=card_ts, text=intro)
            else:
                root = await self._slack.chat_postMessage(
                    channel=channel, text=intro, unfurl_links=False, unfurl_media=False,
                    metadata={"event_type": ROOT_EVENT, "event_payload": {"post_id": conversation_id}})
                thread_ts = str(root["ts"])
        except SlackApiError as exc:
            log.warning("thread for conversation %s not started (%s)", conversation_id, exc.response.get("error"))
            return ("I couldn't start the thread for this conversation in Slack; try again in a minute.",)
        await self._talks.tie(Talk(ask.workspace_id, conversation_id, ask.proposal_id, ask.job_id, card.name,
                                   {"channel": channel, "thread_ts": thread_ts}), f"{channel}:{thread_ts}")
        return ("The conversation with ", Strong(card.name), " is open: write in its thread to message them.")

    async def take(self, team_id: str, channel: str, thread_ts: str, ts: str, user_id: str, text: str) -> bool:
        """A reply in a thread: False when the thread is no candidate conversation (someone else's business)."""
        talk = await self._talks.at(team_id, f"{channel}:{thread_ts}")
        if talk is None:
            return False
        refusal = await self._talks.accept(talk, Outgoing(ts, user_id, text, _seconds(ts)))
        if refusal is None:
            return True
        try:
            if refusal.private:
                await self._slack.chat_postEphemeral(channel=channel, user=user_id, thread_ts=thread_ts,
                                                     text=f"Not sent to {escape(talk.candidate)}. "
                                                          f"{mrkdwn(refusal.words)}")
            else:
                await self._slack.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                                   text=f"{mention(user_id)} {mrkdwn(refusal.words)}")
        except SlackApiError as exc:
            log.warning("refusal note not posted (%s)", exc.response.get("error"))
        return True


def _seconds(ts: str) -> float:
    try:
        return float(ts)
    except ValueError:
        return 0.0
