"""The sandbox's conversations and messages (contract §2.8, §2.6.4): the employer-first rule, the content policy, a
read-only conversation, the messaging rate limit, and the candidate's side played through the control API.

A conversation belongs to one proposal: the employer (the job's account) and the candidate. The employer writes
through `POST /messages`; the candidate through the control API (`/_sandbox/conversations/{id}/reply`), and each of
the candidate's messages emits `message.received` to the employer's account. Tests arm the next send's refusal
(`/_sandbox/conversations/{id}/next-send`): policy-blocked, rate-limited (429 with `retryAfterSeconds`), read-only.

Message-mode paging ([inferred] beyond the contract: cursors are message ids, as proposal cursors are): with
`direction=older` (the default) a page is the messages before the cursor, newest first; with `direction=newer`, the
messages after it, oldest first (no cursor: from the first message). `nextCursor` is the last id of the page when
more remain, else null.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.records import (
    Json,
    PublicError,
    bad_request,
    conflict,
    forbidden,
    iso,
    new_id,
    not_found,
)

MAX_CONTENT_CHARS = 10_000
NEXT_SEND_REFUSALS = ("policy_blocked", "rate_limited", "employer_first", "read_only")


@dataclass
class Message:
    id: str
    conversation_id: str
    job_id: str | None
    sender_user_id: str
    content: str
    created_at: float
    attachment_count: int = 0

    def wire(self, viewer_user_id: str) -> dict:
        return {
            "id": self.id, "createdAt": iso(self.created_at), "updatedAt": iso(self.created_at),
            "conversationId": self.conversation_id, "jobId": self.job_id, "senderUserId": self.sender_user_id,
            "isFromViewer": self.sender_user_id == viewer_user_id, "content": self.content, "messageType": None,
            "system": False, "hasUnreadFlag": False, "attachmentCount": self.attachment_count, "hasAudio": False,
            "editedAt": None, "reactionCount": 0,
        }


@dataclass
class Conversation:
    id: str
    account_id: str  # the employer's account
    employer_user_id: str
    candidate_user_id: str
    proposal_id: str
    job_id: str
    messages: list[Message] = field(default_factory=list)
    read_only: bool = False
    next_send: list[dict] = field(default_factory=list)  # armed refusals, used one per send

    def employer_has_written(self) -> bool:
        return any(m.sender_user_id == self.employer_user_id for m in self.messages)


# How the World emits an event: (account id, type, resource id, job id, data).
Emit = Callable[[str, str, str, str | None, dict], Any]


class Messaging:
    """All conversations of the sandbox; the World owns one and resets it with everything else."""

    def __init__(self, now: Callable[[], float], emit: Emit) -> None:
        self._now = now
        self._emit = emit
        self.conversations: dict[str, Conversation] = {}

    def reset(self) -> None:
        self.conversations = {}

    def open(self, conversation_id: str, account_id: str, employer_user_id: str, candidate_user_id: str,
             proposal_id: str, job_id: str) -> None:
        self.conversations.setdefault(conversation_id, Conversation(
            conversation_id, account_id, employer_user_id, candidate_user_id, proposal_id, job_id))

    def _own(self, account_id: str, conversation_id: Json) -> Conversation:
        if not isinstance(conversation_id, str) or not conversation_id:
            raise bad_request("conversationId is required.", issues=[
                {"path": ["conversationId"], "message": "Required", "code": "invalid_type"}])
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            raise not_found("No such conversation.", conversationId=conversation_id)
        if conversation.account_id != account_id:
            raise forbidden("You are not a participant of this conversation.", conversationId=conversation_id)
        return conversation

    # ---- the employer (public API)

    def send(self, account_id: str, body: Json) -> dict:
        if not isinstance(body, dict):
            raise bad_request("The body must be a JSON object.")
        conversation = self._own(account_id, body.get("conversationId"))
        content = body.get("content")
        if not isinstance(content, str) or not 1 <= len(content) <= MAX_CONTENT_CHARS:
            raise bad_request("Invalid message.", issues=[{
                "path": ["content"], "code": "too_big" if isinstance(content, str) and content else "too_small",
                "message": f"content must be 1-{MAX_CONTENT_CHARS:,} characters of plain text"}])
        if conversation.next_send:
            raise _refusal(conversation.next_send.pop(0))
        if conversation.read_only:
            raise conflict("This conversation is read-only.", reason="read_only_conversation")
        message = self._add(conversation, conversation.employer_user_id, content, 0)
        return {"ok": True, "message": message.wire(conversation.employer_user_id)}

    def read(self, account_id: str, conversation_id: str, direction: str, cursor: str | None, limit: int) -> dict:
        conversation = self._own(account_id, conversation_id)
        if direction not in ("older", "newer"):
            raise bad_request("Invalid query.", issues=[{"path": ["direction"], "code": "invalid_enum_value",
                                                         "message": "Expected 'older' | 'newer'"}])
        ordered = conversation.messages if direction == "newer" else list(reversed(conversation.messages))
        start = 0
        if cursor:
            ids = [m.id for m in ordered]
            if cursor not in ids:
                raise bad_request("Unknown cursor.", field="cursor")
            start = ids.index(cursor) + 1
        page = ordered[start:start + limit]
        more = start + limit < len(ordered)
        return {"messages": [m.wire(conversation.employer_user_id) for m in page],
                "nextCursor": page[-1].id if page and more else None}

    def listing(self, account_id: str, limit: int) -> dict:
        mine = [c for c in self.conversations.values() if c.account_id == account_id]
        mine.sort(key=lambda c: c.messages[-1].created_at if c.messages else 0, reverse=True)
        return {"conversations": [_summary(c) for c in mine[:limit]], "nextCursor": None}

    # ---- the candidate and the test's hand (control API)

    def reply(self, conversation_id: str, content: Json, attachments: Json) -> dict:
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            raise not_found("No such conversation.", conversationId=conversation_id)
        if not isinstance(content, str) or not 1 <= len(content) <= MAX_CONTENT_CHARS:
            raise bad_request(f"content must be 1-{MAX_CONTENT_CHARS:,} characters.", field="content")
        if isinstance(attachments, bool) or not isinstance(attachments, int) or attachments < 0:
            raise bad_request("attachments must be a count (0 or more).", field="attachments")
        if not conversation.employer_has_written():
            raise forbidden("The candidate cannot write before the employer has.",
                            reason="employer_first_message_required")
        message = self._add(conversation, conversation.candidate_user_id, content, attachments)
        return message.wire(conversation.employer_user_id)

    def arm_next_send(self, conversation_id: str, refusal: Json, retry_after: Json) -> list[dict]:
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            raise not_found("No such conversation.", conversationId=conversation_id)
        if refusal not in NEXT_SEND_REFUSALS:
            raise bad_request("Unknown refusal.", field="refusal", supported=list(NEXT_SEND_REFUSALS))
        if retry_after is not None and (isinstance(retry_after, bool) or not isinstance(retry_after, int)
                                        or retry_after < 0):
            raise bad_request("retryAfterSeconds must be a non-negative integer.", field="retryAfterSeconds")
        if refusal == "read_only":
            conversation.read_only = True  # from now on, every send
        else:
            conversation.next_send.append({"refusal": refusal, "retryAfterSeconds": retry_after or 1})
        return conversation.next_send

    def _add(self, conversation: Conversation, sender: str, content: str, attachments: int) -> Message:
        message = Message(new_id("msg"), conversation.id, None, sender, content, self._now(), attachments)
        conversation.messages.append(message)
        if sender == conversation.candidate_user_id:
            self._emit(conversation.account_id, "message.received", message.id, conversation.job_id,
                       {"conversationId": conversation.id, "messageId": message.id})
        return message


def _refusal(armed: dict) -> PublicError:
    if armed["refusal"] == "policy_blocked":
        return forbidden("This message was blocked by the messaging policy.", reason="message_policy_blocked",
                         policy="contact_information")
    if armed["refusal"] == "employer_first":
        return conflict("The candidate must be written to first by the job's owner.",
                        reason="employer_first_message_required")
    seconds = armed["retryAfterSeconds"]
    return PublicError(429, "RATE_LIMITED", "Messaging rate limit reached; slow down.",
                       {"retryAfterSeconds": seconds}, headers={"Retry-After": str(seconds)})


def _summary(conversation: Conversation) -> dict:
    last = conversation.messages[-1] if conversation.messages else None
    return {
        "id": conversation.id, "type": "DIRECT_MESSAGE", "bucket": "proposal", "jobId": None,
        "proposalId": conversation.proposal_id, "channelName": None,
        "updatedAt": iso(last.created_at) if last else None,
        "lastMessage": None if last is None else {
            "id": last.id, "content": last.content, "senderUserId": last.sender_user_id,
            "isFromViewer": last.sender_user_id == conversation.employer_user_id, "createdAt": iso(last.created_at)},
        "unreadCount": 0, "needsReplyCount": 0,
    }
