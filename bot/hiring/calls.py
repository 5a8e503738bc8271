"""The OpenTrain calls a conversation step makes, and what each outcome does to the conversation.

Each call returns a `Decision` (views and the state to move to); `Calls.run` moves the conversation through the
table, which checks the outcome against the call's row. A refusal any call can meet becomes words through
`wording.refusal`; the ones particular to a call are worded here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from bot.hiring import jobs, wording
from bot.hiring.accounts import Accounts
from bot.hiring.authz import Authorizer, Role
from bot.hiring.claim import ClaimService
from bot.hiring.decisions import Decision, ask_next
from bot.hiring.limits import Limits
from bot.hiring.questions import review_card
from bot.hiring.record import CallArgs, Conversation, Failure, Report
from bot.hiring.report import read_report
from bot.hiring.states import IllegalTransition, Op, State
from bot.hiring.table import CALLS, move
from bot.hiring.views import EmailRequest, Notice, Published, View
from bot.infra.scheduler import Scheduler
from bot.infra.storage import Redis
from bot.opentrain import errors
from bot.opentrain.models import DraftReport

log = logging.getLogger(__name__)

CallHandler = Callable[[Conversation, CallArgs], Awaitable[Decision]]


class Calls:
    def __init__(self, redis: Redis, namespace: str, accounts: Accounts, claims: ClaimService, scheduler: Scheduler,
                 authorizer: Authorizer, limits: Limits, *, clock: Callable[[], float] = time.time):
        self._redis = redis
        self._namespace = namespace
        self._accounts = accounts
        self._claims = claims
        self._scheduler = scheduler
        self._authz = authorizer
        self._limits = limits
        self._clock = clock
        self._handlers: dict[Op, CallHandler] = {
            Op.CREATE: self._create, Op.PATCH: self._patch, Op.PUBLISH: self._publish,
            Op.CLAIM_START: self._claim_start,
        }

    async def run(self, conversation: Conversation) -> list[View]:
        """Make the pending call and apply its outcome to `conversation` (the caller saves it)."""
        pending = conversation.pending
        assert pending is not None
        if conversation.state != CALLS[pending.op].runs_in:
            # The conversation moved on meanwhile (the claim poll finished first, say): the call no longer applies.
            # Dropped whole, never left pending to fail again at every message.
            log.info("%s in %s no longer applies (%s)", pending.op, conversation.conversation_id, conversation.state)
            views: list[View] = [Notice(wording.no_longer_applies(conversation.state))]
        else:
            views = await self._outcome(conversation, pending.op, pending.args)
        conversation.pending = None
        conversation.mark_processed(pending.message_id)
        conversation.updated_at = self._clock()
        return views

    async def _outcome(self, conversation: Conversation, op: Op, args: CallArgs) -> list[View]:
        before = conversation.model_copy(deep=True)
        try:
            decision = await self._handlers[op](conversation, args)
        except (wording.Explained, errors.OpenTrainError) as exc:
            decision = await self._failed(conversation, op, exc)
        if decision.to is None:
            return decision.views
        try:
            move(conversation, decision.to, by=op)
        except IllegalTransition:
            log.exception("the outcome of %s in %s is not in the table", op, conversation.conversation_id)
            for name in Conversation.model_fields:
                setattr(conversation, name, getattr(before, name))
            return [Notice(wording.no_longer_applies(conversation.state))]
        return decision.views

    async def _failed(self, conversation: Conversation, op: Op, exc: Exception) -> Decision:
        if isinstance(exc, errors.FeatureDisabled):
            await self._refresh_capabilities(conversation.workspace_id)
        reason = wording.refusal(exc)
        if op is Op.PATCH:
            # An answer that did not go through: say why and ask again; the draft is unchanged.
            step = ask_next(conversation)
            return Decision([Notice(reason, "error"), *step.views], to=step.to)
        if op is Op.PUBLISH:
            return Decision([Notice(f"Not published: {reason} The draft is unchanged.", "error"),
                             review_card(conversation)], to=State.REVIEW)
        conversation.failure = Failure(reason=reason, retry=op)
        return Decision([Notice(f"{reason} Type `retry` to try again.", "error")], to=State.FAILED)

    async def _refresh_capabilities(self, workspace_id: str) -> None:
        try:
            await self._accounts.capabilities(workspace_id, refresh=True)
        except errors.OpenTrainError:
            await self._accounts.forget_capabilities(workspace_id)

    # ---- the calls

    async def _create(self, conversation: Conversation, _: CallArgs) -> Decision:
        workspace = conversation.workspace_id
        await self._accounts.check_ready(workspace, scope="jobs:write", capability="draftCreate")
        capabilities = await self._accounts.capabilities(workspace)
        client = await self._accounts.client_for(workspace)
        if conversation.source is not None:
            report = await client.create_draft_from(conversation.source.format, conversation.source.payload,
                                                    idempotency_key=conversation.idempotency_key)
        else:
            report = await client.create_draft(conversation.description,
                                               idempotency_key=conversation.idempotency_key)
        probed = Report(enums=capabilities.enums, update_keys=capabilities.update_keys)
        conversation.report = read_report(report, probed)
        conversation.job_id = conversation.report.job_id
        conversation.failure = None
        return ask_next(conversation)

    async def _patch(self, conversation: Conversation, args: CallArgs) -> Decision:
        assert conversation.job_id is not None and args.field is not None
        client = await self._accounts.client_for(conversation.workspace_id)
        try:
            report = await client.update_draft(conversation.job_id, args.fields)
        except errors.BadRequest as exc:
            conversation.partial = {}
            step = ask_next(conversation)
            return Decision([Notice(f"OpenTrain didn't accept that: {wording.api_refusal(exc)}", "error"),
                             *step.views], to=step.to)
        conversation.report = read_report(report, conversation.report, sent=args.fields)
        if args.field not in conversation.answered:
            conversation.answered.append(args.field)
        if args.field in conversation.report.low_confidence and args.field not in conversation.confirmed:
            conversation.confirmed.append(args.field)
        conversation.reask, conversation.partial = None, {}
        return ask_next(conversation)

    async def _publish(self, conversation: Conversation, _: CallArgs) -> Decision:
        workspace, job_id = conversation.workspace_id, conversation.job_id
        assert job_id is not None
        if (limited := await self._limits.publish_refusal(workspace, conversation.requester, job_id)) is not None:
            return Decision([Notice(limited, "error")], to=State.REVIEW)
        await self._accounts.check_ready(workspace, scope="jobs:write", capability="publish")
        client = await self._accounts.client_for(workspace)
        try:
            result = await client.publish(job_id)
        except errors.ModerationBlocked as exc:
            reasons = exc.reasons or [exc.message]
            return Decision([Notice("OpenTrain's moderation blocked this job:\n" + "\n".join(f"• {r}" for r in reasons)
                                    + "\nEdit the draft and publish again.", "error"), review_card(conversation)],
                            to=State.REVIEW)
        except errors.RateLimited as exc:
            return Decision([Notice(f"Not published: {exc.message} The draft is kept; type `publish` later.",
                                    "error")], to=State.REVIEW)
        except errors.NotPublishReady as exc:
            # The refusal carries only the draft's validation and gaps: the flags and the rest carry over.
            refused = DraftReport(job_id=job_id, validation=exc.validation, missing_fields=exc.missing_fields)
            conversation.report = read_report(refused, conversation.report)
            step = ask_next(conversation)
            return Decision([Notice("OpenTrain says the draft still needs something.", "error"), *step.views],
                            to=step.to)
        conversation.job_url = result.job_url
        await self._limits.published(workspace, conversation.requester, job_id)
        await jobs.record_job(self._redis, self._namespace, jobs.JobRecord(
            job_id=job_id, workspace_id=workspace, ref=conversation.ref, requester=conversation.requester,
            surface=conversation.surface, job_url=conversation.job_url, fields=dict(conversation.report.normalized)))
        await self._scheduler.schedule(jobs.LEDGER_KIND, workspace)
        published = Published(job_id=job_id, job_url=conversation.job_url,
                              already_published=result.already_published, warnings=list(result.warnings))
        return await self._offer_claim(conversation, published)

    async def _offer_claim(self, conversation: Conversation, published: Published) -> Decision:
        """A published job can be hired from once a human owns the account. Only an account admin may hand it over:
        one who published is asked (in their DM) who should own it; anyone else hears who can do it."""
        workspace = conversation.workspace_id
        if await self._accounts.is_claimed(workspace):
            return Decision([published], to=State.PUBLISHED)
        if await self._claims.live(workspace) is not None:
            return Decision([published, Notice(wording.CLAIM_UNDER_WAY)], to=State.PUBLISHED)
        if not await self._authz.holds_any(frozenset({Role.ACCOUNT_ADMIN}), workspace, conversation.requester,
                                           conversation.requester):
            return Decision([published, Notice(wording.CLAIM_BY_ADMIN)], to=State.PUBLISHED)
        return Decision([published, EmailRequest(wording.CLAIM_OFFER)], to=State.CLAIM_PENDING)

    async def _claim_start(self, conversation: Conversation, args: CallArgs) -> Decision:
        assert args.email is not None
        if (live := await self._claims.live(conversation.workspace_id)) is not None:
            # Restarting or redirecting now would kill a code a human may be typing: wait for it to lapse.
            return Decision([Notice(wording.claim_live(live))])
        claim = await self._claims.start(conversation.workspace_id, args.email, conversation.ref)
        if claim.state == "needs_email":
            return Decision([EmailRequest(claim.message or "Which other email?", reason="email_already_registered")])
        if claim.state == "failed":
            conversation.failure = Failure(reason=claim.message)
            return Decision([claim], to=State.FAILED)
        if claim.state == "claimed":
            return Decision([claim], to=State.CLAIMED)
        return Decision([claim])
