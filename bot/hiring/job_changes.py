"""Changing a live job, free of any front end: editing its fields (`PATCH /jobs/{id}`) and inviting a trainer to it
(`GET /freelancers/{idOrSlug}`, then `POST /jobs/{id}/invites`).

Every step re-checks, at the moment it runs, that the job is this workspace's and that the person may do it
(`authz`: the job's requester or a hiring manager); ids a front end carried in a button or a modal are hints.

What the edit form shows comes from the job's record (`jobs.JobRecord.fields`: the draft at publish, then every
edit applied), since OpenTrain documents no read of a job's own fields. Only the fields a person changed are sent.
An edit is re-moderated by OpenTrain; when moderation blocks it, the edit is still applied and the job is back to
DRAFT: the outcome says so (`unpublished`) with the reasons, and how to fix and publish it again.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Any

from bot.hiring import wording
from bot.hiring.accounts import AccountProblem, Accounts
from bot.hiring.authz import Action, Attempt, Authorizer
from bot.hiring.board import NOT_THIS_WORKSPACE
from bot.hiring.engine import HiringEngine
from bot.hiring.jobs import JobRecord, lookup_job, update_fields
from bot.hiring.states import State
from bot.hiring.views import Link, Mention, Reply, Strong, Words
from bot.infra.storage import Redis
from bot.opentrain import errors
from bot.opentrain.fields import DOCUMENTED_ENUMS, DOCUMENTED_KEY_TYPES
from bot.opentrain.links import is_opentrain_id

log = logging.getLogger(__name__)

# The fields "Edit" offers, in the order a person reads a job: what, who, how much, how it pays.
EDITABLE: tuple[tuple[str, str], ...] = (
    ("jobTitle", "Title"),
    ("jobDescription", "Description"),
    ("languages", "Languages (comma-separated)"),
    ("headcount", "Trainers to hire"),
    ("experienceLevel", "Experience level"),
    ("dataVolume", "Data volume"),
    ("dataVolumeUnit", "Data volume unit"),
    ("paymentType", "Payment type"),
    ("pricePerHour", "Pay per hour (USD)"),
    ("pricePerLabel", "Pay per label (USD)"),
    ("fixedPrice", "Fixed price (USD)"),
)
PROBE_WAIT_SECONDS = 1.0
REQUIRED_TEXT = frozenset({"jobTitle", "jobDescription"})  # a job always has these; clearing one is a mistake


@dataclass(frozen=True)
class EditableField:
    key: str  # the update key
    label: str
    type: str  # string | enum | number | integer | array
    value: Any  # the current value, None when unknown
    choices: tuple[str, ...] = ()  # enum values


@dataclass(frozen=True)
class EditForm:
    job_id: str
    title: str
    fields: tuple[EditableField, ...]


@dataclass(frozen=True)
class EditReading:
    """What a submitted form asks: the changed fields, or what is wrong with each bad input (by update key)."""

    changes: dict[str, Any]
    problems: dict[str, str]


@dataclass(frozen=True)
class EditOutcome:
    words: Words
    applied: bool  # the edit is on OpenTrain (also when moderation then unpublished the job)
    unpublished: bool = False  # moderation blocked it: the job is back to DRAFT
    record: JobRecord | None = None
    for_thread: Words = ()  # what the job's thread should hear, when anything
    reopened: Reply | None = None  # the conversation back at review: the views its thread should show


@dataclass(frozen=True)
class TrainerCard:
    """A trainer's masked profile, shown for confirmation before the invite."""

    freelancer_id: str
    name: str
    title: str | None
    country: str | None
    hourly_rate_usd: float | None
    job_success_score: float | None
    review_count: int | None
    average_rating: float | None
    identity_verified: bool | None
    profile_url: str | None


@dataclass(frozen=True)
class BadInput:
    """The person's input cannot be used: the sentence to show next to it."""

    sentence: str


def read_edit(form: EditForm, submitted: dict[str, str | None]) -> EditReading:
    """The typed values of a submitted form (each input as text, None when left empty), keeping only changes.

    Pure: a front end shows `problems` next to their inputs and sends nothing when there are any."""
    changes: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for spec in form.fields:
        if spec.key not in submitted:
            continue
        raw = (submitted[spec.key] or "").strip()
        if not raw:
            if spec.key in REQUIRED_TEXT:
                problems[spec.key] = f"{spec.label} can't be empty."
            continue  # an empty input leaves the field as it is
        value, problem = _typed(spec, raw)
        if problem:
            problems[spec.key] = problem
        elif not _same(spec, value):
            changes[spec.key] = value
    return EditReading(changes, problems)


