"""The sandbox's in-memory OpenTrain: accounts, tokens, claims, jobs, proposals, events, faults.

Every rule of the contract (/work/shared/opentrain-api.md) that is not about HTTP lives here; the routes_* modules
only translate requests and responses. Rule violations raise `PublicError` (public envelope) or `OAuthError`
(agent-auth wire shape) carrying the status the route must answer with. The records are in records.py.
"""

from __future__ import annotations

import copy
import math
import random
import secrets
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from bot.sandbox import catalog, moderation
from bot.sandbox.contracts import Payments
from bot.sandbox.hostile import Hostility
from bot.sandbox.messaging import Messaging
from bot.sandbox.parser import ParsedDraft
from bot.sandbox.proposals import fake_proposal
from bot.sandbox.records import (
    ALL_SCOPES,
    ANONYMOUS_REGISTRATION,
    APP_URL,
    CLAIM_GRANT_TYPE,
    DEFAULT_CONFIG,
    EVENT_SCOPES,
    FEATURE_CAPABILITIES,
    JOB_STATUSES,
    LOCAL_HOSTS,
    MAX_ACTIVE_TOKENS,
    MAX_WEBHOOKS,
    POST_CLAIM_SCOPES,
    PRE_CLAIM_SCOPES,
    PROPOSAL_STATUSES,
    Account,
    Claim,
    ClaimAttempt,
    Clock,
    Event,
    Fault,
    Job,
    Json,
    OAuthError,
    Proposal,
    PublicError,
    Token,
    bad_request,
    conflict,
    effective_scopes,
    forbidden,
    iso,
    new_id,
    not_found,
)
from bot.sandbox.webhooks import Subscription, WebhookDispatcher


