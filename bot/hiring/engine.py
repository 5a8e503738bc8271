"""The hiring conversation: from a plain-English description to a published job and a claimed account.

Every step reads the conversation from Redis, decides, and writes it back with a version check, so any process can
take the next message and two processes never both apply one. A step that calls OpenTrain first records the call as
`pending` (that write is the lock), makes the call, then records the outcome. A process that dies in between leaves
the pending call behind; after a lease the next message (or a redelivery of the same one) replays it, which is safe
because every call it can replay is idempotent (create with `idempotencyKey`, PATCH with the same values, publish,
claim restart).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.hiring import jobs
from bot.hiring.accounts import AccountProblem, Accounts
from bot.hiring.answers import Accepted, enum_label, parse_answer
from bot.hiring.claim import ClaimObserver, ClaimService
from bot.hiring.report import read_report
from bot.hiring.store import Conversation, ConversationRef, ConversationStore
from bot.hiring.wording import refusal
from bot.hiring.views import (EmailRequest, Notice, Published, Question, Reply, ReviewCard,
                              ReviewField, Status, UnmappedField, View)
from bot.opentrain import errors
from bot.opentrain.client import OpenTrainClient
from bot.opentrain.fields import DOCUMENTED_KEY_TYPES, MAX_RAW_DESCRIPTION_CHARS
from bot.opentrain.models import DraftReport
from bot.infra.secretbox import SecretBox

__all__ = ["HiringEngine", "ConversationRef", "ClaimObserver", "IllegalTransition"]

log = logging.getLogger(__name__)

SAVE_ATTEMPTS = 5
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ACTIVE_STATES = {"drafting", "asking", "review", "publishing", "failed"}

# Every legal move; anything else is refused before a single byte is written.
TRANSITIONS: dict[str, set[str]] = {
    "drafting": {"asking", "review", "failed", "cancelled", "expired"},
    "asking": {"asking", "review", "failed", "cancelled", "expired"},
    "review": {"asking", "review", "publishing", "failed", "cancelled", "expired"},
    "publishing": {"review", "asking", "published", "claim_pending", "failed"},
    "published": {"claim_pending"},
    "claim_pending": {"claim_pending", "claimed", "failed"},
    "failed": {"drafting", "asking", "review", "publishing", "claim_pending", "cancelled", "expired"},
    "claimed": set(),
    "cancelled": set(),
    "expired": set(),
}

HELP = {
    "asking": "Answer the question, or type `back` (change your previous answer), `status`, `cancel`.",
    "review": ("Type `publish` to post the job, `edit <field>` to change a field, `confirm <field>` for each "
               "flagged field, `back`, `status`, or `cancel`."),
    "claim_pending": "Type the email that should own the OpenTrain account, `restart` for a new claim code, or `status`.",
    "failed": "Type `retry` to try the last step again, `status`, or `cancel`.",
}
FINISHED = "This hiring conversation is {state}. Start a new one with `/hire <description>`."


class IllegalTransition(Exception):
    pass


@dataclass
class Decision:
    """What one message does: views to show now and, optionally, one OpenTrain call to make."""

    views: list[View] = field(default_factory=list)
    call: tuple[str, dict[str, Any]] | None = None
    save: bool = True


def move(conversation: Conversation, state: str) -> None:
    if state not in TRANSITIONS[conversation.state]:
        raise IllegalTransition(f"can't go from {conversation.state} to {state}")
    conversation.state = state


def description_refusal(text: str) -> str | None:
    """Why OpenTrain would refuse this job description outright, before anything is posted or sent."""
    if len(text) > MAX_RAW_DESCRIPTION_CHARS:
        return (f"That description is {len(text):,} characters; OpenTrain accepts at most "
                f"{MAX_RAW_DESCRIPTION_CHARS:,}. Please shorten it and try again.")
    return None


def humanize(name: str) -> str:
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
    return words[:1].upper() + words[1:]


def display(value: Any, enum_values: set[str] = frozenset()) -> str:
    """A field value as a person reads it: enum values by their label, lists joined."""
    if isinstance(value, list):
        return ", ".join(display(v, enum_values) for v in value) or "—"
    if isinstance(value, str) and value in enum_values:
        return enum_label(value)
    return "—" if value is None or value == "" else str(value)


def api_refusal(exc: errors.BadRequest) -> str:
    """The API's message plus what each validation issue says, e.g. "... (jobTitle: at most 200 characters)"."""
    issues = [issue for issue in exc.issues if isinstance(issue, dict) and issue.get("message")]
    said = "; ".join(f"{'.'.join(map(str, issue.get('path') or []))}: {issue['message']}".lstrip(": ")
                     for issue in issues)
    return f"{exc.message} ({said})" if said else exc.message


