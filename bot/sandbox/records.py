"""Plain records of the sandbox's world: constants, errors, and the dataclasses World keeps.

Nothing here knows HTTP; `PublicError` and `OAuthError` carry the status a route must answer with.
"""

from __future__ import annotations

import fnmatch
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeAlias, overload

# A decoded JSON value from a request, not validated yet: the function that takes one checks its shape.
Json: TypeAlias = Any

APP_URL = "https://app.opentrain.ai"
CLAIM_GRANT_TYPE = "urn:opentrain:agent-auth:grant-type:claim"

PRE_CLAIM_SCOPES = ["jobs:read", "jobs:write", "proposals:read", "messages:read", "payments:read", "team:read"]
POST_CLAIM_SCOPES = [
    "jobs:read", "jobs:write", "proposals:read", "proposals:write", "messages:read", "messages:write",
    "payments:read", "team:read", "team:write",
]
ALL_SCOPES = [*POST_CLAIM_SCOPES, "payments:write", "webhooks:manage"]

# Feature key -> the `capabilities` booleans it drives (contract §1.5).
FEATURE_CAPABILITIES = {
    "public_api_job_drafting": ["draftImport", "draftCreate", "draftUpdate", "draftUrlRead"],
    "public_api_job_publishing": ["publish"],
    "public_api_hiring": ["hiring"],
    "public_api_messaging_writes": ["messagingWrites"],
    "public_api_payments_write": ["paymentsWrite"],
    "public_api_credits": ["credits"],
    "public_api_webhooks": ["webhooks"],
    "public_api_team": ["team"],
}
# Not a documented feature key: the switch behind `403 anonymous_not_enabled` on agent registration.
ANONYMOUS_REGISTRATION = "agent_anonymous_registration"

JOB_STATUSES = ["DRAFT", "OPEN", "ONGOING", "COMPLETED", "ARCHIVED", "PENDING_APPROVAL"]
PROPOSAL_STATUSES = ["UNREVIEWED", "SHORTLISTED", "MAYBE", "HIRED", "DECLINED", "NOT_A_FIT", "RESUME_SENT"]
EVENT_SCOPES = {
    "proposal.received": "proposals:read",
    "proposal.status_changed": "proposals:read",
    "message.received": "messages:read",
    "contract.created": "payments:read",
    "milestone.status_changed": "payments:read",
    "payment.pending": "payments:read",
    "approval.confirmed": "payments:read",
    "contract.budget_state_changed": "payments:read",
}
MAX_DESCRIPTION_CHARS = 60_000
MAX_ACTIVE_TOKENS = 25
MAX_WEBHOOKS = 10
LOCAL_HOSTS = {"localhost", "127.0.0.1"}
APPROVAL_LIFETIME_SECONDS = 72 * 3600

DEFAULT_CONFIG: dict[str, float | list[float]] = {
    "claimIntervalSeconds": 5,
    "claimAttemptSeconds": 1800,
    "claimWindowSeconds": 24 * 3600,
    "publishLimitUnclaimed": 3,
    "publishLimitClaimed": 20,
    "webhookRetryDelaysSeconds": [60, 300, 1800, 7200],
    "webhookTimeoutSeconds": 10,
    "latencyMs": 0,
}


