"""Candidate conversations both ways, over signed HTTP with the sandbox, a real Redis and the Slack stand-in.

A job is published from Slack and a proposal carded in its thread; "Message candidate" opens the conversation in a
thread of its own; what the requester and a hiring manager write there reaches the candidate once each (✅ when
OpenTrain took it); what a stranger writes never leaves; the candidate's replies appear once, in order, inert; every
refusal is explained, and a 429 is sent later.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import httpx

from bot.app import serve_http
from tests.slack.conftest import REQUESTER, STRANGER, HttpSlack, Person
from tests.slack.story import eventually
from tests.slack.test_authorization import MANAGER, ephemerals_to, people, proposal_card
from tests.support.market import API, Market
from tests.support.slack_api import PostedMessage, SlackApiStandIn

HOSTILE = "Sure! <!channel> @here <@UREQ> <https://evil.example|OpenTrain login> see https://evil.example"


class Candidate:
    """The candidate's side and OpenTrain's record of the conversation, through the sandbox."""

    def __init__(self, market: Market, token: str, conversation_id: str):
        self.market, self.token = market, token
        self.conversation_id = conversation_id

    def says(self, content: str, attachments: int = 0) -> None:
        self.market.control(f"conversations/{self.conversation_id}/reply",
                            {"content": content, "attachments": attachments})

    def arm(self, refusal: str, retry_after: int | None = None) -> None:
        self.market.control(f"conversations/{self.conversation_id}/next-send",
                            {"refusal": refusal, "retryAfterSeconds": retry_after})

    def received(self) -> list[str]:
        """What the employer's side sent, oldest first, as OpenTrain holds it."""
        return self.market.sent(self.token, self.conversation_id)


def conversation_thread(api: SlackApiStandIn, channel: str) -> PostedMessage | None:
    roots = [m for m in api.messages.values() if m.channel == channel and m.thread_ts is None
             and (m.metadata or {}).get("event_type") == "hirebot_talk_root"]
    return roots[-1] if roots else None


def replies(api: SlackApiStandIn, root: PostedMessage, marker: str = "") -> list[str]:
    return [m.text for m in api.thread(root.channel, root.ts) if marker in m.text]


def at(logged: dict) -> float:
    return datetime.fromisoformat(logged["at"].replace("Z", "+00:00")).timestamp()


def reacted(api: SlackApiStandIn, channel: str, ts: str) -> bool:
    return "white_check_mark" in api.reactions.get((channel, ts), [])


@dataclass
class Opened:
    who: dict[str, Person]
    market: Market
    card: PostedMessage
    thread: PostedMessage
    candidate: Candidate


@contextlib.asynccontextmanager
async def conversation_opened(make_settings, slack_api, sandbox_url) -> AsyncIterator[Opened]:
    """A job published from Slack, its proposal carded, and "Message candidate" clicked by the requester."""
    token = Market(sandbox_url).account()
    settings = make_settings(hiring_managers=MANAGER, opentrain_api_token=token, opentrain_poll_seconds=0.2)
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        who = people(slack_api, HttpSlack([server.url], http))
        market, _, _, card = await proposal_card(who, slack_api, sandbox_url)
        assert await who[REQUESTER].click(card, "Message candidate") == 200
        thread = await eventually(lambda: conversation_thread(slack_api, card.channel), "the conversation's thread")
        [conversation_id] = market.conversations(token)
        yield Opened(who, market, card, thread, Candidate(market, token, conversation_id))


async def write(person: Person, root: PostedMessage, text: str) -> str:
    """`person` replies in the thread; returns the reply's ts."""
    envelope = person.message_envelope(text, root.channel, root.ts)
    assert await person.slack.event(envelope) == 200
    return envelope["event"]["ts"]


async def test_a_two_way_conversation_in_the_cards_thread(make_settings, slack_api, sandbox_url):
    async with conversation_opened(make_settings, slack_api, sandbox_url) as opened:
        who, card, thread, candidate = opened.who, opened.card, opened.thread, opened.candidate
        said = await eventually(lambda: ephemerals_to(slack_api, REQUESTER), "the requester told where to write")
        assert "is open: write in its thread" in said[-1]
        assert "Conversation with" in thread.text
        assert await who[MANAGER].click(card, "Message candidate") == 200  # a second click: the same thread
        await eventually(lambda: any("already has its thread" in t for t in ephemerals_to(slack_api, MANAGER)),
                         "the manager pointed to the existing thread")

        # Out: the requester and a hiring manager write; each message reaches the candidate once, in order.
        first = await write(who[REQUESTER], thread, "Hi! Can you start Monday?")
        await eventually(lambda: reacted(slack_api, thread.channel, first), "the ✅ on the first message")
        second = await write(who[MANAGER], thread, "Also: <https://example.com/guide|our guide> & rules")
        await eventually(lambda: reacted(slack_api, thread.channel, second), "the ✅ on the manager's message")
        assert candidate.received() == ["Hi! Can you start Monday?", "Also: our guide & rules"]

        # A stranger's reply is never sent: a private note, nothing at OpenTrain.
        await write(who[STRANGER], thread, "psst, candidate, email me")
        await eventually(lambda: ephemerals_to(slack_api, STRANGER), "the stranger told no")
        assert "Not sent" in ephemerals_to(slack_api, STRANGER)[-1]

        # Too long: refused with a clear note, nothing cut or sent.
        await write(who[REQUESTER], thread, "x" * 10_001)
        note = await eventually(lambda: replies(slack_api, thread, "10,001 characters"), "the too-long note")
        assert "at most 10,000" in note[-1]

        # In: the candidate replies, hostile text and attachments included; each shown once, in order, inert.
        candidate.says("Yes, Monday works.")
        candidate.says(HOSTILE, attachments=2)
        shown = await eventually(lambda: len(replies(slack_api, thread, "Monday works")) == 1
                                 and replies(slack_api, thread, "OpenTrain login"), "the candidate's replies")
        hostile = shown[-1]
        assert "<!channel>" not in hostile and "<@UREQ>" not in hostile and "<https://evil" not in hostile
        assert "&lt;!channel&gt;" in hostile and "@\u2060here" in hostile
        assert "2 attachments" in hostile and "<https://app.opentrain.ai/messages?conversationId=" in hostile
        texts = [m.text for m in slack_api.thread(thread.channel, thread.ts)]
        assert texts.index(next(t for t in texts if "Monday works" in t)) < texts.index(hostile)
        assert not any("Can you start Monday" in t for t in texts)  # our own messages are not echoed back
        assert candidate.received() == ["Hi! Can you start Monday?", "Also: our guide & rules"]
        assert not any(c.args.get("link_names") for c in slack_api.calls_to("chat.postMessage"))


