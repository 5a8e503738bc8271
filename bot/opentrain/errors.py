"""Typed errors the bot branches on, built from an HTTP status and OpenTrain's error envelope.

    OpenTrainError                 status, code, request_id, details, reason; the message never holds a token
    ├── TransportError             no answer: refused, dropped or timed out
    ├── Unauthorized               401: token missing, invalid, expired or revoked
    ├── Forbidden                  403 for any other reason
    │   ├── MissingScope           .required_scopes, .granted_scopes
    │   ├── FeatureDisabled        .feature_key, .mode
    │   ├── ClaimRequired          .claim_url, .action
    │   └── ModerationBlocked      .reasons
    ├── BadRequest                 400: .issues (zod)
    │   └── NotPublishReady        400 on publish: .validation, .missing_fields
    ├── NotFound                   404
    ├── Conflict                   409: .payment_method_required, .billing_url; a live edit's .moderation_blocked,
    │                              .moderation_reasons, .not_open, .job_status; an invite's .job_not_published,
    │                              .not_a_freelancer, .freelancer_unavailable
    ├── RateLimited                429: .retry_after (seconds)
    ├── ServerError                5xx
    └── OAuthError                 agent auth: .error (code), .description
        ├── AuthorizationPending   .attempt_expired
        ├── SlowDown
        ├── ExpiredToken
        ├── InvalidGrant
        ├── InvalidRequest         .email_already_registered, .already_claimed
        ├── UnsupportedGrantType, UnsupportedIdentityType, AnonymousNotEnabled
        └── OAuthRateLimited       (also a RateLimited)

Two wire shapes exist (contract §4.1): the public envelope `{error, code, requestId, details}` and, on the agent-auth
endpoints, the OAuth shape `{error, error_description}`. Exception text is the API's message, its code and request
id, passed through `redact` so a token can never leak into a log line or a traceback. Callers branch on these types
and properties, never on the text of a message. Three properties (`attempt_expired`, `already_claimed`,
`email_already_registered`) have to read `error_description`, since the contract names no code for those causes;
this module is the only place that does.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from bot.infra.logs import redact
from bot.opentrain.models import MissingField, OAuthErrorBody, PublicErrorBody, Validation


class OpenTrainError(Exception):
    """Any failure talking to OpenTrain. `details` is the envelope's `details` object (never holds a token)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 request_id: str | None = None, details: dict[str, Any] | None = None) -> None:
        self.message = redact(message)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.details: dict[str, Any] = details or {}
        super().__init__(self._text())

    def _text(self) -> str:
        context = [part for part in (self.code, f"HTTP {self.status}" if self.status else None,
                                     f"request {self.request_id}" if self.request_id else None) if part]
        return f"{self.message} ({', '.join(context)})" if context else self.message

    @property
    def reason(self) -> str | None:
        """`details.reason`, the machine-readable refinement of `code` (e.g. `account_claim_required`)."""
        value = self.details.get("reason")
        return str(value) if value is not None else None


class TransportError(OpenTrainError):
    """No answer: the connection was refused or dropped, or the call timed out."""


class Unauthorized(OpenTrainError):
    """401: the token is missing, invalid, expired or revoked (e.g. a pre-claim token after the claim)."""


class Forbidden(OpenTrainError):
    """403 for a reason none of the subclasses names."""


class MissingScope(Forbidden):
    @property
    def required_scopes(self) -> list[str]:
        return list(self.details.get("requiredScopes") or [])

    @property
    def granted_scopes(self) -> list[str]:
        return list(self.details.get("grantedScopes") or [])


class FeatureDisabled(Forbidden):
    @property
    def feature_key(self) -> str | None:
        return self.details.get("featureKey")

    @property
    def mode(self) -> str | None:
        return self.details.get("mode")


class ClaimRequired(Forbidden):
    """403 `account_claim_required`: a human must claim the agent account first."""

    @property
    def claim_url(self) -> str | None:
        return self.details.get("claimUrl")

    @property
    def action(self) -> str | None:
        return self.details.get("action")


