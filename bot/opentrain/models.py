"""pydantic models of every OpenTrain payload the bot reads.

Reading is tolerant (contract legend: accept every documented variant): unknown keys are ignored, optional keys
default, and each [conflict]/[inferred] variant parses into one normalised shape. Public-API models use camelCase
aliases and accept snake_case names too; agent-auth payloads are snake_case on the wire. Timestamps stay ISO
strings. Tokens are SecretStr, so reprs and dumps mask them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from bot.opentrain.links import is_opentrain_id

ASK_PREFIX = "ask: "


def _checked_id(value: str) -> str:
    # The message names no value: pydantic would not echo it anyway, and `_parse` keeps only the location.
    if not is_opentrain_id(value):
        raise ValueError("not an OpenTrain id (letters, digits, _ and -, at most 128)")
    return value


# An id that goes into links, action values or Slack text: anything else makes the answer unreadable.
OpenTrainId = Annotated[str, AfterValidator(_checked_id)]


class WireModel(BaseModel):
    """snake_case on the wire (agent auth)."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class ApiModel(BaseModel):
    """camelCase on the wire (public API); snake_case names accepted as well."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, alias_generator=to_camel,
                              populate_by_name=True)


def _unwrap(value: Any, envelope: str) -> Any:
    """`{envelope: {...}}` -> the inner object; anything else unchanged."""
    if isinstance(value, dict) and isinstance(value.get(envelope), dict):
        return value[envelope]
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("message", "text", "warning", "reason", "detail"):
            if isinstance(text := value.get(key), str):
                return text
    return json.dumps(value, sort_keys=True, default=str)


# Warnings and validation issues arrive as strings or objects ([inferred]); the bot only shows their text.
Texts = Annotated[list[str], BeforeValidator(lambda entries: [_as_text(e) for e in entries or []])]


# --- error envelopes ---------------------------------------------------------------------------------------------

class PublicErrorBody(ApiModel):
    error: str = ""  # the human-readable message
    code: str | None = None
    request_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @field_validator("error", mode="before")
    @classmethod
    def _message_text(cls, value: Any) -> str:
        return value if isinstance(value, str) else ""

    @field_validator("details", mode="before")
    @classmethod
    def _details_object(cls, value: Any) -> dict[str, Any]:
        if isinstance(value, list):  # zod issues given bare
            return {"issues": value}
        return value if isinstance(value, dict) else {}


class OAuthErrorBody(WireModel):
    error: str
    error_description: str | None = None


# --- agent auth --------------------------------------------------------------------------------------------------

class Registration(WireModel):
    identity_type: str = "anonymous"
    registration_id: str | None = None
    access_token: SecretStr
    token_type: str = "bearer"
    scopes: list[str] = Field(default_factory=list)
    claim_token: SecretStr | None = None
    claim_token_expires_at: str | None = None
    claim_endpoint: str | None = None
    token_endpoint: str | None = None
    grant_type: str | None = None


class ClaimStart(WireModel):
    user_code: str
    # Embeds an ot_cat_ attempt token meant for the human: shown to them, kept out of reprs.
    verification_uri: str = Field(repr=False)
    expires_in: float = 1800
    interval: float = 5
    email_sent: bool = False


class ClaimGrant(WireModel):
    access_token: SecretStr
    token_type: str = "bearer"
    scopes: list[str] = Field(default_factory=list)


# --- identity and tokens -----------------------------------------------------------------------------------------

class Actor(ApiModel):
    user_id: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    user_type: str | None = None


class TokenInfo(ApiModel):
    id: str | None = None
    label: str | None = None
    scopes: list[str] = Field(default_factory=list)
    owner_organization_id: str | None = None


class AccountInfo(ApiModel):
    kind: str | None = None
    organization_id: str | None = None
    owner_user_id: str | None = None
    member_role: str | None = None
    claimed: bool | None = None  # not documented; the sandbox adds it (contract §5.9)


class AuthMe(ApiModel):
    actor: Actor = Field(default_factory=Actor)
    token: TokenInfo = Field(default_factory=TokenInfo)
    account: AccountInfo = Field(default_factory=AccountInfo)


class TokenRecord(ApiModel):
    id: str
    name: str | None = None
    preview: str | None = None
    scopes: list[str] = Field(default_factory=list)
    status: str | None = None
    organization_id: str | None = None
    created_at: str | None = None
    last_used_at: str | None = None
    expires_at: str | None = None
    revoked_at: str | None = None


# --- capabilities ------------------------------------------------------------------------------------------------

class FeatureCapabilities(ApiModel):
    """Each flag is None when the probe did not mention it (unknown, not off)."""

    draft_import: bool | None = None
    draft_create: bool | None = None
    draft_update: bool | None = None
    draft_url_read: bool | None = None
    publish: bool | None = None
    hiring: bool | None = None
    messaging_writes: bool | None = None
    team: bool | None = None
    payments_write: bool | None = None
    credits: bool | None = None
    webhooks: bool | None = None


class DraftSchema(ApiModel):
    import_formats: list[str] = Field(default_factory=list)
    update_keys: list[str] = Field(default_factory=list)
    enums: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("update_keys")
    @classmethod
    def _drop_ellipsis(cls, keys: list[str]) -> list[str]:
        return [k for k in keys if k != "..."]  # the docs' example truncates the list with "..."


class Capabilities(ApiModel):
    feature_key: str | None = None
    namespace: str | None = None
    rollout_mode: str | None = None
    actor_is_admin: bool = False
    capabilities: FeatureCapabilities = Field(default_factory=FeatureCapabilities)
    draft: DraftSchema = Field(default_factory=DraftSchema)
    auth_bootstrap: str | None = None
    enabled: bool = True


# --- the draft validation report (contract §3) ------------------------------------------------------------------

class MissingField(ApiModel):
    field: str
    label: str | None = None
    message: str | None = None
    code: str | None = None  # generic `missing_required_field` or per-field `MISSING_EXPERIENCE_LEVEL`
    prompt: str | None = None
    type: str | None = None
    enum_values: list[str] | None = None
    update_keys: list[str] = Field(default_factory=list)
    example: str | int | float | None = None
    hint: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"field": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _default_update_key(self) -> MissingField:
        if not self.update_keys:
            self.update_keys = [self.field]
        return self

    @property
    def question(self) -> str:
        """The prompt to relay to a human, without the API-reference `ask: ` prefix."""
        text = (self.prompt or "").strip()
        if text.lower().startswith(ASK_PREFIX):
            text = text[len(ASK_PREFIX):].strip()
        return text or f"What should {self.label or self.field} be?"


class Validation(ApiModel):
    publish_ready: bool = False
    issue_count: int = 0
    missing_field_count: int = 0
    missing_fields: list[str] = Field(default_factory=list)  # field names, whichever form was sent
    issues: Texts = Field(default_factory=list)

    @field_validator("missing_fields", mode="before")
    @classmethod
    def _names(cls, entries: Any) -> list[str]:
        names = []
        for entry in entries or []:
            name = entry.get("field") if isinstance(entry, dict) else entry
            if name:
                names.append(str(name))
        return names


class LowConfidenceField(ApiModel):
    field: str
    value: Any = None
    reason: str | None = None
    confidence: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"field": value}
        if isinstance(value, dict) and "field" not in value and "key" in value:
            return {**value, "field": value["key"]}
        return value


class UnmappedField(ApiModel):
    path: str
    reason: str = ""
    value_preview: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_path(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value

    @field_validator("value_preview", mode="before")
    @classmethod
    def _preview_text(cls, value: Any) -> str | None:
        return None if value is None else _as_text(value)


class DraftReport(ApiModel):
    ok: bool = True
    job_id: OpenTrainId
    status: str = "DRAFT"
    draft_url: str | None = None
    review_url: str | None = None
    validation: Validation = Field(default_factory=Validation)
    missing_fields: list[MissingField] = Field(default_factory=list)
    normalized_fields: dict[str, Any] | None = None  # None: this answer (a PATCH) did not carry them
    low_confidence_fields: list[LowConfidenceField] = Field(default_factory=list)
    unmapped_fields: list[UnmappedField] = Field(default_factory=list)
    warnings: Texts = Field(default_factory=list)

    @property
    def has_field_details(self) -> bool:
        """False for a partial answer (only `validation`): keep the prompts of the last full report."""
        return "missing_fields" in self.model_fields_set

    @property
    def missing_field_names(self) -> list[str]:
        return [m.field for m in self.missing_fields] or list(self.validation.missing_fields)


# --- jobs --------------------------------------------------------------------------------------------------------

class PublishResult(ApiModel):
    ok: bool = True
    job_id: OpenTrainId
    status: str | None = None
    already_published: bool = False
    job_url: str | None = None
    publish_attempt_id: str | None = None
    warnings: Texts = Field(default_factory=list)
    side_effects: dict[str, Any] | None = None


class CloseResult(ApiModel):
    ok: bool = True
    job_id: OpenTrainId
    status: str | None = None
    already_closed: bool = False


class JobEdited(ApiModel):
    """`PATCH /jobs/{id}`: the edit went through moderation and the job is still OPEN."""

    ok: bool = True
    job_id: OpenTrainId
    status: str | None = None
    moderation: dict[str, Any] | None = None


class Invited(ApiModel):
    """`POST /jobs/{id}/invites`: 201 a new invited proposal, 200 the same one again (`already_invited`)."""

    ok: bool = True
    proposal_id: OpenTrainId | None = None
    job_id: OpenTrainId | None = None
    freelancer_id: OpenTrainId | None = None
    already_invited: bool = False


class ProposalCounts(ApiModel):
    total: int = 0
    unreviewed: int = 0


class MyJob(ApiModel):
    id: OpenTrainId
    title: str | None = None
    status: str | None = None
    published: bool = False
    accepting_applicants: bool = False
    created_at: str | None = None
    updated_at: str | None = None
    job_url: str | None = None
    proposal_counts: ProposalCounts = Field(default_factory=ProposalCounts)


# --- freelancers -------------------------------------------------------------------------------------------------

class FreelancerStats(ApiModel):
    job_success_score: float | None = None
    review_count: int | None = None
    average_rating: float | None = None


class Freelancer(ApiModel):
    """`GET /freelancers/{idOrSlug}`: the masked public profile, read from `{"freelancer": {...}}` (or bare)."""

    id: OpenTrainId
    profile_slug: str | None = None
    display_name: str | None = None
    first_name: str | None = None
    last_name_initial: str | None = None
    talent_type: str | None = None
    title: str | None = None
    bio: str | None = None
    country: str | None = None
    hourly_rate_usd: float | None = None
    availability: str | None = None
    expertise_level: str | None = None
    identity_verified: bool | None = None
    stats: FreelancerStats = Field(default_factory=FreelancerStats)
    # Not on the wire: the profile page the client builds from a well-formed slug (links.LinkPolicy.profile_page).
    profile_url: str | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        return _unwrap(value, "freelancer")

    @property
    def name(self) -> str:
        if self.display_name:
            return self.display_name
        initial = f" {self.last_name_initial}." if self.last_name_initial else ""
        return f"{self.first_name or 'A trainer'}{initial}"


# --- proposals ---------------------------------------------------------------------------------------------------

class ProposalStatus(ApiModel):
    raw: str
    label: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"raw": value, "label": value.replace("_", " ").capitalize()}
        return value


class Bid(ApiModel):
    amount_usd: float | None = None
    unit: str | None = None  # as sent: `PER_LABEL` or `per_hour`
    labeler_hourly_rate_usd: float | None = None

    @property
    def unit_key(self) -> str | None:
        """The unit in one spelling whatever the casing: `PER_LABEL`, `PER_HOUR`, ..."""
        return self.unit.strip().upper().replace("-", "_").replace(" ", "_") if self.unit else None


class Candidate(ApiModel):
    id: str | None = None
    profile_slug: str | None = None
    display_name: str | None = None
    first_name: str | None = None
    last_name_initial: str | None = None
    profile_title: str | None = None
    profile_photo_url: str | None = None
    country_code: str | None = None
    country: str | None = None
    talent_type: str | None = None  # `FREELANCER` or `Individual`: any string
    highest_earnings_usd: float | None = None
    review_count: int | None = None


class Metrics(ApiModel):
    """Scores on whatever scale the API used (0-10, 0-100 or 0-1 all appear in the docs)."""

    interview_score: float | None = None
    match_score: float | None = None


class Proposal(ApiModel):
    id: OpenTrainId
    job_id: OpenTrainId | None = None
    job_title: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    status: ProposalStatus | None = None
    bid: Bid = Field(default_factory=Bid)
    candidate: Candidate = Field(default_factory=Candidate)
    metrics: Metrics = Field(default_factory=Metrics)


class AIInterview(ApiModel):
    score: float | None = None
    summary: str | None = None
    transcript_available: bool = False


class ProposalDetail(Proposal):
    """`GET /proposals/{id}`: read from `{"proposal": {...}}` (or bare)."""

    ai_interview: AIInterview | None = None
    verification: dict[str, Any] | None = None
    open_label: Any = None
    contract: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        return _unwrap(value, "proposal")


# --- feed, webhooks, conversations, hires ------------------------------------------------------------------------

class Event(ApiModel):
    id: str
    type: str
    api_version: str | None = None
    created_at: str | None = None
    resource_id: str | None = None
    job_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class UpdatesPage(ApiModel):
    events: list[Event] = Field(default_factory=list)
    next_cursor: str | None = None
    has_more: bool = False


class Webhook(ApiModel):
    id: OpenTrainId
    url: str
    event_types: list[str] = Field(default_factory=list)
    status: str = "ACTIVE"
    created_at: str | None = None
    disabled_at: str | None = None
    disabled_reason: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        return _unwrap(value, "webhook")


class WebhookCreated(ApiModel):
    webhook: Webhook
    # The signing secret is shown once and must be stored by the caller, so it dumps in clear; never in a repr.
    secret: str = Field(repr=False)
    message: str | None = None


class ConversationOpened(ApiModel):
    ok: bool = True
    conversation_id: OpenTrainId
    proposal_id: OpenTrainId | None = None
    job_id: OpenTrainId | None = None
    created: bool = False
    # Not on the wire: the page the client builds from `conversation_id` (links.LinkPolicy.conversation_page).
    conversation_url: str | None = Field(default=None, exclude=True)


class Approval(ApiModel):
    id: OpenTrainId
    type: str | None = None
    status: str | None = None
    contract_id: str | None = None
    milestone_id: str | None = None
    job_id: OpenTrainId | None = None
    proposal_id: OpenTrainId | None = None
    approval_url: str | None = None
    expires_at: str | None = None
    resolved_at: str | None = None
    result: dict[str, Any] | None = None
    created_at: str | None = None

    @property
    def ended(self) -> bool:
        """confirmed, declined or expired (contract §2.11)."""
        return (self.status or "").lower() in APPROVAL_TERMINAL


class HireApproval(ApiModel):
    approval: Approval
    message: str | None = None


# --- contracts, milestones, budgets (contract §2.9-§2.11) ---------------------------------------------------------

APPROVAL_TERMINAL = frozenset({"confirmed", "declined", "expired"})


class ApprovalEnvelope(ApiModel):
    """`GET /approvals/{id}`: `{"approval": {...}}` (a bare approval is accepted too)."""

    approval: Approval

    @model_validator(mode="before")
    @classmethod
    def _wrap(cls, value: Any) -> Any:
        return value if isinstance(value, dict) and "approval" in value else {"approval": value}


class ContractTrainer(ApiModel):
    """The trainer on a contract, as the contract names them (masked)."""

    user_id: str | None = None
    display_name: str | None = None
    country: str | None = None
    profile_path: str | None = None


class Milestone(ApiModel):
    id: OpenTrainId
    name: str | None = None
    description: str | None = None
    status: str = ""  # NOT_FUNDED, ACTIVE_FUNDED, ... (full enum not documented)
    amount_usd: float | None = None
    volume: float | None = None
    milestone_number: int | None = None
    due_date: str | None = None
    pending_approval: bool = False

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        return _unwrap(value, "milestone")

    @field_validator("status", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> str:
        return str(value or "").upper()


class Budget(ApiModel):
    state: str = "OK"  # OK, LOW, DEPLETED
    payment_type: str | None = None
    funded_volume: float | None = None
    funded_amount_usd: float | None = None
    consumed_volume: float | None = None
    remaining_volume: float | None = None
    consumed_fraction: float | None = None

    @field_validator("state", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> str:
        return str(value or "OK").upper()


class Contract(ApiModel):
    id: OpenTrainId
    status: str = "active"
    title: str | None = None
    job_id: OpenTrainId | None = None
    proposal_id: OpenTrainId | None = None
    payment_type: str = "FIXED_PRICE"
    rate_usd: float | None = None
    freelancer: ContractTrainer = Field(default_factory=ContractTrainer)
    milestones: list[Milestone] = Field(default_factory=list)
    budget: Budget | None = None  # only on GET /contracts/{id}

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        return _unwrap(value, "contract")

    @field_validator("status", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> str:
        return str(value or "active").lower()

    @field_validator("payment_type", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> str:
        return str(value or "FIXED_PRICE").upper()

    def milestone(self, milestone_id: str) -> Milestone | None:
        return next((m for m in self.milestones if m.id == milestone_id), None)


class ContractEnded(ApiModel):
    """`POST /contracts/{id}/end`: ended at once (200) or an approval to co-sign (202)."""

    ok: bool = True
    contract_id: str | None = None
    status: str | None = None
    approval: Approval | None = None
    message: str | None = None


class Message(ApiModel):
    """One message of a conversation (contract §2.8); attachments only as a count, never as files."""

    id: OpenTrainId
    conversation_id: str | None = None
    created_at: str | None = None
    sender_user_id: str | None = None
    is_from_viewer: bool = False
    content: str = ""
    system: bool = False
    attachment_count: int = 0

    @field_validator("content", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("attachment_count", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        return 0 if value is None else value


class MessagesPage(ApiModel):
    """A page of one conversation's messages; the top-level key is [inferred] (`messages`, or `data`)."""

    messages: list[Message] = Field(default_factory=list, validation_alias=AliasChoices("messages", "data"))
    next_cursor: str | None = None


class MessageSent(ApiModel):
    ok: bool = True
    message: Message


class Credits(ApiModel):
    """`GET /credits`: the prepaid balance, from `{"credits": {...}}` (or bare); cents, as OpenTrain counts them."""

    available_cents: int = 0
    reserved_cents: int = 0
    currency: str = "usd"

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        return _unwrap(value, "credits")