class World:
    """All sandbox state. Mutated only from the server's event loop."""

    def __init__(self, seed: int | None = None) -> None:
        self.clock = Clock()
        self.rng = random.Random(seed)
        self.generation = 0  # bumped by each reset, so requests delayed across one can tell
        self.webhooks = WebhookDispatcher(lambda: iso(self.clock.now()), self.config_value)
        self.messaging = Messaging(self.now, self.emit)
        self.reset()

    def reset(self) -> None:
        """Forget everything, in place, so holders of this World (SandboxThread.world) stay valid."""
        self.generation += 1
        self.clock.offset = 0.0
        self.config: dict = copy.deepcopy(DEFAULT_CONFIG)
        self.features: dict[str, bool] = {key: True for key in [*FEATURE_CAPABILITIES, ANONYMOUS_REGISTRATION]}
        self.accounts: dict[str, Account] = {}
        self.tokens: dict[str, Token] = {}  # by value
        self.claims: dict[str, Claim] = {}  # by claim token
        self.registered_emails: set[str] = set()
        self.jobs: dict[str, Job] = {}  # insertion order = creation order
        self.idempotency: dict[tuple[str, str], str] = {}  # (account, key) -> job id
        self.proposals: dict[str, Proposal] = {}
        self.approvals: dict[str, dict] = {}  # every type; their rules are in contracts.py
        # Every account's prepaid credit balance (GET /credits), set through the control API; never used: zeros.
        self.credits: dict[str, int] = {"availableCents": 0, "reservedCents": 0}
        self.payments = Payments(self)
        self.events: list[Event] = []
        self.faults: list[Fault] = []
        self.hostile: Hostility | None = None  # answers rewritten on their way out (hostile.py)
        self.request_log: deque[dict] = deque(maxlen=10_000)
        self.request_count = 0
        self.webhooks.reset()
        self.messaging.reset()

    def config_value(self, name: str) -> Any:  # a number or a list of numbers, by name (DEFAULT_CONFIG)
        return self.config[name]

    def update_config(self, changes: dict) -> None:
        """Partial update; every value must keep its default's shape (a number, or a list of numbers)."""
        for name, value in changes.items():
            if name not in DEFAULT_CONFIG:
                raise bad_request(f"Unknown config key {name!r}.", supportedKeys=list(DEFAULT_CONFIG))
            expects_list = isinstance(DEFAULT_CONFIG[name], list)
            values = value if expects_list and isinstance(value, list) else [value]
            if expects_list != isinstance(value, list) or not all(_non_negative_number(v) for v in values):
                raise bad_request(f"{name} must be {'a list of ' if expects_list else 'a '}non-negative number"
                                  f"{'s' if expects_list else ''}.", field=name)
        self.config.update(copy.deepcopy(changes))

    def now(self) -> float:
        return self.clock.now()

    # ---- accounts and tokens -------------------------------------------------------------------------------

    def _new_account(self, **attrs: Any) -> Account:
        account = Account(id=new_id("org"), user_id=new_id("usr"), **attrs)
        self.accounts[account.id] = account
        return account

    def mint_token(self, account: Account, scopes: list[str], name: str, expires_at: float | None = None) -> Token:
        value = f"ot_pat_{secrets.token_hex(6)}_{secrets.token_urlsafe(24)}"
        token = Token(new_id("tok"), value, account.id, name, list(scopes), self.now(), expires_at)
        self.tokens[value] = token
        return token

    def add_user(self, email: str) -> str:
        """An email that already has an OpenTrain account (claim start refuses it)."""
        self.registered_emails.add(email.strip().lower())
        return new_id("usr")

    def app_token(self, scopes: Json, email: str | None = None,
                  claimed: bool = True) -> tuple[Account, Token]:
        """A token minted in the app: claimed from the start. `claimed=False` makes an unclaimed account whose
        token still holds the requested scopes, the only way to reach the `account_claim_required` gate."""
        if scopes is not None and (not isinstance(scopes, list) or not scopes):
            raise bad_request("scopes must be a non-empty array.", field="scopes")
        unknown = sorted(set(scopes or []) - set(ALL_SCOPES))
        if unknown:
            raise bad_request("Unknown scopes.", unknownScopes=unknown, supportedScopes=ALL_SCOPES)
        if claimed:
            email = email or f"owner-{secrets.token_hex(3)}@example.com"
            self.registered_emails.add(email.lower())
        account = self._new_account(email=email if claimed else None, claimed=claimed,
                                    organization_name="Sandbox Co")
        return account, self.mint_token(account, scopes or ALL_SCOPES, "App token")

    def authenticate(self, bearer: str | None) -> Token:
        if not bearer:
            raise PublicError(401, "UNAUTHORIZED", "Missing bearer token.")
        token = self.tokens.get(bearer)
        if token is None or token.status(self.now()) != "active":
            raise PublicError(401, "UNAUTHORIZED", "Invalid, expired or revoked token.")
        token.last_used_at = self.now()
        return token

    def account_of(self, token: Token) -> Account:
        return self.accounts[token.account_id]

    def require_scope(self, token: Token, *any_of: str) -> None:
        if not effective_scopes(token.scopes) & set(any_of):
            raise forbidden(
                f"This token lacks the required scope: {' or '.join(any_of)}.",
                requiredScopes=list(any_of), grantedScopes=list(token.scopes),
            )

    def require_feature(self, feature_key: str) -> None:
        if not self.features.get(feature_key, False):
            details = {"featureKey": feature_key}
            if feature_key == "public_api_job_drafting":
                details["mode"] = "DISABLED"
            raise forbidden(f"The feature {feature_key} is not enabled for this account.", **details)

    def require_claimed(self, token: Token, action: str) -> None:
        if not self.account_of(token).claimed:
            raise forbidden(
                f"A human must claim this agent account before it can {action}.",
                reason="account_claim_required", action=action, claimUrl=f"{APP_URL}/claim",
            )

    def me(self, token: Token) -> dict:
        account = self.account_of(token)
        first, last = ("Sandbox", "Owner") if account.claimed else (None, None)
        return {
            "actor": {
                "userId": account.user_id, "email": account.email, "firstName": first, "lastName": last,
                "fullName": f"{first} {last}" if first else (account.agent_name or "Anonymous agent"),
                "userType": "EMPLOYER",
            },
            "token": {"id": token.id, "label": token.name, "scopes": list(token.scopes), "ownerOrganizationId": None},
            "account": {
                "kind": "employer_organization", "organizationId": account.id, "ownerUserId": account.user_id,
                "memberRole": "OWNER", "claimed": account.claimed,
            },
        }

    def list_tokens(self, token: Token) -> list[dict]:
        now = self.now()
        return [t.record(now) for t in self.tokens.values() if t.account_id == token.account_id]

    def create_token(self, caller: Token, name: Json, scopes: Json, expires_at: Json) -> Token:
        if name is None:
            name = "API token"
        if not isinstance(name, str) or not 1 <= len(name) <= 120:
            raise bad_request("name must be 1-120 characters.", field="name")
        if scopes is None:
            scopes = list(caller.scopes)
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise bad_request("scopes must be an array of strings.", field="scopes")
        unknown = sorted(set(scopes) - set(ALL_SCOPES))
        if unknown:
            raise bad_request("Unknown scopes.", unknownScopes=unknown, supportedScopes=ALL_SCOPES)
        escalated = sorted(set(scopes) - effective_scopes(caller.scopes))
        if escalated:
            raise forbidden("Requested scopes exceed the caller's scopes.",
                            requiredScopes=escalated, grantedScopes=list(caller.scopes))
        expiry = self._parse_future(expires_at) if expires_at is not None else None
        now = self.now()
        active = [t for t in self.tokens.values() if t.account_id == caller.account_id and t.status(now) == "active"]
        if len(active) >= MAX_ACTIVE_TOKENS:
            raise conflict(f"An account may hold at most {MAX_ACTIVE_TOKENS} active tokens.", limit=MAX_ACTIVE_TOKENS)
        return self.mint_token(self.account_of(caller), sorted(set(scopes), key=ALL_SCOPES.index), name, expiry)

    def _parse_future(self, value: Json) -> float:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise bad_request("expiresAt must be an ISO 8601 timestamp.", field="expiresAt") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if moment.timestamp() <= self.now():
            raise bad_request("expiresAt must be in the future.", field="expiresAt")
        return moment.timestamp()

    def revoke_token_by_id(self, caller: Token, token_id: str) -> Token:
        for token in self.tokens.values():
            if token.id == token_id and token.account_id == caller.account_id:
                if token.revoked_at is None:
                    token.revoked_at = self.now()
                return token
        raise not_found("No such token.", tokenId=token_id)

    def revoke_token_value(self, value: str) -> None:
        token = self.tokens.get(value)
        if token is not None and token.revoked_at is None:
            token.revoked_at = self.now()

    # ---- agent auth: registration and the claim ceremony ---------------------------------------------------

    def register_agent(self, agent_name: str | None, organization_name: str | None) -> tuple[Token, Claim]:
        if not self.features[ANONYMOUS_REGISTRATION]:
            raise OAuthError("anonymous_not_enabled", status=403)
        account = self._new_account(agent_name=agent_name, organization_name=organization_name)
        token = self.mint_token(account, PRE_CLAIM_SCOPES, agent_name or "Agent token")
        claim = Claim(f"ot_clm_{secrets.token_urlsafe(24)}", account.id,
                      self.now() + self.config["claimWindowSeconds"])
        self.claims[claim.claim_token] = claim
        return token, claim

    def start_claim(self, claim_token: str | None, email: str | None) -> ClaimAttempt:
        if not claim_token or not email:
            raise OAuthError("invalid_request", "claim_token and email are required")
        claim = self.claims.get(claim_token)
        if claim is None:
            raise OAuthError("invalid_request", "invalid claim_token")
        if claim.granted_token is not None:
            raise OAuthError("invalid_request", "account already claimed")
        if self.now() >= claim.expires_at:
            raise OAuthError("invalid_request", "claim window expired; register again")
        email = email.strip()
        if "@" not in email or email.startswith("@") or email.endswith("@"):
            raise OAuthError("invalid_request", "invalid email")
        if email.lower() in self.registered_emails:
            raise OAuthError("invalid_request", "email_already_registered: this email already has an OpenTrain account")
        # A new attempt replaces the previous one: its code and link stop working.
        claim.attempt = ClaimAttempt(
            user_code=f"{self.rng.randrange(1_000_000):06d}",
            attempt_token=f"ot_cat_{secrets.token_urlsafe(24)}",
            email=email,
            expires_at=self.now() + self.config["claimAttemptSeconds"],
        )
        return claim.attempt

    def confirm_claim(self, user_code: str | None, email: str | None) -> Account:
        """The human finishing the claim on the claim page."""
        claim = next((c for c in self.claims.values() if c.attempt and c.attempt.user_code == user_code), None)
        if claim is None or claim.attempt is None or not user_code:
            raise not_found("Unknown claim code.")
        attempt = claim.attempt
        if claim.granted_token is not None:
            raise conflict("This account is already claimed.")
        if self.now() >= attempt.expires_at or self.now() >= claim.expires_at:
            raise conflict("This claim code has expired; the agent must start a new claim.")
        if (email or "").strip().lower() != attempt.email.lower():
            raise conflict("Sign in with the email the agent gave when it started the claim.")
        account = self.accounts[claim.account_id]
        account.claimed, account.email = True, attempt.email
        self.registered_emails.add(account.email.lower())
        for token in self.tokens.values():  # claiming revokes every pre-claim token at once
            if token.account_id == account.id and token.revoked_at is None:
                token.revoked_at = self.now()
        claim.granted_token = self.mint_token(account, POST_CLAIM_SCOPES, "Claimed agent token").value
        return account

    def poll_claim(self, grant_type: str | None, claim_token: str | None) -> Token:
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type != CLAIM_GRANT_TYPE:
            raise OAuthError("unsupported_grant_type", f"use {CLAIM_GRANT_TYPE}")
        if not claim_token:
            raise OAuthError("invalid_request", "claim_token is required")
        claim = self.claims.get(claim_token)
        if claim is None or claim.delivered:
            raise OAuthError("invalid_grant", "unknown claim token, or its token was already delivered")
        now = self.now()
        too_soon = claim.last_poll_at is not None and now - claim.last_poll_at < self.config["claimIntervalSeconds"]
        claim.last_poll_at = now
        if too_soon:
            raise OAuthError("slow_down", f"poll at most every {self.config['claimIntervalSeconds']} seconds")
        if claim.granted_token is not None:
            claim.delivered = True
            return self.tokens[claim.granted_token]
        if now >= claim.expires_at:
            raise OAuthError("expired_token", "the claim window closed; register again")
        if claim.attempt is None:
            raise OAuthError("authorization_pending", "no claim started yet")
        if now >= claim.attempt.expires_at:
            raise OAuthError("authorization_pending", "attempt_expired: start the claim again for a new code")
        raise OAuthError("authorization_pending", "waiting for the human to confirm")

    # ---- drafts and jobs -----------------------------------------------------------------------------------

    def existing_draft(self, token: Token, idempotency_key: str | None) -> Job | None:
        """The job an earlier create with this idempotency key made, if any."""
        job_id = self.idempotency.get((token.account_id, idempotency_key)) if idempotency_key else None
        return self.jobs[job_id] if job_id else None

    def create_draft(self, token: Token, parsed: ParsedDraft, idempotency_key: str | None,
                     external_id: str | None, source_format: str = "text") -> Job:
        now = self.now()
        job = Job(new_id("job"), token.account_id, dict(parsed.fields), now, now,
                  list(parsed.low_confidence), list(parsed.unmapped), list(parsed.warnings), external_id,
                  source_format=source_format)
        self.jobs[job.id] = job
        if idempotency_key:
            self.idempotency[(token.account_id, idempotency_key)] = job.id
        return job

    def own_job(self, token: Token, job_id: str, *, foreign_is_forbidden: bool = False) -> Job:
        job = self.jobs.get(job_id)
        if job is not None and job.account_id == token.account_id:
            return job
        if job is not None and foreign_is_forbidden:
            raise forbidden("This job belongs to another account.", jobId=job_id)
        raise not_found("No such job.", jobId=job_id)

    def update_draft(self, token: Token, job_id: str, body: Json) -> Job:
        job = self.own_job(token, job_id)
        if not isinstance(body, dict) or not body:
            raise bad_request("Body must be a JSON object with at least one draft key.",
                              issues=[{"path": [], "message": "Expected a non-empty object", "code": "invalid_type"}])
        issues = catalog.validate_patch(body)
        if issues:
            raise bad_request("Invalid draft update.", issues=issues)
        if job.status != "DRAFT":
            raise conflict("This job is no longer a draft; edit live jobs with PATCH /jobs/{id}.",
                           jobId=job.id, status=job.status, requiredStatus="DRAFT")
        job.fields = catalog.apply_patch(job.fields, body)
        job.updated_at = self.now()
        return job

    def draft_report(self, job: Job) -> dict:
        draft_url = f"{APP_URL}/job-post?jobId={job.id}"
        return {
            "ok": True, "jobId": job.id, "status": job.status, "draftUrl": draft_url, "reviewUrl": draft_url,
            "validation": catalog.validation_report(job.fields),
            "missingFields": catalog.missing_fields(job.fields),
            "normalizedFields": dict(job.fields),
            "lowConfidenceFields": list(job.low_confidence),
            "unmappedFields": list(job.unmapped),
            "warnings": list(job.warnings),
        }

    def publish(self, token: Token, job_id: str) -> dict:
        job = self.own_job(token, job_id)
        if job.status == "OPEN":
            return self._published(job, already=True)
        if job.status != "DRAFT":
            raise conflict("Only drafts can be published.", jobId=job.id, status=job.status, requiredStatus="DRAFT")
        validation = catalog.validation_report(job.fields)
        if not validation["publishReady"]:
            raise bad_request("The draft is not ready to publish.", validation=validation,
                              missingFields=catalog.missing_fields(job.fields))
        reasons = moderation.moderate(job.fields)
        if reasons:
            raise forbidden("The job was blocked by content moderation.", reason="moderation_blocked", reasons=reasons)
        self._count_publish(self.account_of(token))
        job.status, job.updated_at = "OPEN", self.now()
        return self._published(job, already=False)

    def _count_publish(self, account: Account) -> None:
        now = self.now()
        today = datetime.fromtimestamp(now, tz=UTC).date()
        published_today = [t for t in account.publish_times
                           if datetime.fromtimestamp(t, tz=UTC).date() == today]
        limit = self.config["publishLimitClaimed" if account.claimed else "publishLimitUnclaimed"]
        if len(published_today) >= limit:
            retry_after = max(1, math.ceil(86400 - now % 86400))
            raise PublicError(
                429, "RATE_LIMITED", f"Daily publish limit of {limit} reached; try again tomorrow (UTC).",
                {"reason": "daily_publish_limit", "limit": limit, "retryAfterSeconds": retry_after},
                headers={"Retry-After": str(retry_after)},
            )
        account.publish_times.append(now)

    @staticmethod
    def _published(job: Job, *, already: bool) -> dict:
        return {
            "ok": True, "jobId": job.id, "status": job.status, "alreadyPublished": already, "jobUrl": job.url,
            "publishAttemptId": None if already else new_id("pa"), "warnings": [],
            "sideEffects": {"dispatched": not already, "status": "skipped" if already else "queued"},
        }

    def close(self, token: Token, job_id: str) -> dict:
        job = self.own_job(token, job_id)
        already = job.status == "ARCHIVED"
        if not already:
            job.status, job.updated_at = "ARCHIVED", self.now()
        return {"ok": True, "jobId": job.id, "status": job.status, "alreadyClosed": already}

    def my_jobs(self, token: Token, status: str | None, cursor: str | None, limit: int) -> dict:
        if status is not None and status.upper() not in JOB_STATUSES:
            raise bad_request("Unknown job status.", supportedStatuses=JOB_STATUSES)
        jobs = [j for j in reversed(self.jobs.values()) if j.account_id == token.account_id
                and (status is None or j.status == status.upper())]
        page, next_cursor = _page_after(jobs, cursor, limit, lambda j: j.id)
        return {"jobs": [self._job_summary(j) for j in page], "nextCursor": next_cursor}

    def _job_summary(self, job: Job) -> dict:
        proposals = [self.proposals[p] for p in job.proposal_ids]
        return {
            "id": job.id, "title": job.title, "status": job.status, "published": job.status == "OPEN",
            "acceptingApplicants": job.status == "OPEN", "createdAt": iso(job.created_at),
            "updatedAt": iso(job.updated_at), "jobUrl": job.url,
            "proposalCounts": {"total": len(proposals),
                               "unreviewed": sum(p.status == "UNREVIEWED" for p in proposals)},
        }

    # ---- proposals -----------------------------------------------------------------------------------------

    def add_proposals(self, job_id: str, count: int) -> list[Proposal]:
        job = self.jobs.get(job_id)
        if job is None:
            raise not_found("No such job.", jobId=job_id)
        if job.status != "OPEN":
            raise conflict("Proposals only arrive on published (OPEN) jobs.", jobId=job_id, status=job.status)
        added = []
        for _ in range(count):
            now = self.now()
            proposal = Proposal(new_id("prop"), job.id, now, now, fake_proposal(self.rng, job.fields))
            self.proposals[proposal.id] = proposal
            job.proposal_ids.append(proposal.id)
            self.emit(job.account_id, "proposal.received", proposal.id, job.id,
                      {"proposalId": proposal.id, "jobId": job.id})
            added.append(proposal)
        return added

    def set_proposal_status(self, proposal_id: str, status: str) -> Proposal:
        proposal = self.proposals.get(proposal_id)
        if proposal is None:
            raise not_found("No such proposal.", proposalId=proposal_id)
        proposal.status = normalize_proposal_status(status)
        proposal.updated_at = self.now()
        job = self.jobs[proposal.job_id]
        self.emit(job.account_id, "proposal.status_changed", proposal.id, job.id,
                  {"proposalId": proposal.id, "status": proposal.status})
        return proposal

    def job_proposals(self, token: Token, job_id: str, status: str | None, cursor: str | None, limit: int) -> dict:
        job = self.own_job(token, job_id, foreign_is_forbidden=True)
        wanted = normalize_proposal_status(status) if status is not None else None
        proposals = [self.proposals[p] for p in reversed(job.proposal_ids)]
        proposals = [p for p in proposals if wanted is None or p.status == wanted]
        page, next_cursor = _page_after(proposals, cursor, limit, lambda p: p.id)
        return {"proposals": [self.proposal_summary(p) for p in page], "nextCursor": next_cursor}

    def own_proposal(self, token: Token, proposal_id: str) -> Proposal:
        proposal = self.proposals.get(proposal_id)
        if proposal is None:
            raise not_found("No such proposal.", proposalId=proposal_id)
        if self.jobs[proposal.job_id].account_id != token.account_id:
            raise forbidden("This proposal is on another account's job.", proposalId=proposal_id)
        return proposal

    def proposal_summary(self, proposal: Proposal) -> dict:
        profile = proposal.profile
        return {
            "id": proposal.id, "jobId": proposal.job_id, "jobTitle": self.jobs[proposal.job_id].title,
            "createdAt": iso(proposal.created_at), "updatedAt": iso(proposal.updated_at),
            "status": {"raw": proposal.status, "label": proposal.status.replace("_", " ").capitalize()},
            "bid": profile["bid"], "candidate": profile["candidate"], "metrics": profile["metrics"],
        }

    def proposal_detail(self, proposal: Proposal) -> dict:
        return {**self.proposal_summary(proposal), "aiInterview": proposal.profile["aiInterview"],
                "verification": proposal.profile["verification"], "openLabel": None, "contract": None}

    def open_conversation(self, proposal: Proposal) -> dict:
        created = proposal.conversation_id is None
        if created:
            proposal.conversation_id = new_id("conv")
            job = self.jobs[proposal.job_id]
            self.messaging.open(proposal.conversation_id, job.account_id, self.accounts[job.account_id].user_id,
                                str(proposal.profile["candidate"]["id"]), proposal.id, job.id)
        return {"ok": True, "conversationId": proposal.conversation_id, "proposalId": proposal.id,
                "jobId": proposal.job_id, "created": created}

    def request_hire(self, proposal: Proposal, milestone: Json) -> dict:
        terms = _milestone_terms(milestone)
        current = self.payments.live(self.approvals.get(proposal.approval_id or ""))
        if current and current["terms"] == terms:
            return current
        job = self.jobs[proposal.job_id]
        approval = self.payments.new_approval(job.account_id, "proposal_hire", job.id, proposal_id=proposal.id,
                                              terms=terms)
        proposal.approval_id = approval["id"]  # one live hire request per proposal: new terms supersede
        return approval

    # ---- events and the updates feed -----------------------------------------------------------------------

    def emit(self, account_id: str, event_type: str, resource_id: str, job_id: str | None, data: dict) -> Event:
        event = Event(len(self.events) + 1000, account_id, event_type, self.now(), resource_id, job_id, data)
        self.events.append(event)
        self.webhooks.dispatch(account_id, event.wire())
        return event

    def updates(self, token: Token, cursor: str | None, limit: int) -> dict:
        readable = set(EVENT_SCOPES.values())
        self.require_scope(token, *sorted(readable))
        if cursor is not None and not cursor.isdigit():
            raise bad_request("cursor must be a numeric event id.", field="cursor")
        after = int(cursor) if cursor is not None else -1
        scopes = effective_scopes(token.scopes)
        visible = [e for e in self.events if e.account_id == token.account_id and e.seq > after
                   and EVENT_SCOPES[e.type] in scopes]
        page = visible[:limit]
        return {"events": [e.wire() for e in page],
                "nextCursor": str(page[-1].seq) if page else cursor,
                "hasMore": len(visible) > limit}

    # ---- webhook subscriptions -----------------------------------------------------------------------------

    def create_webhook(self, token: Token, url: Json, event_types: Json) -> Subscription:
        _check_webhook_url(url)
        if not isinstance(event_types, list) or not event_types or not all(isinstance(t, str) for t in event_types):
            raise bad_request("eventTypes must be a non-empty array of event types.", field="eventTypes")
        unknown = sorted(set(event_types) - set(EVENT_SCOPES))
        if unknown:
            raise bad_request("Unknown event types.", field="eventTypes", unknownEventTypes=unknown,
                              supportedEventTypes=list(EVENT_SCOPES))
        event_types = list(dict.fromkeys(event_types))
        needed = sorted({EVENT_SCOPES[t] for t in event_types} - effective_scopes(token.scopes))
        if needed:
            raise forbidden("Subscribing to these events needs their read scopes.",
                            requiredScopes=needed, grantedScopes=list(token.scopes))
        if len(self._webhooks_of(token)) >= MAX_WEBHOOKS:
            raise conflict(f"An account may hold at most {MAX_WEBHOOKS} webhook subscriptions.", limit=MAX_WEBHOOKS)
        subscription = Subscription(new_id("wh"), token.account_id, url, event_types,
                                    f"whsec_{secrets.token_urlsafe(32)}", iso(self.now()))
        self.webhooks.subscriptions[subscription.id] = subscription
        return subscription

    def _webhooks_of(self, token: Token) -> list[Subscription]:
        return [s for s in self.webhooks.subscriptions.values() if s.account_id == token.account_id]

    def list_webhooks(self, token: Token) -> list[Subscription]:
        return list(reversed(self._webhooks_of(token)))  # newest first

    def own_webhook(self, token: Token, webhook_id: str) -> Subscription:
        subscription = self.webhooks.subscriptions.get(webhook_id)
        if subscription is None or subscription.account_id != token.account_id:
            raise not_found("No such webhook.", resource="webhooks", webhookId=webhook_id)
        return subscription

    def delete_webhook(self, token: Token, webhook_id: str) -> Subscription:
        subscription = self.own_webhook(token, webhook_id)
        self.webhooks.forget(subscription)
        return subscription

    # ---- faults and the request log ------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The first armed fault matching this request, with one use spent."""
        for fault in self.faults:
            if fault.times > 0 and fault.matches(method, path):
                fault.times -= 1
                return fault
        return None

    def hostile_answer(self, method: str, path: str, body: Any) -> Any | None:
        """The answer as a hostile OpenTrain would send it, or None when no hostility is armed for this request."""
        if self.hostile is None or not self.hostile.matches(method, path):
            return None
        return self.hostile.rewrite(body)

    def log_request(self, method: str, path: str, status: int | None,  # None: dropped
                    bearer: str | None = None) -> None:
        self.request_count += 1
        token = self.tokens.get(bearer) if bearer else None  # whose request it was (never the token itself)
        self.request_log.append({"method": method, "path": path, "status": status, "at": iso(self.now()),
                                 "account": token.account_id if token else None})


