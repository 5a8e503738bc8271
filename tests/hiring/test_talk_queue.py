"""The relay's queues against the sandbox and a real Redis: a message accepted twice goes once, a stranger's never,
and what the candidate writes is handed over once, in order, our own messages left out."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from cryptography.fernet import Fernet

from bot.hiring.accounts import Accounts
from bot.hiring.authz import Authorizer
from bot.hiring.proposals import ProposalAsk, ProposalDesk
from bot.hiring.talk import CandidateTalks, Outgoing, Talk
from bot.infra.scheduler import Scheduler
from bot.infra.secretbox import SecretBox
from bot.opentrain.client import OpenTrainClient
from tests.support.directory import Listed
from tests.support.market import Market, seed_job

TEAM, REQUESTER, STRANGER = "T1", "UREQ", "USTRANGER"


@dataclass
class Recorder:
    """A front end that remembers what it was asked to show and say."""

    shown: list[str] = field(default_factory=list)
    sent_keys: list[str] = field(default_factory=list)
    explained: list[str] = field(default_factory=list)

    async def show(self, talk, message, post_id, *, maybe_shown) -> bool:
        self.shown.append(message.content)
        return True

    async def delivered(self, talk, outgoing) -> None:
        self.sent_keys.append(outgoing.key)

    async def explain(self, talk, outgoing, words) -> None:
        self.explained.append("".join(str(w) for w in words))


@dataclass
class Relay:
    talks: CandidateTalks
    scheduler: Scheduler
    front: Recorder
    market: Market
    token: str
    talk: Talk

    async def settle(self) -> None:
        for _ in range(10):  # each run takes one message at most; a few passes empty both queues
            await self.scheduler.run_once()


@pytest.fixture
async def relay(redis, namespace, sandbox_url):
    market = Market(sandbox_url)
    token = market.account()
    job_id, job_url = market.publish_job(token)
    await seed_job(redis, namespace, job_id=job_id, job_url=job_url, workspace_id=TEAM, channel="C1",
                   root_ts="1.1", requester=REQUESTER)
    [proposal_id] = market.propose(job_id)
    opentrain = OpenTrainClient(sandbox_url)
    accounts = Accounts(redis, namespace, opentrain, SecretBox(Fernet.generate_key()), app_token=token)
    scheduler = Scheduler(redis, namespace)
    talks = CandidateTalks(redis, namespace, accounts, ProposalDesk(redis, namespace, accounts,
                                                                   Authorizer(Listed())), scheduler)
    front = Recorder()
    talks.register(front)
    conversation_id, refused = await talks.open(ProposalAsk(TEAM, REQUESTER, proposal_id, job_id))
    assert refused is None and conversation_id
    talk = Talk(TEAM, conversation_id, proposal_id, job_id, "Maria G.", {"channel": "C1", "thread_ts": "2.2"})
    assert await talks.tie(talk, "C1:2.2") and not await talks.tie(talk, "C1:2.2")
    yield Relay(talks, scheduler, front, market, token, talk)
    await opentrain.aclose()
    market.close()


async def test_a_message_accepted_twice_goes_once_and_a_strangers_never(relay):
    talk = await relay.talks.at(TEAM, "C1:2.2")
    assert talk is not None and talk.conversation_id == relay.talk.conversation_id
    hello = Outgoing("1800000000.000001", REQUESTER, "Hello Maria", 1800000000.000001)
    assert await relay.talks.accept(talk, hello) is None
    assert await relay.talks.accept(talk, hello) is None  # a redelivery of the same Slack message
    refusal = await relay.talks.accept(talk, Outgoing("1800000000.000002", STRANGER, "psst", 1800000000.000002))
    assert refusal is not None and refusal.private and "Only" in "".join(str(w) for w in refusal.words)
    await relay.settle()
    assert relay.market.sent(relay.token, talk.conversation_id) == ["Hello Maria"]
    assert relay.front.sent_keys == [hello.key]
    await relay.talks.accept(talk, hello)  # even after it was sent
    await relay.settle()
    assert relay.market.sent(relay.token, talk.conversation_id) == ["Hello Maria"]


async def test_the_candidates_messages_are_handed_over_once_in_order(relay):
    talk = relay.talk
    await relay.talks.accept(talk, Outgoing("1800000000.000001", REQUESTER, "Hello Maria", 1800000000.000001))
    await relay.settle()
    for text in ("One", "Two", "Three"):
        relay.market.control(f"conversations/{talk.conversation_id}/reply", {"content": text})
    await relay.talks.ring(TEAM, talk.conversation_id)
    await relay.settle()
    await relay.talks.ring(TEAM, talk.conversation_id)  # a second ring (a webhook and a poll) shows nothing twice
    await relay.settle()
    assert relay.front.shown == ["One", "Two", "Three"]  # and never our own "Hello Maria"