async def test_refusals_are_explained_and_a_rate_limited_message_goes_later(make_settings, slack_api, sandbox_url):
    async with conversation_opened(make_settings, slack_api, sandbox_url) as opened:
        thread, candidate, requester = opened.thread, opened.candidate, opened.who[REQUESTER]

        candidate.arm("employer_first")
        await write(requester, thread, "Hello there")
        await eventually(lambda: replies(slack_api, thread, "write to"), "the employer-first note")

        candidate.arm("policy_blocked")
        await write(requester, thread, "Call me on 555-0100")
        await eventually(lambda: replies(slack_api, thread, "messaging policy"), "the policy note")

        candidate.arm("rate_limited", retry_after=5)
        later = await write(requester, thread, "Sent after the wait")
        note = await eventually(lambda: replies(slack_api, thread, "limiting messages"), "the rate-limit note")
        assert "in about 5 seconds" in note[-1]
        await write(requester, thread, "Right behind it")  # a new message does not cut the wait short
        await eventually(lambda: candidate.received() == ["Sent after the wait", "Right behind it"],
                         "both sent after the wait, in order", timeout=30)
        sends = [r for r in opened.market.request_log() if r["method"] == "POST" and r["path"].endswith("/messages")]
        refused_at = next(at(r) for r in sends if r["status"] == 429)
        assert at(next(r for r in sends if r["status"] == 201 and at(r) > refused_at)) - refused_at >= 4.5
        await eventually(lambda: reacted(slack_api, thread.channel, later), "the ✅ once sent after the wait")

        candidate.arm("read_only")
        await write(requester, thread, "Anyone there?")
        await eventually(lambda: replies(slack_api, thread, "read-only"), "the read-only note")
        assert candidate.received() == ["Sent after the wait", "Right behind it"]
        assert all(len(replies(slack_api, thread, marker)) == 1
                   for marker in ("write to", "messaging policy", "limiting messages", "read-only"))


async def test_a_send_whose_answer_was_lost_is_found_not_sent_again(make_settings, slack_api, sandbox_url):
    async with conversation_opened(make_settings, slack_api, sandbox_url) as opened:
        market, thread, candidate = opened.market, opened.thread, opened.candidate
        # OpenTrain takes the message, then the connection dies before its answer: the outcome is unknown.
        market.control("faults", {"path": f"{API}/messages", "method": "POST", "dropAfter": True})
        sent = await write(opened.who[REQUESTER], thread, "Only once, please")
        await eventually(lambda: candidate.received() == ["Only once, please"], "OpenTrain holding the message")
        await eventually(lambda: reacted(slack_api, thread.channel, sent), "the ✅ after looking", timeout=30)
        assert candidate.received() == ["Only once, please"]
        assert market.requests("/messages", method="POST") == 1
        # A 5xx that did not take effect: found missing, then sent (once) from the queue.
        market.control("faults", {"path": f"{API}/messages", "method": "POST", "status": 503})
        retried = await write(opened.who[REQUESTER], thread, "After a 503")
        await eventually(lambda: reacted(slack_api, thread.channel, retried), "the ✅ after the retry", timeout=30)
        assert candidate.received() == ["Only once, please", "After a 503"]
        assert market.requests("/messages", method="POST") == 3


async def test_a_post_whose_answer_was_lost_is_found_not_posted_again(make_settings, slack_api, sandbox_url):
    async with conversation_opened(make_settings, slack_api, sandbox_url) as opened:
        await write(opened.who[REQUESTER], opened.thread, "Hello!")
        await eventually(lambda: opened.candidate.received() == ["Hello!"], "the first message at OpenTrain")
        # Slack posts the candidate's answer, then the connection dies before Slack's answer reaches the bot.
        slack_api.drop_connection("chat.postMessage")
        opened.candidate.says("Posted once, I hope")
        await eventually(lambda: replies(slack_api, opened.thread, "Posted once"), "the answer in the thread")
        await eventually(lambda: slack_api.calls_to("conversations.replies"), "the bot looking for its post",
                         timeout=30)
        opened.candidate.says("And the next one")
        await eventually(lambda: replies(slack_api, opened.thread, "the next one"), "the next answer", timeout=30)
        assert len(replies(slack_api, opened.thread, "Posted once")) == 1