def _non_negative_number(value: Json) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _check_webhook_url(url: Json) -> None:
    if not isinstance(url, str) or not url or len(url) > 2048:
        raise bad_request("url must be an absolute URL of at most 2048 characters.", field="url")
    parts = urlsplit(url)
    secure = parts.scheme == "https" and bool(parts.hostname)
    local_http = parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
    if not (secure or local_http):
        raise bad_request("url must be https (plain http only for localhost).", field="url")


def normalize_proposal_status(value: str) -> str:
    status = str(value).strip().upper().replace(" ", "_").replace("-", "_")
    if status not in PROPOSAL_STATUSES:
        raise bad_request("Unknown proposal status.", supportedStatuses=PROPOSAL_STATUSES)
    return status


def _milestone_terms(milestone: Json) -> tuple:
    issues = []
    if not isinstance(milestone, dict):
        raise bad_request("milestone is required.", issues=[{"path": ["milestone"], "message": "Required",
                                                             "code": "invalid_type"}])
    name, description = milestone.get("name"), milestone.get("description")
    if not any(isinstance(v, str) and v.strip() for v in (name, description)):
        issues.append({"path": ["milestone", "name"], "message": "name or description is required", "code": "custom"})
    amount = milestone.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
        issues.append({"path": ["milestone", "amount"], "message": "Expected a positive number",
                       "code": "invalid_type"})
    due = milestone.get("dueDate")
    try:
        datetime.fromisoformat(str(due).replace("Z", "+00:00"))
    except ValueError:
        issues.append({"path": ["milestone", "dueDate"], "message": "Expected a date", "code": "invalid_date"})
    if issues:
        raise bad_request("Invalid hire request.", issues=issues)
    return name, description, amount, due


def _page_after(items: list, cursor: str | None, limit: int, key: Callable[[Any], str]) -> tuple[list, str | None]:
    """The `limit` items after the one whose key is `cursor`, and the cursor of the next page."""
    start = 0
    if cursor:
        keys = [key(item) for item in items]
        if cursor not in keys:
            raise bad_request("Unknown cursor.", field="cursor")
        start = keys.index(cursor) + 1
    page = items[start:start + limit]
    more = start + limit < len(items)
    return page, key(page[-1]) if page and more else None