def _typed(spec: EditableField, raw: str) -> tuple[Any, str | None]:
    if spec.type in ("number", "integer"):
        try:
            number = float(raw)
        except ValueError:
            return None, "Type a number."
        if not math.isfinite(number) or number < 0:
            return None, "Type a number of 0 or more."
        if spec.type == "integer":
            return (int(number), None) if number.is_integer() and number >= 1 else (None, "Type a whole number.")
        return number, None
    if spec.type == "enum":
        return (raw, None) if raw in spec.choices else (None, "Pick one of the choices.")
    if spec.type == "array":
        return list(dict.fromkeys(item.strip() for item in raw.split(",") if item.strip())), None
    return raw, None


def _same(spec: EditableField, value: Any) -> bool:
    current = spec.value
    if spec.type in ("number", "integer") and isinstance(current, (int, float)) and not isinstance(current, bool):
        return float(current) == float(value)
    if spec.type == "array" and isinstance(current, list):
        return [str(item) for item in current] == list(value)
    return bool(current == value)


class JobChanges:
    def __init__(self, redis: Redis, namespace: str, accounts: Accounts, authorizer: Authorizer,
                 engine: HiringEngine):
        self._redis = redis
        self._namespace = namespace
        self._accounts = accounts
        self._authz = authorizer
        self._engine = engine  # takes a job moderation unpublished back to its review card

    async def job_for(self, action: Action, workspace_id: str, user_id: str, job_id: str) -> JobRecord | Words:
        """The job's record when it is this workspace's and `user_id` may do `action` to it now; else the refusal."""
        record = await lookup_job(self._redis, self._namespace, job_id) if is_opentrain_id(job_id) else None
        if record is None or record.workspace_id != workspace_id:
            return NOT_THIS_WORKSPACE
        if refused := await self._authz.refusal(Attempt(action, workspace_id, user_id, record.requester)):
            return refused
        return record

    # ---- edit

    async def edit_form(self, workspace_id: str, user_id: str, job_id: str) -> EditForm | Words:
        record = await self.job_for(Action.EDIT_JOB, workspace_id, user_id, job_id)
        if not isinstance(record, JobRecord):
            return record
        enums = dict(DOCUMENTED_ENUMS)
        try:  # cached for an hour; bounded, since a modal submission must be answered within 3 s
            enums.update((await asyncio.wait_for(self._accounts.capabilities(workspace_id), PROBE_WAIT_SECONDS)).enums)
        except (AccountProblem, errors.OpenTrainError, TimeoutError) as exc:  # the documented values will do
            log.info("no capabilities for the edit form (%s)", type(exc).__name__)
        fields = tuple(EditableField(key, label, DOCUMENTED_KEY_TYPES[key], record.fields.get(key),
                                     tuple(enums.get(key, ())))
                       for key, label in EDITABLE)
        return EditForm(job_id, _title(record), fields)

    async def edit(self, workspace_id: str, user_id: str, job_id: str, changes: dict[str, Any]) -> EditOutcome:
        record = await self.job_for(Action.EDIT_JOB, workspace_id, user_id, job_id)
        if not isinstance(record, JobRecord):
            return EditOutcome(record, applied=False)
        if not changes:
            return EditOutcome(("Nothing to change: every field is as it was.",), applied=False)
        title = str(changes.get("jobTitle") or _title(record))
        try:
            client = await self._accounts.client_for(workspace_id)
        except (AccountProblem, errors.OpenTrainError) as exc:  # no account to edit with: nothing was sent
            return EditOutcome((f"The edit didn't go through. {wording.refusal(exc)}",), applied=False)
        try:
            await client.edit_job(job_id, changes)
        except errors.Conflict as exc:
            if not exc.moderation_blocked:
                return EditOutcome((wording.edit_refusal(exc),), applied=False)
            await update_fields(self._redis, self._namespace, job_id, changes)
            reopened = await self._reopen(record, {**record.fields, **changes})
            how = REVIEW_AGAIN if reopened else _fix_on_opentrain(client.links.draft_page(job_id))
            reasons = exc.moderation_reasons or [exc.message]
            return EditOutcome(_unpublished(("Your edit to ", Strong(title)), reasons, how),
                               applied=True, unpublished=True, record=record, reopened=reopened,
                               for_thread=_unpublished(("An edit by ", Mention(user_id), " to ", Strong(title)),
                                                       reasons, how))
        except errors.OpenTrainError as exc:
            if isinstance(exc, (errors.TransportError, errors.ServerError)):
                log.warning("the edit of job %s may not have gone through: %s", job_id, type(exc).__name__)
            return EditOutcome((wording.edit_refusal(exc),), applied=False)
        await update_fields(self._redis, self._namespace, job_id, changes)
        return EditOutcome(("Saved your changes to ", Strong(title), " on OpenTrain; it stays open for proposals."),
                           applied=True, record=record)

    async def _reopen(self, record: JobRecord, fields: dict[str, Any]) -> Reply | None:
        """The job's conversation back at its review card, or None when it cannot go there now."""
        try:
            reply = await self._engine.reopen(record.ref, job_id=record.job_id, requester=record.requester,
                                              fields=fields, job_url=record.job_url)
        except errors.OpenTrainError as exc:  # its record had expired and could not be made again
            log.warning("cannot reopen the conversation of job %s: %s", record.job_id, type(exc).__name__)
            return None
        return reply if reply.state is State.REVIEW else None

    # ---- invite

    async def profile_slug(self, workspace_id: str, given: str) -> str | None:
        """The slug or id a profile link or bare slug names (the link policy of this workspace's OpenTrain)."""
        client = await self._accounts.client_for(workspace_id)
        return client.links.profile_slug(given)

    async def trainer(self, workspace_id: str, user_id: str, job_id: str, given: str) -> TrainerCard | BadInput | Words:
        """The trainer a profile link or slug names, for the person to confirm; BadInput when it names none."""
        record = await self.job_for(Action.INVITE_TRAINER, workspace_id, user_id, job_id)
        if not isinstance(record, JobRecord):
            return record
        try:
            client = await self._accounts.client_for(workspace_id)
            slug = client.links.profile_slug(given)
            if slug is None:
                return BadInput(wording.NOT_A_PROFILE)
            found = await client.get_freelancer(slug)
        except errors.NotFound:
            return BadInput(wording.NO_SUCH_TRAINER)
        except (AccountProblem, errors.OpenTrainError) as exc:
            return (f"I couldn't look that trainer up. {wording.refusal(exc)}",)
        return TrainerCard(freelancer_id=found.id, name=found.name, title=found.title, country=found.country,
                           hourly_rate_usd=found.hourly_rate_usd, job_success_score=found.stats.job_success_score,
                           review_count=found.stats.review_count, average_rating=found.stats.average_rating,
                           identity_verified=found.identity_verified, profile_url=found.profile_url)

    async def invite(self, workspace_id: str, user_id: str, job_id: str, freelancer_id: str) -> Words:
        """Invite the trainer the person confirmed; their name is read again from OpenTrain, never from the hint."""
        record = await self.job_for(Action.INVITE_TRAINER, workspace_id, user_id, job_id)
        if not isinstance(record, JobRecord):
            return record
        if not is_opentrain_id(freelancer_id):
            return (wording.NO_SUCH_TRAINER,)
        name = "The trainer"
        try:
            client = await self._accounts.client_for(workspace_id)
            name = (await client.get_freelancer(freelancer_id)).name
            invited = await client.invite(job_id, freelancer_id)
        except AccountProblem as exc:
            return (f"The invite wasn't sent. {wording.refusal(exc)}",)
        except errors.OpenTrainError as exc:
            return (wording.invite_refusal(exc, name),)
        if invited.already_invited:
            return (Strong(name), " was already invited to ", Strong(_title(record)), "; nothing was sent twice.")
        return ("Invited ", Strong(name), " to ", Strong(_title(record)), ": OpenTrain sends them the invitation, and "
                "their proposal will show up with the others.")


def _title(record: JobRecord) -> str:
    return str(record.fields.get("jobTitle") or "this job")


REVIEW_AGAIN: Words = ("To fix it: its review card is back in the job's thread; type `edit <field>` there to change "
                       "what the reasons name, then `publish`.",)


def _fix_on_opentrain(draft_url: str) -> Words:
    return ("To fix it: change what the reasons name in ", Link(draft_url, "the draft on OpenTrain"),
            " and publish it again there.")


def _unpublished(subject: Words, reasons: list[str], how: Words) -> Words:
    why = "".join(f"\n• {reason}" for reason in reasons)
    return (*subject, " was applied, but OpenTrain's moderation blocked it, so the job is back to a draft and takes "
            f"no proposals until it is published again. Why:{why}\n", *how)
