"""What a proposal card's actions do, free of any front end: open the conversation with a candidate, request a hire.

Both need a claimed OpenTrain account; on an unclaimed one the asker hears why and who has the claim steps. A hire
request never hires: OpenTrain answers with an approval link that a signed-in human must follow.

Every outcome is `Words`: the sentence to show, with the few parts a front end marks up its own way (a `Link`, a
`Mention` of a person, a name in `Strong`) kept apart from the plain text. The candidate's display name comes from the
caller: it is on the card the front end showed, and that record belongs to the front end (the Slack outbox keeps it),
so the core never reads it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.hiring.accounts import Accounts
from bot.hiring.jobs import lookup_job
from bot.hiring.wording import refusal
from bot.infra.storage import Redis
from bot.opentrain import errors

log = logging.getLogger(__name__)

UNCLAIMED = ("This OpenTrain account isn't claimed yet, so it can't talk to or hire candidates. A human must claim "
             "it first: ")


@dataclass(frozen=True)
class Link:
    url: str
    label: str


@dataclass(frozen=True)
class Mention:
    """A person of the front end (e.g. the job's requester), named the way that front end names people."""

    user_id: str


@dataclass(frozen=True)
class Strong:
    text: str


Words = tuple[str | Link | Mention | Strong, ...]


@dataclass(frozen=True)
class ProposalAsk:
    """Who asks for something about which proposal, and the job it was made on."""

    workspace_id: str
    user_id: str
    proposal_id: str
    job_id: str


@dataclass(frozen=True)
class Milestone:
    """The first milestone of a hire request."""

    name: str
    amount: float  # USD
    due_date: str  # ISO date


class ProposalDesk:
    def __init__(self, redis: Redis, namespace: str, accounts: Accounts):
        self._redis = redis
        self._namespace = namespace
        self._accounts = accounts

    async def claim_needed(self, ask: ProposalAsk) -> Words | None:
        """Why the account cannot act on proposals yet, or None once it is claimed."""
        if await self._accounts.is_claimed(ask.workspace_id):
            return None
        return await self._unclaimed(ask)

    async def open_conversation(self, ask: ProposalAsk, candidate: str) -> Words:
        if (unclaimed := await self.claim_needed(ask)) is not None:
            return unclaimed
        try:
            opened = await (await self._accounts.client_for(ask.workspace_id)).open_conversation(ask.proposal_id)
        except errors.OpenTrainError as exc:
            return await self._failed(ask, exc, "open the conversation")
        verb = "is open" if opened.created else "was already open"
        return (f"The conversation with {candidate} {verb} in OpenTrain: ",
                Link(opened.conversation_url or "", "write the first message"),
                ". They can reply once you have.")

    async def request_hire(self, ask: ProposalAsk, milestone: Milestone, candidate: str) -> Words:
        try:
            opentrain = await self._accounts.client_for(ask.workspace_id)
            requested = await opentrain.request_hire(ask.proposal_id, milestone.name, milestone.amount,
                                                     milestone.due_date)
        except errors.OpenTrainError as exc:
            return await self._failed(ask, exc, f"request hiring {candidate}")
        return ("Hire request for ", Strong(candidate),
                f" recorded (first milestone \"{milestone.name}\", ${milestone.amount:,.2f}, due "
                f"{milestone.due_date}). Nothing is hired and no money moves until a signed-in human approves it in "
                "OpenTrain: ", Link(requested.approval.approval_url or "", "review and approve"), ".")

    async def _unclaimed(self, ask: ProposalAsk) -> Words:
        job = await lookup_job(self._redis, self._namespace, ask.job_id)
        requester = job.requester if job else ""
        if requester == ask.user_id:
            return (UNCLAIMED, "the steps are in the DM I sent you when the job was published.")
        if requester:
            return (UNCLAIMED, Mention(requester), " has the steps in a DM from me.")
        return (UNCLAIMED, "run `/hire` to start the claim.")

    async def _failed(self, ask: ProposalAsk, exc: errors.OpenTrainError, doing: str) -> Words:
        if isinstance(exc, errors.ClaimRequired):
            return await self._unclaimed(ask)
        if not isinstance(exc, (errors.Forbidden, errors.Conflict)):
            log.warning("could not %s for proposal %s: %s", doing, ask.proposal_id, type(exc).__name__)
        words: Words = (f"I couldn't {doing}. {refusal(exc)}",)
        if isinstance(exc, errors.Conflict) and exc.billing_url:
            words += (" ", Link(exc.billing_url, "Billing"))
        return words
