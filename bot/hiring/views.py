"""Slack-free view models: what the engine wants the requester to see. Front ends render them (Block Kit, text).

Views carry plain words and ids (user ids, job ids, URLs), never a front end's markup: Slack writes `<@U1>` for a
user id, the terminal writes the id.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Literal

from bot.hiring.states import State

NoticeLevel = Literal["info", "error"]
ClaimState = Literal["waiting", "claimed", "expired", "needs_email", "failed"]


@dataclass(frozen=True)
class Notice:
    text: str
    level: NoticeLevel = "info"


@dataclass(frozen=True)
class Question:
    """One missing field (or one update key of a multi-key field) to ask for."""

    field: str  # the report's field name, e.g. "experienceLevel"
    key: str  # the update key this answer fills (one answer per key)
    label: str
    text: str  # the API's prompt with any leading "ask: " removed
    type: str  # enum | number | integer | boolean | array | string ... as the API reports it
    position: str  # "2 of 5"
    hint: str | None = None
    example: str | None = None
    # (value, label): the answer can be the value, the label or the 1-based number
    choices: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    current: str | None = None  # the value already set, when re-asking (back / edit)


@dataclass(frozen=True)
class ReviewField:
    key: str
    label: str
    value: str  # display text
    low_confidence: bool = False
    confirmed: bool = False


@dataclass(frozen=True)
class UnmappedField:
    path: str
    reason: str
    preview: str


@dataclass(frozen=True)
class ReviewCard:
    job_id: str
    fields: list[ReviewField]
    warnings: list[str] = dataclasses.field(default_factory=list)
    unmapped: list[UnmappedField] = dataclasses.field(default_factory=list)
    review_url: str | None = None
    publish_ready: bool = True
    missing: list[str] = dataclasses.field(default_factory=list)  # fields the API still reports missing

    @property
    def unconfirmed(self) -> list[str]:
        return [f.key for f in self.fields if f.low_confidence and not f.confirmed]


@dataclass(frozen=True)
class Published:
    job_id: str
    job_url: str | None
    already_published: bool = False
    warnings: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class EmailRequest:
    """The claim ceremony needs the requester's email (first time, or the last one already had an account)."""

    text: str
    reason: str | None = None


@dataclass(frozen=True)
class ClaimConfirm:
    """Handing the bot's OpenTrain account to `email` waits for an explicit yes (`confirm`)."""

    email: str

    @property
    def tag(self) -> str:
        """Names the email in a button's `confirm #tag` without carrying the typed text around."""
        return "#" + hashlib.sha256(self.email.lower().encode()).hexdigest()[:12]


@dataclass(frozen=True)
class ClaimInstructions:
    state: ClaimState
    verification_uri: str | None = None
    user_code: str | None = None
    expires_at: float | None = None  # epoch seconds of this attempt's end
    email: str | None = None
    message: str | None = None  # plain explanation for expired / failed / needs_email


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
class NotAllowed:
    """The authorization table said no: who may do it instead, in words (see `authz.refusal_words`)."""

    words: Words


@dataclass(frozen=True)
class Status:
    state: State
    job_id: str | None
    fields: list[ReviewField]
    missing: list[str]


View = (Notice | Question | ReviewCard | Published | EmailRequest | ClaimInstructions | ClaimConfirm | Status
        | NotAllowed)


@dataclass(frozen=True)
class Reply:
    """Everything one incoming message produced. `duplicate`: this message was already handled; show nothing.
    `state` is the conversation's state after the message, None when there is no conversation. `taken`: the message
    itself was applied (an answer recorded, a command done), not refused, put off or found already answered."""

    views: list[View]
    state: State | None
    duplicate: bool = False
    taken: bool = False