class ModerationBlocked(Forbidden):
    @property
    def reasons(self) -> list[str]:
        return [str(r) for r in self.details.get("reasons") or []]


class BadRequest(OpenTrainError):
    @property
    def issues(self) -> list[Any]:
        """The zod issues the API attached (`details.issues`), else the details themselves when they name a field."""
        issues = self.details.get("issues")
        if isinstance(issues, list):
            return issues
        return [self.details] if self.details.get("field") else []


class NotPublishReady(BadRequest):
    """400 on publish: the draft still has gaps; `validation` is the same report as the draft endpoints'."""

    @property
    def validation(self) -> Validation:
        return Validation.model_validate(self.details.get("validation") or {})

    @property
    def missing_fields(self) -> list[MissingField]:
        return [MissingField.model_validate(entry) for entry in self.details.get("missingFields") or []
                if isinstance(entry, (dict, str))]


class NotFound(OpenTrainError):
    pass


class Conflict(OpenTrainError):
    """409. A hire or a milestone funding refused for want of a way to pay says so in `details.reason`."""

    @property
    def payment_method_required(self) -> bool:
        return self.reason == "payment_method_required"

    @property
    def billing_url(self) -> str | None:
        url = self.details.get("billingUrl")
        return str(url) if url else None

    # `PATCH /jobs/{id}` (contract §2.5.7)
    @property
    def moderation_blocked(self) -> bool:
        """Moderation refused a live edit: the edit IS applied and the job is back to DRAFT."""
        return self.reason == "moderation_blocked"

    @property
    def moderation_reasons(self) -> list[str]:
        return [str(r) for r in self.details.get("reasons") or []]

    @property
    def not_open(self) -> bool:
        """The job is not OPEN (`details.requiredStatus`); `job_status` says what it is."""
        return self.reason is None and self.details.get("requiredStatus") == "OPEN"

    @property
    def job_status(self) -> str | None:
        status = self.details.get("status")
        return str(status) if status else None

    # `POST /jobs/{id}/invites` (contract §2.5.9)
    @property
    def job_not_published(self) -> bool:
        return self.reason == "job_not_published"

    @property
    def not_a_freelancer(self) -> bool:
        return self.reason == "not_a_freelancer"

    @property
    def freelancer_unavailable(self) -> bool:
        return self.reason == "freelancer_unavailable"


