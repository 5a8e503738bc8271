"""What a proposal card's actions do, free of any front end: open the conversation with a candidate, request a hire.

Both need a claimed OpenTrain account (on an unclaimed one the asker hears who can claim it) and someone the
authorization table allows: the job's requester or a hiring manager. A hire request never hires: OpenTrain answers
with an approval link that a signed-in human must follow.

Every outcome is `Words`: the sentence to show, with the few parts a front end marks up its own way (a `Link`, a
`Mention` of a person, a name in `Strong`) kept apart from the plain text. The candidate's display name comes from the
caller: it is on the card the front end showed, and that record belongs to the front end (the Slack outbox keeps it),
so the core never reads it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.hiring import wording
from bot.hiring.accounts import Accounts
from bot.hiring.approvals import ApprovalTracker
from bot.hiring.authz import Action, Attempt, Authorizer
from bot.hiring.jobs import lookup_job
from bot.hiring.views import Link, Strong, Words
from bot.hiring.wording import refusal
from bot.infra.storage import Redis
from bot.opentrain import errors
from bot.opentrain.client import OpenTrainClient

log = logging.getLogger(__name__)



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


NOT_THIS_WORKSPACE = ("This card doesn't belong to a job published from this workspace.",)
UNCLAIMED = (wording.CLAIM_BY_ADMIN,)
NOT_THIS_JOB = ("This proposal isn't on the job this card is about, so I won't act on it.",)


class ProposalDesk:
    """Every action re-checks, at the moment it runs, that the job is this workspace's, that the proposal is on that
    job (asked of OpenTrain, not read from the button), and that the person may act (`authz`)."""

    def __init__(self, redis: Redis, namespace: str, accounts: Accounts, authorizer: Authorizer,
                 tracker: ApprovalTracker | None = None):
        self._redis = redis
        self._namespace = namespace
        self._accounts = accounts
        self._authz = authorizer
        self._tracker = tracker  # follows each hire approval to its end (none: the request is only worded)

    async def claim_needed(self, ask: ProposalAsk) -> Words | None:
        """Why the account cannot act on proposals yet, or None once it is claimed."""
        return None if await self._accounts.is_claimed(ask.workspace_id) else UNCLAIMED

    async def may(self, ask: ProposalAsk, action: Action) -> Words | None:
        """Why `ask` may not go ahead (a foreign job, someone else's job, an unclaimed account), or None."""
        job = await lookup_job(self._redis, self._namespace, ask.job_id)
        if job is None or job.workspace_id != ask.workspace_id:
            return NOT_THIS_WORKSPACE
        if refused := await self._authz.refusal(Attempt(action, ask.workspace_id, ask.user_id, job.requester)):
            return refused
        return await self.claim_needed(ask)

    async def conversation_for(self, ask: ProposalAsk) -> tuple[str | None, Words | None]:
        """(the conversation's id, None) once open (get-or-create), or (None, why not); the relay
        (bot/hiring/talk.py) ties it to a place of the front end."""
        if (refused := await self.may(ask, Action.MESSAGE_CANDIDATE)) is not None:
            return None, refused
        try:
            client = await self._accounts.client_for(ask.workspace_id)
            if (foreign := await self._foreign(client, ask)) is not None:
                return None, foreign
            opened = await client.open_conversation(ask.proposal_id)
        except errors.OpenTrainError as exc:
            return None, await self._failed(ask, exc, "open the conversation")
        return opened.conversation_id, None

    async def request_hire(self, ask: ProposalAsk, milestone: Milestone, candidate: str,
                           surface: dict | None = None) -> Words:
        if (refused := await self.may(ask, Action.REQUEST_HIRE)) is not None:
            return refused
        try:
            client = await self._accounts.client_for(ask.workspace_id)
            if (foreign := await self._foreign(client, ask)) is not None:
                return foreign
            requested = await client.request_hire(ask.proposal_id, milestone.name, milestone.amount,
                                                  milestone.due_date)
        except errors.OpenTrainError as exc:
            return await self._failed(ask, exc, f"request hiring {candidate}")
        if self._tracker is not None:
            await self._tracker.track(ask.workspace_id, requested.approval, ask.user_id, surface or {})
        return ("Hire request for ", Strong(candidate),
                f" recorded (first milestone \"{milestone.name}\", ${milestone.amount:,.2f}, due "
                f"{milestone.due_date}). Nothing is hired and no money moves until a signed-in human approves it in "
                "OpenTrain: ", Link(requested.approval.approval_url or "", "review and approve"), ".")

    @staticmethod
    async def _foreign(client: OpenTrainClient, ask: ProposalAsk) -> Words | None:
        """The proposal id came from a button: OpenTrain says which job it is really on."""
        proposal = await client.get_proposal(ask.proposal_id)
        if proposal.job_id != ask.job_id:
            log.warning("refused an action on proposal %s: it is not on job %s", ask.proposal_id, ask.job_id)
            return NOT_THIS_JOB
        return None

    async def _failed(self, ask: ProposalAsk, exc: errors.OpenTrainError, doing: str) -> Words:
        if isinstance(exc, errors.ClaimRequired):
            return UNCLAIMED
        if not isinstance(exc, (errors.Forbidden, errors.Conflict)):
            log.warning("could not %s for proposal %s: %s", doing, ask.proposal_id, type(exc).__name__)
        words: Words = (f"I couldn't {doing}. {refusal(exc)}",)
        fix = wording.how_to_fix(exc)  # what a person can do about it
        if isinstance(exc, errors.Conflict) and exc.billing_url:
            words += (f" {fix} ", Link(exc.billing_url, "Billing"))
        elif fix and not isinstance(exc, errors.Conflict):
            words += (f" {fix}",)
        return words
