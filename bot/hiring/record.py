"""The conversation record: everything the engine needs to take the next step, from any process, with real types.

It is stored as JSON (see `store.py`). Field names are the stored names, so records written before these types
existed still load.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pydantic import BaseModel, Field

from bot.hiring.intake import JobSource
from bot.hiring.states import Op, State

PROCESSED_MEMORY = 200  # message ids remembered per conversation for dedupe


class ConversationRef(NamedTuple):
    workspace_id: str
    conversation_id: str  # Slack: f"{channel}:{thread_ts}"; shell: "shell:<n>"


class FieldSpec(BaseModel):
    """What the draft report says about one field: how to ask for it and which update keys answer it."""

    field: str
    label: str
    prompt: str
    type: str = "string"  # enum | number | integer | boolean | array | string ... as the API reports it
    enum_values: list[str] = Field(default_factory=list)
    update_keys: list[str] = Field(default_factory=list)
    example: str | None = None
    hint: str | None = None


class Unmapped(BaseModel):
    path: str
    reason: str
    preview: str = ""


class Report(BaseModel):
    """The draft's validation report as the conversation keeps it (see `report.read_report`)."""

    job_id: str | None = None
    draft_url: str | None = None
    review_url: str | None = None
    publish_ready: bool = True
    missing: list[FieldSpec] = Field(default_factory=list)
    normalized: dict[str, Any] = Field(default_factory=dict)
    low_confidence: list[str] = Field(default_factory=list)
    unmapped: list[Unmapped] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    issues: list[str] = Field(default_factory=list)
    # From the capabilities probe and earlier reports: choices per update key, every update key, fields seen.
    enums: dict[str, list[str]] = Field(default_factory=dict)
    update_keys: list[str] = Field(default_factory=list)
    known: dict[str, FieldSpec] = Field(default_factory=dict)


class CallArgs(BaseModel):
    field: str | None = None  # patch: the field the answer belongs to
    fields: dict[str, Any] = Field(default_factory=dict)  # patch: every key sent
    email: str | None = None  # claim_start


class PendingCall(BaseModel):
    """An OpenTrain call in flight. Recording it is the lock; a dead process leaves it for the next message."""

    op: Op
    args: CallArgs = Field(default_factory=CallArgs)
    message_id: str
    started_at: float


class Failure(BaseModel):
    reason: str | None = None
    retry: Op | None = None  # what `retry` repeats; None when retrying cannot help


class Conversation(BaseModel):
    workspace_id: str
    conversation_id: str
    requester: str
    state: State  # written only by `table.move`
    created_at: float
    updated_at: float
    description: str = ""
    source: JobSource | None = None  # a structured posting the draft is created from, in its own format
    idempotency_key: str = ""
    job_id: str | None = None
    job_url: str | None = None
    report: Report = Field(default_factory=Report)
    answered: list[str] = Field(default_factory=list)  # fields answered, oldest first (for `back`)
    reask: str | None = None  # a field asked again on request (back / edit), even if not missing
    partial: dict[str, Any] = Field(default_factory=dict)  # answers so far for a multi-key field
    confirmed: list[str] = Field(default_factory=list)  # low-confidence fields the requester confirmed
    # The question open now ("<update key>" while asking) and when it was asked: an answer sent before that answers
    # an earlier question, never this one.
    asked: str | None = None
    asked_at: float = 0.0
    pending: PendingCall | None = None
    failure: Failure | None = None  # while failed
    claim_email: str | None = None
    claim_to_confirm: str | None = None  # an email given for the claim, waiting for an explicit `confirm`
    processed: list[str] = Field(default_factory=list)
    # The message whose handling shows the latest step. A redelivery of another message (its process died after the
    # step was saved) leaves the showing to this one's handler, which may be alive and posting it right now.
    shown_by: str = ""
    surface: dict[str, Any] = Field(default_factory=dict)  # opaque to the core: where a front end shows it
    version: int = Field(default=0, exclude=True)

    @property
    def ref(self) -> ConversationRef:
        return ConversationRef(self.workspace_id, self.conversation_id)

    def mark_processed(self, message_id: str) -> None:
        if message_id and message_id not in self.processed:
            self.processed = [*self.processed, message_id][-PROCESSED_MEMORY:]

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, raw: str, version: int) -> Conversation:
        return cls.model_validate_json(raw).model_copy(update={"version": version})