class RateLimited(OpenTrainError):
    """429. `retry_after` (seconds) comes from `Retry-After` or `details.retryAfterSeconds`; None when neither."""

    def __init__(self, message: str, *, retry_after: float | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        if retry_after is None:
            retry_after = _seconds(self.details.get("retryAfterSeconds"))
        self.retry_after = retry_after


class ServerError(OpenTrainError):
    """5xx: OpenTrain failed; reads were already retried."""


class OAuthError(OpenTrainError):
    """An agent-auth failure. `code` is the OAuth `error`; `description` its `error_description`."""

    @property
    def error(self) -> str | None:
        return self.code

    @property
    def description(self) -> str | None:
        return self.details.get("error_description")


class AuthorizationPending(OAuthError):
    @property
    def attempt_expired(self) -> bool:
        """Still pending, but this attempt's code lapsed: only a new claim start helps. The contract names no code
        for it; OpenTrain marks it in `error_description`."""
        return "attempt_expired" in (self.description or "")


class SlowDown(OAuthError):
    pass


class ExpiredToken(OAuthError):
    pass


class InvalidGrant(OAuthError):
    pass


class UnsupportedGrantType(OAuthError):
    pass


class UnsupportedIdentityType(OAuthError):
    pass


class AnonymousNotEnabled(OAuthError):
    pass


class InvalidRequest(OAuthError):
    """`invalid_request` covers several causes (contract §2.1.2); `error_description` tells them apart."""

    @property
    def email_already_registered(self) -> bool:
        return "email_already_registered" in (self.description or "")

    @property
    def already_claimed(self) -> bool:
        """Claim start refused because the human already confirmed an earlier code (no code is documented for it)."""
        return "already claimed" in (self.description or "")


class OAuthRateLimited(OAuthError, RateLimited):
    pass


OAUTH_ERRORS: dict[str, type[OAuthError]] = {
    "authorization_pending": AuthorizationPending,
    "slow_down": SlowDown,
    "expired_token": ExpiredToken,
    "invalid_grant": InvalidGrant,
    "unsupported_grant_type": UnsupportedGrantType,
    "unsupported_identity_type": UnsupportedIdentityType,
    "invalid_request": InvalidRequest,
    "anonymous_not_enabled": AnonymousNotEnabled,
    "rate_limit_exceeded": OAuthRateLimited,
}

OAUTH_CODE = re.compile(r"[a-z][a-z_]*")

PUBLIC_ERRORS_BY_STATUS: dict[int, type[OpenTrainError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 429: RateLimited,
}


def error_from_response(status: int, body: Any, headers: dict[str, str] | None = None) -> OpenTrainError:
    """The typed error for a non-2xx answer, whichever envelope (or none) it carries."""
    body = body if isinstance(body, dict) else {}
    retry_after = _retry_after_header({k.lower(): v for k, v in (headers or {}).items()}.get("retry-after"))
    if "code" not in body and _is_oauth_code(body.get("error")):
        oauth = OAuthErrorBody.model_validate(body)
        if status >= 500:
            return ServerError(oauth.error_description or oauth.error, status=status, code=oauth.error)
        return _oauth_error(status, oauth, retry_after)
    public = PublicErrorBody.model_validate(body)
    fields: dict[str, Any] = dict(status=status, code=public.code, request_id=public.request_id,
                                  details=public.details)
    message = public.error or _fallback_message(body, status)
    if status >= 500:
        return ServerError(message, **fields)
    if status == 429:
        return RateLimited(message, retry_after=retry_after, **fields)
    return _public_class(status, public.details)(message, **fields)


def _public_class(status: int, details: dict[str, Any]) -> type[OpenTrainError]:
    if status == 403:
        reason = details.get("reason")
        if reason == "account_claim_required":
            return ClaimRequired
        if reason == "moderation_blocked":
            return ModerationBlocked
        if details.get("featureKey"):
            return FeatureDisabled
        if details.get("requiredScopes") is not None:
            return MissingScope
    if status == 400 and isinstance(details.get("validation"), dict):
        return NotPublishReady
    return PUBLIC_ERRORS_BY_STATUS.get(status, OpenTrainError)


def _oauth_error(status: int, oauth: OAuthErrorBody, retry_after: float | None) -> OAuthError:
    details = {"error_description": oauth.error_description} if oauth.error_description else {}
    cls = OAUTH_ERRORS.get(oauth.error, OAuthRateLimited if status == 429 else OAuthError)
    fields: dict[str, Any] = dict(status=status, code=oauth.error, details=details)
    if issubclass(cls, RateLimited):
        fields["retry_after"] = retry_after
    return cls(oauth.error_description or oauth.error, **fields)


def _is_oauth_code(value: Any) -> bool:
    """OAuth errors are snake_case codes (`invalid_grant`); the public envelope's `error` is a sentence."""
    return isinstance(value, str) and OAUTH_CODE.fullmatch(value) is not None


def _fallback_message(body: dict[str, Any], status: int) -> str:
    if body.get("status"):  # `GET /jobs/{id}` on an unlisted job: `{"id", "status": "closed"}`
        return f"OpenTrain answered HTTP {status} with status {body['status']!r}."
    return f"OpenTrain answered HTTP {status}."


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, seconds)


def _retry_after_header(value: str | None) -> float | None:
    """`Retry-After` as seconds: either delta-seconds or an HTTP date."""
    if value is None:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
