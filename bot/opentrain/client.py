"""OpenTrainClient: one async method per OpenTrain endpoint the bot uses, typed in and out.

Agent auth lives at `{base}/api/agent/...` (token endpoint and revoke are form-encoded, OAuth error shape); the
public API at `{base}/api/public/v1/...` (JSON, public error envelope). Every client derived with `with_token`
shares one httpx.AsyncClient and so one connection pool.

Everything OpenTrain answers is data. Ids the bot shows or links to are checked when an answer is read
(`models.OpenTrainId`); every URL in an answer (job, draft and review pages, the claim's `verification_uri`, approval
and billing links) passes the one link policy (`links.LinkPolicy`) here, so callers only ever see trusted URLs or
None, or the page the client built from an id instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from bot.opentrain.errors import OpenTrainError
from bot.opentrain.links import OPENTRAIN_APP_URL, LinkPolicy, is_opentrain_id, is_user_code
from bot.opentrain.models import (
    Approval,
    ApprovalEnvelope,
    AuthMe,
    Capabilities,
    ClaimGrant,
    ClaimStart,
    CloseResult,
    Contract,
    ContractEnded,
    ConversationOpened,
    Credits,
    DraftReport,
    Freelancer,
    HireApproval,
    Invited,
    JobEdited,
    MessageSent,
    MessagesPage,
    Milestone,
    MyJob,
    Proposal,
    ProposalDetail,
    PublishResult,
    Registration,
    UpdatesPage,
    Webhook,
    WebhookCreated,
)
from bot.opentrain.transport import RetryPolicy, Transport

USER_AGENT = "hirebot/0.1"
CLAIM_GRANT_TYPE = "urn:opentrain:agent-auth:grant-type:claim"
# Structured import formats -> the body key holding their payload (contract §2.4.2, shape C).
IMPORT_PAYLOAD_KEYS = {"opentrain_canonical": "job", "schema_org_job_posting": "jsonLd", "indeed_xml": "xml",
                       "hr_xml": "xml"}

# Links an error's `details` may carry (contract §4.1); each passes the link policy or is dropped.
ERROR_LINK_KEYS = ("billingUrl", "claimUrl")

Model = TypeVar("Model", bound=BaseModel)


class OpenTrainClient:
    def __init__(self, base_url: str, token: str | SecretStr | None = None, *, http: httpx.AsyncClient | None = None,
                 timeout: float = 30.0, max_attempts: int = 3, policy: RetryPolicy | None = None,
                 app_url: str = OPENTRAIN_APP_URL) -> None:
        self.base_url = base_url.rstrip("/")
        self.links = LinkPolicy(self.base_url, app_url)
        self._token = _secret(token)
        self._owns_http = http is None
        http = http or httpx.AsyncClient(timeout=httpx.Timeout(timeout), headers={"User-Agent": USER_AGENT})
        self._transport = Transport(http, policy or RetryPolicy(max_attempts=max_attempts))

    def with_token(self, token: str | SecretStr | None) -> OpenTrainClient:
        """Another bearer over the same connection pool and retry policy; closing it leaves the pool open."""
        return OpenTrainClient(self.base_url, token, http=self._transport.http, policy=self._transport.policy,
                               app_url=self.links.app_url)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._transport.http.aclose()

    async def __aenter__(self) -> OpenTrainClient:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        bearer = "set" if self._token else "none"
        return f"OpenTrainClient(base_url={self.base_url!r}, token={bearer})"

    # --- agent auth (tokenless, OAuth errors) ---------------------------------------------------------------------

    async def register_agent(self, agent_name: str | None = None,
                             organization_name: str | None = None) -> Registration:
        body = _without_none({"agent_name": agent_name, "organization_name": organization_name})
        return await self._agent(Registration, "identity", json=body)

    async def start_claim(self, claim_token: str | SecretStr, email: str) -> ClaimStart:
        """Starts (or restarts, with a new code) the claim ceremony for the human owning `email`."""
        body = {"claim_token": _reveal(claim_token), "email": email}
        started = await self._agent(ClaimStart, "identity/claim", json=body)
        # The code and the link are shown to a human as they are: anything but 6 digits and a trusted link makes
        # the answer unreadable, so the claim start fails plainly rather than pointing someone elsewhere.
        if not is_user_code(started.user_code):
            raise OpenTrainError("OpenTrain answered an unexpected ClaimStart shape (at user_code)")
        if self.links.trusted(started.verification_uri, what="claim verification_uri") is None:
            raise OpenTrainError("OpenTrain answered an unexpected ClaimStart shape (at verification_uri)")
        return started

    async def poll_claim(self, claim_token: str | SecretStr) -> ClaimGrant:
        """The post-claim token, exactly once; raises AuthorizationPending / SlowDown / ExpiredToken / InvalidGrant."""
        form = {"grant_type": CLAIM_GRANT_TYPE, "claim_token": _reveal(claim_token)}
        return await self._agent(ClaimGrant, "oauth/token", data=form)

    async def revoke_token(self, token: str | SecretStr) -> None:
        await self._request("POST", f"{self.base_url}/api/agent/oauth/revoke", idempotent=True, bearer=False,
                            data={"token": _reveal(token)})

    # --- identity and drafts --------------------------------------------------------------------------------------

    async def me(self) -> AuthMe:
        return await self._public(AuthMe, "GET", "auth/me")

    async def credits(self) -> Credits:
        return await self._public(Credits, "GET", "credits")

    async def capabilities(self) -> Capabilities:
        return await self._public(Capabilities, "GET", "job-drafts/capabilities")

    async def create_draft(self, text: str, *, idempotency_key: str | None = None,
                           external_id: str | None = None) -> DraftReport:
        """Retried after an ambiguous failure only with an `idempotency_key` (same key -> the same draft)."""
        body = _without_none({"rawJobDescription": text, "idempotencyKey": idempotency_key,
                              "externalId": external_id})
        return self._draft(await self._public(DraftReport, "POST", "job-drafts", json=body,
                                              idempotent=idempotency_key is not None))

    async def create_draft_from(self, format: str, payload: Any, *,
                                idempotency_key: str | None = None) -> DraftReport:
        """A draft from a structured posting: `format` is one of `draft.importFormats` (`text` takes a string)."""
        if format == "text":
            return await self.create_draft(payload, idempotency_key=idempotency_key)
        if format not in IMPORT_PAYLOAD_KEYS:
            raise ValueError(f"unknown import format {format!r}; expected text or one of {sorted(IMPORT_PAYLOAD_KEYS)}")
        body = _without_none({"format": format, IMPORT_PAYLOAD_KEYS[format]: payload,
                              "idempotencyKey": idempotency_key})
        return self._draft(await self._public(DraftReport, "POST", "job-drafts", json=body,
                                              idempotent=idempotency_key is not None))

    async def update_draft(self, job_id: str, fields: dict[str, Any]) -> DraftReport:
        """PATCH the draft; the answer may carry only `validation` (see DraftReport.has_field_details)."""
        if not fields:
            raise ValueError("update_draft needs at least one field")
        return self._draft(await self._public(DraftReport, "PATCH", f"job-drafts/{_segment(job_id)}", json=fields))

    # --- jobs -----------------------------------------------------------------------------------------------------

    async def publish(self, job_id: str) -> PublishResult:
        result = await self._public(PublishResult, "POST", f"jobs/{_segment(job_id)}/publish", idempotent=True)
        result.job_url = self.links.trusted(result.job_url, what="job URL") or self.links.job_page(result.job_id)
        return result

    async def close_job(self, job_id: str) -> CloseResult:
        return await self._public(CloseResult, "POST", f"jobs/{_segment(job_id)}/close", idempotent=True)

    async def my_jobs(self, status: str | None = None, page_size: int = 25) -> AsyncIterator[MyJob]:
        async for job in self._paginate(MyJob, "jobs/mine", "jobs", {"status": status, "limit": page_size}):
            job.job_url = self.links.trusted(job.job_url, what="job URL") or self.links.job_page(job.id)
            yield job

    async def edit_job(self, job_id: str, fields: dict[str, Any]) -> JobEdited:
        """Edit a live (OPEN) job. Every edit is re-moderated and PATCH /jobs is not in the contract's idempotency
        table (§4.6), so an ambiguous failure is not repeated: the caller says it may not have gone through."""
        if not fields:
            raise ValueError("edit_job needs at least one field")
        return await self._public(JobEdited, "PATCH", f"jobs/{_segment(job_id)}", json=fields, idempotent=False)

    async def get_freelancer(self, id_or_slug: str) -> Freelancer:
        """A trainer's masked public profile, by user id or profile slug."""
        freelancer = await self._public(Freelancer, "GET", f"freelancers/{_segment(id_or_slug)}")
        # Built by the link policy from a well-formed slug, never read from the answer (a `profileUrl` there is data).
        slug = freelancer.profile_slug
        freelancer.profile_url = self.links.profile_page(str(slug)) if is_opentrain_id(slug) else None
        return freelancer

    async def invite(self, job_id: str, freelancer_id: str) -> Invited:
        """Invite a trainer to a published job; idempotent per freelancer (§4.6: `alreadyInvited`)."""
        return await self._public(Invited, "POST", f"jobs/{_segment(job_id)}/invites",
                                  json={"freelancerId": freelancer_id}, idempotent=True)

    def job_proposals(self, job_id: str, status: str | None = None, page_size: int = 25) -> AsyncIterator[Proposal]:
        return self._paginate(Proposal, f"jobs/{_segment(job_id)}/proposals", "proposals",
                              {"status": status, "limit": page_size})

    # --- proposals, feed, webhooks --------------------------------------------------------------------------------

    async def get_proposal(self, proposal_id: str) -> ProposalDetail:
        return await self._public(ProposalDetail, "GET", f"proposals/{_segment(proposal_id)}")

    async def updates(self, cursor: str | None = None, limit: int = 100) -> UpdatesPage:
        """One page of the account's event ledger, oldest first; persist `next_cursor`."""
        return await self._public(UpdatesPage, "GET", "updates", params=_without_none({"cursor": cursor,
                                                                                        "limit": limit}))

    async def create_webhook(self, url: str, event_types: list[str]) -> WebhookCreated:
        return await self._public(WebhookCreated, "POST", "webhooks", json={"url": url, "eventTypes": event_types})

    async def list_webhooks(self) -> list[Webhook]:
        body = await self._json("GET", self._public_url("webhooks"), idempotent=True)
        return [_parse(Webhook, entry) for entry in body.get("webhooks") or []]

    async def get_webhook(self, webhook_id: str) -> Webhook:
        return await self._public(Webhook, "GET", f"webhooks/{_segment(webhook_id)}")

    async def delete_webhook(self, webhook_id: str) -> Webhook:
        """The subscription as it was when deleted. A repeat raises NotFound, so it is not retried blindly."""
        return await self._public(Webhook, "DELETE", f"webhooks/{_segment(webhook_id)}", idempotent=False)

    async def open_conversation(self, proposal_id: str) -> ConversationOpened:
        """Get-or-create (contract §4.6), hence safe to retry."""
        opened = await self._public(ConversationOpened, "POST", f"proposals/{_segment(proposal_id)}/conversation",
                                    idempotent=True)
        opened.conversation_url = self.links.conversation_page(opened.conversation_id)
        return opened

    async def request_hire(self, proposal_id: str, name: str, amount: float, due_date: date | str,
                           description: str | None = None) -> HireApproval:
        """A pending hire approval a human confirms in OpenTrain; the same terms return the same approval."""
        due = due_date.isoformat() if isinstance(due_date, date) else due_date
        milestone = _without_none({"name": name, "description": description, "amount": amount, "dueDate": due})
        requested = await self._public(HireApproval, "POST", f"proposals/{_segment(proposal_id)}/hire",
                                       json={"milestone": milestone}, idempotent=True)
        self._trust_approval(requested.approval)
        return requested

    # --- money: approvals, contracts, milestones (every move co-signed by a human in OpenTrain) -------------------

    async def get_approval(self, approval_id: str) -> Approval:
        """Reading a pending approval past `expiresAt` is what flips it to expired (contract §2.11)."""
        envelope = await self._public(ApprovalEnvelope, "GET", f"approvals/{_segment(approval_id)}")
        return self._trust_approval(envelope.approval)

    async def contracts(self, job_id: str | None = None, status: str | None = None) -> list[Contract]:
        body = await self._json("GET", self._public_url("contracts"), idempotent=True,
                                params=_without_none({"jobId": job_id, "status": status}))
        return [_parse(Contract, entry) for entry in body.get("contracts") or []]

    async def get_contract(self, contract_id: str) -> Contract:
        return await self._public(Contract, "GET", f"contracts/{_segment(contract_id)}")

    async def add_milestone(self, contract_id: str, description: str, *, name: str | None = None,
                            amount_usd: float | None = None, volume: float | None = None,
                            due_date: str | None = None) -> Milestone:
        """An unfunded milestone (no money moves). Not idempotent: a repeat would add a second one."""
        body = _without_none({"description": description, "name": name, "amountUsd": amount_usd, "volume": volume,
                              "dueDate": due_date})
        return await self._public(Milestone, "POST", f"contracts/{_segment(contract_id)}/milestones", json=body,
                                  idempotent=False)

    async def fund_milestone(self, milestone_id: str) -> HireApproval:
        """A pending `milestone_fund` approval; idempotent while pending (contract §2.10.1)."""
        requested = await self._public(HireApproval, "POST", f"milestones/{_segment(milestone_id)}/fund",
                                       idempotent=True)
        self._trust_approval(requested.approval)
        return requested

    async def release_milestone(self, milestone_id: str) -> HireApproval:
        """A pending `milestone_approve` approval (the payout release); idempotent while pending."""
        requested = await self._public(HireApproval, "POST", f"milestones/{_segment(milestone_id)}/approve",
                                       idempotent=True)
        self._trust_approval(requested.approval)
        return requested

    async def end_contract(self, contract_id: str) -> ContractEnded:
        """Ended at once, or a pending `contract_end` approval; a repeat is refused (409) or the same approval."""
        ended = await self._public(ContractEnded, "POST", f"contracts/{_segment(contract_id)}/end", idempotent=True)
        if ended.approval is not None:
            self._trust_approval(ended.approval)
        return ended

    def _trust_approval(self, approval: Approval) -> Approval:
        approval.approval_url = (self.links.trusted(approval.approval_url, what="approval URL")
                                 or self.links.approval_page(approval.id))
        return approval

    async def send_message(self, conversation_id: str, content: str) -> MessageSent:
        """Plain text, 1-10,000 characters (contract §2.8.2). Not idempotent (§4.6): never repeated here, not even
        after a 429, which is raised at once so the caller can queue it; after a 5xx or no answer the outcome is
        unknown and only the caller can find out (`list_messages`) whether it was sent."""
        return await self._public(MessageSent, "POST", "messages", idempotent=False, wait_on_rate_limit=False,
                                  json={"conversationId": conversation_id, "content": content})

    async def list_messages(self, conversation_id: str, *, direction: str = "older", cursor: str | None = None,
                            limit: int = 20) -> MessagesPage:
        """One page of a conversation: `older` pages back from the newest, `newer` forward (tailing), oldest first;
        pass `next_cursor` back with the same direction."""
        params = _without_none({"conversationId": conversation_id, "direction": direction, "cursor": cursor,
                                "limit": limit})
        return await self._public(MessagesPage, "GET", "messages", params=params)

    # --- plumbing -------------------------------------------------------------------------------------------------

    async def _agent(self, model: type[Model], path: str, **content: Any) -> Model:
        # Registration and claim start create state and the token poll hands a token out once: never blind retries.
        body = await self._json("POST", f"{self.base_url}/api/agent/{path}", idempotent=False, bearer=False,
                                **content)
        return _parse(model, body)

    async def _public(self, model: type[Model], method: str, path: str, *, idempotent: bool | None = None,
                      **content: Any) -> Model:
        idempotent = method == "GET" if idempotent is None else idempotent
        body = await self._json(method, self._public_url(path), idempotent=idempotent, **content)
        return _parse(model, body)

    async def _paginate(self, model: type[Model], path: str, key: str,
                        params: dict[str, Any]) -> AsyncIterator[Model]:
        cursor: str | None = None
        while True:
            query = _without_none({**params, "cursor": cursor})
            page = await self._json("GET", self._public_url(path), idempotent=True, params=query)
            for entry in page.get(key) or []:
                yield _parse(model, entry)
            next_cursor = page.get("nextCursor")
            if not next_cursor or next_cursor == cursor:
                return
            cursor = str(next_cursor)

    async def _json(self, method: str, url: str, *, idempotent: bool, bearer: bool = True,
                    **content: Any) -> dict[str, Any]:
        response = await self._request(method, url, idempotent=idempotent, bearer=bearer, **content)
        try:
            body = response.json()
        except ValueError:
            raise OpenTrainError(f"OpenTrain {method} {httpx.URL(url).path} answered with a body that is not JSON",
                                 status=response.status_code) from None
        if not isinstance(body, dict):
            raise OpenTrainError(f"OpenTrain {method} {httpx.URL(url).path} answered with a non-object body",
                                 status=response.status_code)
        return body

    async def _request(self, method: str, url: str, *, idempotent: bool, bearer: bool,
                       wait_on_rate_limit: bool = True, **content: Any) -> httpx.Response:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if bearer and self._token:
            headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        try:
            return await self._transport.send(method, url, idempotent=idempotent, headers=headers,
                                              wait_on_rate_limit=wait_on_rate_limit, **content)
        except OpenTrainError as exc:
            self._trust_details(exc)
            raise

    def _trust_details(self, exc: OpenTrainError) -> None:
        """Links in an error's details (`billingUrl`, `claimUrl`) pass the link policy too, or are dropped."""
        for name in ERROR_LINK_KEYS:
            if name in exc.details and self.links.trusted(exc.details[name], what=f"error {name}") is None:
                del exc.details[name]

    def _draft(self, report: DraftReport) -> DraftReport:
        report.draft_url = self.links.trusted(report.draft_url, what="draft URL")
        report.review_url = self.links.trusted(report.review_url, what="review URL")
        return report

    def _public_url(self, path: str) -> str:
        return f"{self.base_url}/api/public/v1/{path}"


def _parse(model: type[Model], body: Any) -> Model:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        # Field locations only: pydantic's message would echo the input values, which may include tokens.
        where = ", ".join(".".join(str(p) for p in error["loc"]) or "body" for error in exc.errors())
        raise OpenTrainError(f"OpenTrain answered an unexpected {model.__name__} shape (at {where})") from None


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _secret(token: str | SecretStr | None) -> SecretStr | None:
    if token is None or isinstance(token, SecretStr):
        return token
    return SecretStr(token)


def _reveal(token: str | SecretStr) -> str:
    return token.get_secret_value() if isinstance(token, SecretStr) else token
