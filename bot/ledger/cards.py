"""What the ledger hands a front end: a `ProposalCard` per proposal event, and the `ProposalSink` that takes them.

`ProposalCard` is what the bot shows about a proposal, taken from the `Proposal`/`ProposalDetail` model (which reads
every documented variant, e.g. status as object or string); `lastNameInitial` comes with or without its dot and scores
on any scale. Only the masked name, title, country, bid, scores and status are kept: never contact details, photos or
profile links.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

from bot.hiring.jobs import JobRecord
from bot.opentrain.links import OPENTRAIN_APP_URL, LinkPolicy
from bot.opentrain.models import Candidate, Proposal, ProposalStatus

# The web app only, for cards read without a client at hand.
DEFAULT_LINKS = LinkPolicy(OPENTRAIN_APP_URL)


@dataclass(frozen=True)
class ProposalCard:
    proposal_id: str
    job_id: str
    job_title: str
    name: str
    title: str
    country: str
    bid_amount: float | None
    bid_unit: str
    interview_score: float | None
    match_score: float | None
    status: str  # the raw enum value, e.g. "SHORTLISTED"
    status_label: str
    review_url: str

    @classmethod
    def read(cls, proposal: Proposal, *, job_url: str | None = None, links: LinkPolicy | None = None) -> ProposalCard:
        """From a `GET /proposals/{id}` answer (ProposalDetail) or a list entry. The review link is built by the
        link policy (`links`, the reading client's): the job's page only if it is trusted, else from the ids."""
        links = links or DEFAULT_LINKS
        candidate, job_id = proposal.candidate, proposal.job_id or ""
        status_raw, status_label = _status(proposal.status)
        return cls(
            proposal_id=proposal.id, job_id=job_id, job_title=proposal.job_title or "",
            name=_masked_name(candidate), title=candidate.profile_title or "",
            country=candidate.country or candidate.country_code or "",
            bid_amount=proposal.bid.amount_usd, bid_unit=proposal.bid.unit or "",
            interview_score=proposal.metrics.interview_score, match_score=proposal.metrics.match_score,
            status=status_raw, status_label=status_label,
            review_url=links.proposal_page(job_url, job_id or "-", proposal.id),
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> ProposalCard:
        return cls(**json.loads(raw))


def _status(status: ProposalStatus | None) -> tuple[str, str]:
    if status is None:
        return "", ""
    return status.raw.upper(), status.label or status.raw.replace("_", " ").capitalize()


def _masked_name(candidate: Candidate) -> str:
    if candidate.display_name:
        return candidate.display_name
    first = candidate.first_name or ""
    initial = (candidate.last_name_initial or "").rstrip(".")
    return f"{first} {initial}.".strip() if initial else (first or "A candidate")


@dataclass(frozen=True)
class ProposalUpdate:
    """One proposal event of a job: a new proposal (`received`) or a fresher status of one already shown."""

    workspace_id: str
    job: JobRecord
    card: ProposalCard
    received: bool


class ProposalSink(Protocol):
    """A front end's queue of cards. The ledger asks `shows` before it fetches a proposal, so a job no front end
    shows costs no OpenTrain call."""

    def shows(self, job: JobRecord) -> bool:
        """Whether this front end shows the job's proposals at all."""

    async def commit_page(self, cursor_key: str, expected_cursor: str | None, new_cursor: str,
                          updates: Sequence[ProposalUpdate]) -> bool:
        """Queue the updates and move the ledger cursor in one atomic step (exactly once: a crash in between can
        neither drop nor repeat a card); False, with nothing queued, when another reader moved the cursor first."""

    async def wake_pending(self) -> None:
        """Resume deliveries a stopped process left queued but unscheduled."""