def idempotency_key(ref: ConversationRef, message_id: str) -> str:
    digest = hashlib.sha256(f"{ref.workspace_id}|{ref.conversation_id}|{message_id}".encode()).hexdigest()
    return f"hirebot-{digest[:32]}"


class HiringEngine:
    def __init__(self, redis, namespace: str, accounts: Accounts, scheduler, *, idle_seconds: int = 7 * 24 * 3600,
                 allow_anyone_to_answer: bool = False, pending_lease_seconds: float = 60.0,
                 clock: Callable[[], float] = time.time):
        self._redis = redis
        self._namespace = namespace
        self._accounts = accounts
        self._scheduler = scheduler
        self._idle = idle_seconds
        self._anyone = allow_anyone_to_answer
        self._lease = pending_lease_seconds
        self._clock = clock
        self.store = ConversationStore(redis, namespace, idle_seconds)
        self.claims = ClaimService(redis, namespace, accounts, self.store, scheduler, clock=clock)

    @classmethod
    def from_settings(cls, settings, redis, scheduler, *, http=None) -> "HiringEngine":
        base = OpenTrainClient(settings.opentrain_url, http=http, timeout=settings.opentrain_timeout_seconds)
        app_token = settings.opentrain_api_token.get_secret_value() if settings.opentrain_api_token else None
        accounts = Accounts(redis, settings.redis_namespace, base, SecretBox.from_settings(settings),
                            app_token=app_token)
        return cls(redis, settings.redis_namespace, accounts, scheduler,
                   idle_seconds=settings.conversation_idle_seconds,
                   allow_anyone_to_answer=settings.allow_anyone_to_answer)

    @property
    def accounts(self) -> Accounts:
        return self._accounts

    def add_claim_observer(self, observer: ClaimObserver) -> None:
        self.claims.add_observer(observer)

    def register_workers(self, scheduler) -> None:
        self.claims.register(scheduler)

    # ---- public entry points

    async def start(self, ref: ConversationRef, user_id: str, message_id: str, text: str, *,
                    surface: dict | None = None) -> Reply:
        description = text.strip()

        def decide(existing: Conversation | None) -> tuple[Conversation | None, Decision]:
            if existing is not None and existing.state in ACTIVE_STATES | {"claim_pending"}:
                return existing, Decision([Notice("There's already a hiring conversation here; "
                                                  "type `status` to see it or `cancel` to stop it.")])
            if not description:
                return existing, Decision([Notice("Tell me about the job: `/hire <what you need>`.", "error")],
                                          save=False)
            if refusal := description_refusal(description):
                return existing, Decision([Notice(refusal, "error")], save=False)
            now = self._clock()
            conversation = Conversation(
                workspace_id=ref.workspace_id, conversation_id=ref.conversation_id, requester=user_id,
                state="drafting", created_at=now, updated_at=now, description=description,
                idempotency_key=idempotency_key(ref, message_id), surface=dict(surface or {}),
                version=existing.version if existing else 0)
            return conversation, Decision([], call=("create", {}))

        return await self._transact(ref, user_id, message_id, decide, fresh_start=True)

    async def handle(self, ref: ConversationRef, user_id: str, message_id: str, text: str) -> Reply:
        if text.strip().lower() == "status":
            return await self.status(ref)  # read-only: nothing to dedupe

        def decide(conversation: Conversation | None) -> tuple[Conversation | None, Decision]:
            if conversation is None:
                return None, Decision([Notice("There's no hiring conversation here. "
                                              "Start one with `/hire <description>`.")], save=False)
            return conversation, self._decide(conversation, text.strip())

        return await self._transact(ref, user_id, message_id, decide)

    async def status(self, ref: ConversationRef) -> Reply:
        conversation = await self.store.load(ref)
        if conversation is None:
            return Reply([Notice("There's no hiring conversation here.")], "none")
        return Reply(await self._status_views(conversation), conversation.state)

    async def set_surface(self, ref: ConversationRef, surface: dict) -> None:
        for _ in range(SAVE_ATTEMPTS):
            conversation = await self.store.load(ref)
            if conversation is None:
                return
            conversation.surface = {**conversation.surface, **surface}
            if await self.store.save(conversation):
                return

    # ---- the step machinery

    async def _transact(self, ref, user_id, message_id, decide, *, fresh_start: bool = False) -> Reply:
        recovered: list[View] = []
        for _ in range(SAVE_ATTEMPTS):
            conversation = await self.store.load(ref)
            if conversation is not None:
                if message_id in conversation.processed:
                    # Already applied; unless this very delivery just finished what a dead process left.
                    return Reply(recovered, conversation.state, duplicate=not recovered)
                if conversation.pending:
                    if self._clock() - conversation.pending["started_at"] < self._lease:
                        if conversation.pending["message_id"] == message_id:
                            return Reply([], conversation.state, duplicate=True)
                        return Reply([Notice("I'm still working on the previous message; "
                                             "send yours again in a moment.")], conversation.state)
                    # A dead process left its call pending: replay it, even for a redelivery of its own message.
                    recovered = await self._recover(conversation)
                    continue
                if conversation.state in ACTIVE_STATES and self._clock() - conversation.updated_at > self._idle:
                    conversation.state = "expired"
                    await self.store.save(conversation)
                if conversation.state == "expired" and not fresh_start:
                    return Reply([Notice("This hiring conversation expired after being idle. "
                                         "Start again with `/hire <description>`.")], "expired")
                if (not fresh_start and not self._anyone and user_id != conversation.requester
                        and conversation.state not in ("cancelled", "claimed")):
                    return Reply([Notice(f"Only <@{conversation.requester}> can answer this one.")],
                                 conversation.state)
            try:
                conversation, decision = decide(conversation)
            except IllegalTransition as exc:
                return Reply([Notice(f"That isn't possible right now ({exc}).", "error")],
                             conversation.state if conversation else "none")
            if conversation is None or not decision.save:
                return Reply(recovered + decision.views, conversation.state if conversation else "none")
            conversation.updated_at = self._clock()
            if decision.call is None:
                conversation.mark_processed(message_id)
                if await self.store.save(conversation):
                    return Reply(recovered + decision.views, conversation.state)
                continue
            op, args = decision.call
            conversation.pending = {"op": op, "args": args, "message_id": message_id,
                                    "started_at": self._clock()}
            if not await self.store.save(conversation):
                continue
            views = recovered + decision.views + await self._execute(conversation)
            if await self.store.save(conversation):
                return Reply(views, conversation.state)
            return Reply(views + [Notice("Someone else changed this conversation meanwhile; type `status`.")],
                         conversation.state)
        return Reply([Notice("This conversation is busy; please send that again.", "error")], "busy")

    async def _recover(self, conversation: Conversation) -> list[View]:
        """Replay the call a dead process left pending (safe: every call it can make is idempotent)."""
        log.info("replaying %s left pending in %s", conversation.pending["op"], conversation.conversation_id)
        conversation.pending["started_at"] = self._clock()
        if not await self.store.save(conversation):
            return []
        views = await self._execute(conversation)
        await self.store.save(conversation)
        return [Notice("Picking up where we left off."), *views]

    async def _execute(self, conversation: Conversation) -> list[View]:
        """Make the pending call and apply its outcome to `conversation` (the caller saves it)."""
        pending = conversation.pending
        handler = {"create": self._create, "patch": self._patch, "publish": self._publish,
                   "claim_start": self._claim_start}[pending["op"]]
        before = copy.deepcopy(conversation)
        try:
            views = await handler(conversation, pending["args"])
        except (AccountProblem, errors.OpenTrainError) as exc:
            views = await self._fail(conversation, pending["op"], exc)
        except IllegalTransition as exc:
            # The conversation moved on meanwhile (e.g. the claim poller finished first): drop the outcome whole,
            # never leave the call pending to fail again at every message.
            log.info("%s in %s no longer applies (%s)", pending["op"], conversation.conversation_id, exc)
            vars(conversation).update(vars(before))
            views = [Notice(f"That no longer applies: this conversation is {conversation.state.replace('_', ' ')}.")]
        conversation.pending = None
        conversation.mark_processed(pending["message_id"])
        conversation.updated_at = self._clock()
        return views

    async def _fail(self, conversation: Conversation, op: str, exc: Exception) -> list[View]:
        reason = await self._plain_error(conversation.workspace_id, exc)
        if op == "patch" and conversation.state in ("asking", "review"):
            # An answer that did not go through: say why and ask again; the draft is unchanged.
            return [Notice(reason, "error"), *self._next_views(conversation)]
        if op == "publish":
            move(conversation, "review")
            return [Notice(f"Not published: {reason} The draft is unchanged.", "error"), self._review(conversation)]
        move(conversation, "failed")
        conversation.failure = {"reason": reason, "retry": op}
        return [Notice(f"{reason} Type `retry` to try again.", "error")]

    async def _plain_error(self, workspace_id: str, exc: Exception) -> str:
        if isinstance(exc, errors.FeatureDisabled):
            await self._refresh_capabilities(workspace_id)
        return refusal(exc)

    async def _refresh_capabilities(self, workspace_id: str) -> None:
        try:
            await self._accounts.capabilities(workspace_id, refresh=True)
        except errors.OpenTrainError:
            await self._accounts.forget_capabilities(workspace_id)

    # ---- the calls

    async def _create(self, conversation: Conversation, _args: dict) -> list[View]:
        workspace = conversation.workspace_id
        await self._accounts.check_ready(workspace, scope="jobs:write", capability="draftCreate")
        capabilities = await self._accounts.capabilities(workspace)
        client = await self._accounts.client_for(workspace)
        report = await client.create_draft(conversation.description, idempotency_key=conversation.idempotency_key)
        conversation.report = {**read_report(report), "enums": capabilities["enums"],
                               "update_keys": capabilities["update_keys"], "known": {}}
        conversation.job_id = conversation.report["job_id"]
        conversation.failure = None
        return self._after_report(conversation)

    async def _patch(self, conversation: Conversation, args: dict) -> list[View]:
        client = await self._accounts.client_for(conversation.workspace_id)
        fields = args["fields"]
        try:
            report = await client.update_draft(conversation.job_id, fields)
        except errors.BadRequest as exc:
            conversation.partial = {}
            return [Notice(f"OpenTrain didn't accept that: {api_refusal(exc)}", "error"),
                    *self._next_views(conversation)]
        self._take_report(conversation, report, sent=fields)
        name = args["field"]
        if name not in conversation.answered:
            conversation.answered.append(name)
        if name in conversation.report["low_confidence"] and name not in conversation.confirmed:
            conversation.confirmed.append(name)
        conversation.reask, conversation.partial = None, {}
        return self._after_report(conversation)

    async def _publish(self, conversation: Conversation, _args: dict) -> list[View]:
        workspace = conversation.workspace_id
        await self._accounts.check_ready(workspace, scope="jobs:write", capability="publish")
        client = await self._accounts.client_for(workspace)
        try:
            result = await client.publish(conversation.job_id)
        except errors.ModerationBlocked as exc:
            reasons = (exc.details or {}).get("reasons") or [exc.message]
            move(conversation, "review")
            return [Notice("OpenTrain's moderation blocked this job:\n" + "\n".join(f"• {r}" for r in reasons)
                           + "\nEdit the draft and publish again.", "error"), self._review(conversation)]
        except errors.RateLimited as exc:
            move(conversation, "review")
            return [Notice(f"Not published: {exc.message} The draft is kept; type `publish` later.", "error")]
        except errors.NotPublishReady as exc:
            # The refusal carries only the draft's validation and gaps: the flags and the rest carry over.
            self._take_report(conversation, DraftReport(job_id=conversation.job_id, validation=exc.validation,
                                                        missing_fields=exc.missing_fields))
            return [Notice("OpenTrain says the draft still needs something.", "error"),
                    *self._after_report(conversation)]
        conversation.job_url = result.job_url
        published = Published(job_id=conversation.job_id, job_url=conversation.job_url,
                               already_published=result.already_published, warnings=list(result.warnings))
        move(conversation, "published")
        await jobs.record_job(self._redis, self._namespace, jobs.JobRecord(
            job_id=conversation.job_id, workspace_id=workspace, ref=conversation.ref,
            requester=conversation.requester, surface=conversation.surface, job_url=conversation.job_url))
        await self._scheduler.schedule("ledger", workspace)
        return [published, *await self._offer_claim(conversation)]

    async def _offer_claim(self, conversation: Conversation) -> list[View]:
        workspace = conversation.workspace_id
        if await self._accounts.is_claimed(workspace):
            return []
        current = await self.claims.current(workspace)
        if current is not None and current.state == "waiting":
            return [Notice("Claiming this workspace's OpenTrain account is already under way.")]
        move(conversation, "claim_pending")
        return [EmailRequest("To hire from this job, a human must claim the bot's OpenTrain account. "
                             "Which email should own it? (It must not have an OpenTrain account yet.)")]

    async def _claim_start(self, conversation: Conversation, args: dict) -> list[View]:
        claim = await self.claims.start(conversation.workspace_id, args["email"], conversation.ref)
        if claim.state == "needs_email":
            return [EmailRequest(claim.message or "Which other email?", reason="email_already_registered")]
        if claim.state == "failed":
            move(conversation, "failed")
            conversation.failure = {"reason": claim.message, "retry": None}
        elif claim.state == "claimed" and conversation.state != "claimed":
            move(conversation, "claimed")
        return [claim]

    # ---- deciding what a message means

    def _decide(self, conversation: Conversation, text: str) -> Decision:
        word = text.lower()
        state = conversation.state
        if word == "help":
            return Decision([Notice(HELP.get(state, FINISHED.format(state=state)))])
        if word == "cancel":
            if state in ("drafting", "asking", "review", "failed"):
                move(conversation, "cancelled")
                return Decision([Notice("Cancelled." if conversation.job_url else "Cancelled. Nothing was published.")])
            return Decision([Notice("There's nothing to cancel: " + FINISHED.format(state=state))])
        if state == "asking":
            return self._decide_asking(conversation, text)
        if state == "review":
            return self._decide_review(conversation, text)
        if state == "failed":
            return self._decide_failed(conversation, word)
        if state == "claim_pending":
            return self._decide_claim(conversation, text)
        return Decision([Notice(FINISHED.format(state=state))])

    def _decide_asking(self, conversation: Conversation, text: str) -> Decision:
        word = text.lower()
        if word == "back":
            return self._go_back(conversation)
        if word.startswith("edit "):
            return self._edit(conversation, text[5:].strip())
        question = self._question(conversation)
        if question is None:
            move(conversation, "review")
            return Decision([self._review(conversation)])
        return self._answer(conversation, question, text)

    def _decide_review(self, conversation: Conversation, text: str) -> Decision:
        word = text.lower()
        if word == "publish":
            report = conversation.report
            unconfirmed = self._review(conversation).unconfirmed
            if unconfirmed:
                return Decision([Notice("Please confirm or correct first: " + ", ".join(
                    f"`{k}` (`confirm {k}` or `edit {k}`)" for k in unconfirmed), "error")])
            if not report.get("publish_ready", True) and report.get("missing"):
                move(conversation, "asking")
                return Decision(self._next_views(conversation))
            move(conversation, "publishing")
            return Decision([], call=("publish", {}))
        if word == "back":
            return self._go_back(conversation)
        if word.startswith("edit "):
            return self._edit(conversation, text[5:].strip())
        if word.startswith("confirm "):
            return self._confirm(conversation, text[8:].strip())
        return Decision([Notice(HELP["review"])])

    def _decide_failed(self, conversation: Conversation, word: str) -> Decision:
        retry = (conversation.failure or {}).get("retry")
        if word != "retry" or retry is None:
            reason = (conversation.failure or {}).get("reason") or "The last step failed."
            return Decision([Notice(f"{reason} " + (HELP["failed"] if retry else FINISHED.format(state="over")))])
        back_to = {"create": "drafting", "publish": "publishing", "patch": "asking", "claim_start": "claim_pending"}
        move(conversation, back_to[retry])
        args = {"email": conversation.claim_email} if retry == "claim_start" else {}
        if retry == "patch":
            return Decision(self._next_views(conversation))
        return Decision([], call=(retry, args))

    def _decide_claim(self, conversation: Conversation, text: str) -> Decision:
        if text.lower() == "restart":
            if not conversation.claim_email:
                return Decision([EmailRequest("Which email should own the OpenTrain account?")])
            return Decision([], call=("claim_start", {"email": conversation.claim_email}))
        if EMAIL_PATTERN.match(text):
            conversation.claim_email = text
            return Decision([], call=("claim_start", {"email": text}))
        return Decision([Notice(HELP["claim_pending"])])

    def _answer(self, conversation: Conversation, question: Question, text: str) -> Decision:
        values = [value for value, _ in question.choices]
        if question.choices and text.isdigit() and 1 <= int(text) <= len(values):
            text = values[int(text) - 1]
        outcome = parse_answer(question.type, text, enum_values=values or None, field=question.key)
        if not isinstance(outcome, Accepted):
            return Decision([Notice(outcome.reason, "error"), question])
        conversation.partial = {**conversation.partial, question.key: outcome.value}
        spec = self._spec(conversation, question.field)
        if any(k not in conversation.partial for k in spec["update_keys"]):
            return Decision(self._next_views(conversation))
        return Decision([], call=("patch", {"field": question.field, "fields": dict(conversation.partial)}))

    def _go_back(self, conversation: Conversation) -> Decision:
        answered = conversation.answered
        at = answered.index(conversation.reask) if conversation.reask in answered else len(answered)
        if at == 0:
            return Decision([Notice("There's no earlier answer to go back to."), *self._next_views(conversation)])
        conversation.reask, conversation.partial = answered[at - 1], {}
        move(conversation, "asking")
        return Decision(self._next_views(conversation))

    def _edit(self, conversation: Conversation, name: str) -> Decision:
        editable = self._editable(conversation)
        match = next((k for k in editable if k.lower() == name.lower()), None)
        if match is None:
            return Decision([Notice(f"I can't edit `{name}`. Fields: " + ", ".join(sorted(editable)), "error")])
        conversation.reask, conversation.partial = match, {}
        move(conversation, "asking")
        return Decision(self._next_views(conversation))

    def _confirm(self, conversation: Conversation, name: str) -> Decision:
        flagged = conversation.report.get("low_confidence", [])
        targets = flagged if name.lower() == "all" else [k for k in flagged if k.lower() == name.lower()]
        if not targets:
            return Decision([Notice(f"`{name}` isn't flagged for confirmation.", "error")])
        conversation.confirmed = sorted({*conversation.confirmed, *targets})
        return Decision([self._review(conversation)])

    # ---- questions and cards

    def _take_report(self, conversation: Conversation, report: DraftReport, sent: dict | None = None) -> None:
        previous = conversation.report
        known = {**previous.get("known", {}), **{m["field"]: m for m in previous.get("missing", [])}}
        fresh = read_report(report, previous, sent)
        conversation.report = {**fresh, "enums": previous.get("enums", {}),
                               "update_keys": previous.get("update_keys", []), "known": known}

    def _after_report(self, conversation: Conversation) -> list[View]:
        """After each API answer the fresh report is the truth: ask its next gap, or show the review card."""
        if self._question(conversation) is not None:
            move(conversation, "asking")
        else:
            move(conversation, "review")
        return self._next_views(conversation)

    def _next_views(self, conversation: Conversation) -> list[View]:
        question = self._question(conversation)
        if question is None:
            if conversation.state == "asking":
                move(conversation, "review")
            return [self._review(conversation)]
        return [question]

    def _spec(self, conversation: Conversation, name: str) -> dict[str, Any]:
        report = conversation.report
        for spec in report.get("missing", []):
            if spec["field"] == name:
                return spec
        if name in report.get("known", {}):
            return report["known"][name]
        return self._guess_spec(conversation, name)

    def _guess_spec(self, conversation: Conversation, name: str) -> dict[str, Any]:
        """A question for a field the API did not ask about (edit/back): type from the enums, the contract, or the value."""
        value = conversation.report.get("normalized", {}).get(name)
        enums = conversation.report.get("enums", {}).get(name)
        if enums:
            kind = "enum"
        elif name in DOCUMENTED_KEY_TYPES:
            kind = DOCUMENTED_KEY_TYPES[name]
        elif isinstance(value, list):
            kind = "array"
        elif isinstance(value, bool):
            kind = "boolean"
        elif isinstance(value, (int, float)):
            kind = "number"  # 18 may well be a rate: let the API say when it must be whole
        else:
            kind = "string"
        label = humanize(name)
        return {"field": name, "label": label, "prompt": f"What should the {label.lower()} be?", "type": kind,
                "enum_values": list(enums or []), "update_keys": [name], "example": None, "hint": None}

    def _question(self, conversation: Conversation) -> Question | None:
        report = conversation.report
        missing = report.get("missing", [])
        if conversation.reask:
            spec = self._spec(conversation, conversation.reask)
        elif missing:
            spec = missing[0]
        else:
            return None
        keys = spec["update_keys"] or [spec["field"]]
        key = next((k for k in keys if k not in conversation.partial), keys[-1])
        # One gap with several keys asks one question per key, each with the key's own type and choices.
        single = len(keys) == 1
        kind = spec["type"] if single else DOCUMENTED_KEY_TYPES.get(key, spec["type"])
        values = report.get("enums", {}).get(key) or (spec["enum_values"] if single else None) or []
        label = spec["label"] if single else f"{spec['label']} ({humanize(key).lower()})"
        current = report.get("normalized", {}).get(key)
        text = spec["prompt"]
        listed = f"({', '.join(values)})"
        if values and text.endswith(listed):  # the choices are shown as choices
            text = text[: -len(listed)].rstrip()
        return Question(
            field=spec["field"], key=key, label=label, text=text,
            type="enum" if values and kind in ("enum", "string") else kind,
            position=self._position(conversation, spec, keys.index(key)),
            hint=spec.get("hint"), example=spec.get("example"),
            choices=[(v, enum_label(v)) for v in values],
            current=None if current is None else display(current, set(values)))

    @staticmethod
    def _position(conversation: Conversation, spec: dict, key_index: int) -> str:
        """"2 of 5" over the questions of this conversation; "" for a field opened with `edit`."""
        answered = conversation.answered
        missing = [m for m in conversation.report.get("missing", []) if m["field"] not in answered]
        total = sum(len(m["update_keys"]) for m in missing) + len(answered)
        if spec["field"] in answered:
            return f"{answered.index(spec['field']) + 1 + key_index} of {total}"
        if conversation.reask:
            return ""
        return f"{len(answered) + 1 + key_index} of {total}"

    def _editable(self, conversation: Conversation) -> set[str]:
        report = conversation.report
        return {*report.get("update_keys", []), *report.get("normalized", {}), *report.get("known", {})}

    def _review(self, conversation: Conversation) -> ReviewCard:
        report = conversation.report
        flagged = set(report.get("low_confidence", []))
        labels = {name: spec["label"] for name, spec in report.get("known", {}).items()}
        enum_values = {v for values in report.get("enums", {}).values() for v in values}
        fields = [ReviewField(key=name, label=labels.get(name) or humanize(name), value=display(value, enum_values),
                              low_confidence=name in flagged, confirmed=name in conversation.confirmed)
                  for name, value in report.get("normalized", {}).items()]
        return ReviewCard(
            job_id=conversation.job_id or "", fields=fields, warnings=list(report.get("warnings", [])) +
            list(report.get("issues", [])),
            unmapped=[UnmappedField(**u) for u in report.get("unmapped", [])],
            review_url=report.get("review_url"), publish_ready=bool(report.get("publish_ready", True)),
            missing=[m["field"] for m in report.get("missing", [])])

    async def _status_views(self, conversation: Conversation) -> list[View]:
        card = self._review(conversation) if conversation.report else None
        views: list[View] = [Status(state=conversation.state, job_id=conversation.job_id,
                                    fields=card.fields if card else [], missing=card.missing if card else [])]
        if conversation.state == "claim_pending":
            claim = await self.claims.current(conversation.workspace_id)
            if claim is not None:
                views.append(claim)
        return views