class PublicError(Exception):
    """A refusal in the public envelope: `{"error", "code", "requestId", "details"}`."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details
        self.headers = headers or {}


class OAuthError(Exception):
    """A refusal in the agent-auth wire shape: `{"error", "error_description"}`."""

    def __init__(self, error: str, description: str | None = None, status: int = 400) -> None:
        super().__init__(error)
        self.error, self.description, self.status = error, description, status


def bad_request(message: str, **details: Any) -> PublicError:
    return PublicError(400, "BAD_REQUEST", message, details or None)


def not_found(message: str, **details: Any) -> PublicError:
    return PublicError(404, "NOT_FOUND", message, details or None)


def conflict(message: str, **details: Any) -> PublicError:
    return PublicError(409, "CONFLICT", message, details or None)


def forbidden(message: str, **details: Any) -> PublicError:
    return PublicError(403, "FORBIDDEN", message, details or None)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


@overload
def iso(timestamp: float) -> str: ...
@overload
def iso(timestamp: None) -> None: ...
def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def effective_scopes(scopes: list[str]) -> set[str]:
    """`:write` implies the matching `:read`."""
    return set(scopes) | {s.replace(":write", ":read") for s in scopes if s.endswith(":write")}


class Clock:
    """Wall time plus an offset the control API can advance; every expiry and the publish day use it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Account:
    id: str
    user_id: str
    agent_name: str | None = None
    organization_name: str | None = None
    email: str | None = None
    claimed: bool = False
    publish_times: list[float] = field(default_factory=list)


@dataclass(repr=False)
class Token:
    id: str
    value: str
    account_id: str
    name: str
    scopes: list[str]
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None
    last_used_at: float | None = None

    def __repr__(self) -> str:  # the value is a secret
        return f"Token(id={self.id!r}, account_id={self.account_id!r}, scopes={self.scopes!r})"

    def status(self, now: float) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def record(self, now: float) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "preview": f"{self.value[:7]}{self.value[7:11]}********{self.value[-4:]}",
            "scopes": list(self.scopes),
            "status": self.status(now),
            "organizationId": None,
            "createdAt": iso(self.created_at),
            "lastUsedAt": iso(self.last_used_at),
            "expiresAt": iso(self.expires_at),
            "revokedAt": iso(self.revoked_at),
        }


@dataclass(repr=False)
class ClaimAttempt:
    user_code: str
    attempt_token: str
    email: str
    expires_at: float


@dataclass(repr=False)
class Claim:
    claim_token: str
    account_id: str
    expires_at: float
    attempt: ClaimAttempt | None = None
    last_poll_at: float | None = None
    granted_token: str | None = None  # minted when the human confirms; handed out by exactly one poll
    delivered: bool = False


@dataclass
class Job:
    id: str
    account_id: str
    fields: dict
    created_at: float
    updated_at: float
    low_confidence: list = field(default_factory=list)
    unmapped: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    external_id: str | None = None
    status: str = "DRAFT"
    source_format: str = "text"  # the import format the draft was created from (read by the control API)
    proposal_ids: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.fields.get("jobTitle") or "Untitled job"

    @property
    def url(self) -> str:
        return f"{APP_URL}/jobs/{self.id}"


@dataclass
class Proposal:
    id: str
    job_id: str
    created_at: float
    updated_at: float
    profile: dict  # candidate, bid, metrics, aiInterview, verification (see proposals.py)
    status: str = "UNREVIEWED"
    conversation_id: str | None = None
    approval_id: str | None = None


@dataclass
class Event:
    seq: int
    account_id: str
    type: str
    created_at: float
    resource_id: str
    job_id: str | None
    data: dict

    def wire(self) -> dict:
        return {
            "id": str(self.seq),
            "type": self.type,
            "apiVersion": "v1",
            "createdAt": iso(self.created_at),
            "resourceId": self.resource_id,
            "jobId": self.job_id,
            "data": dict(self.data),
        }


@dataclass
class Fault:
    path: str
    method: str | None = None
    status: int | None = None
    retry_after_seconds: int | None = None
    latency_ms: int = 0
    drop: bool = False
    times: int = 1
    drop_after: bool = False  # served (the request takes effect), then the connection dies before the answer

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return path == self.path or fnmatch.fnmatchcase(path, self.path)

    def wire(self) -> dict:
        return {"path": self.path, "method": self.method, "status": self.status,
                "retryAfterSeconds": self.retry_after_seconds, "latencyMs": self.latency_ms,
                "drop": self.drop, "dropAfter": self.drop_after, "times": self.times}
