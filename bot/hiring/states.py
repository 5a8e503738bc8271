"""The conversation's states and the OpenTrain calls a step can make. Which moves are legal is `table.py`'s job."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    DRAFTING = "drafting"  # the draft is being created
    ASKING = "asking"  # a question is open
    REVIEW = "review"  # the review card is shown
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    CLAIM_PENDING = "claim_pending"  # published; a human is claiming the bot's OpenTrain account
    CLAIMED = "claimed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"  # the last step failed; `retry` may repeat it


# A conversation still being worked on: it expires after being idle, and a second `/hire` in its place is refused.
ACTIVE = frozenset({State.DRAFTING, State.ASKING, State.REVIEW, State.PUBLISHING, State.FAILED})
OPEN = ACTIVE | {State.CLAIM_PENDING}


class Op(StrEnum):
    """An OpenTrain call a step makes; every one is safe to replay (see `steps.py`)."""

    CREATE = "create"
    PATCH = "patch"
    PUBLISH = "publish"
    CLAIM_START = "claim_start"


class Event(StrEnum):
    """Moves that no message asks for."""

    IDLE = "idle"  # nothing happened for CONVERSATION_IDLE_SECONDS
    CLAIM_SETTLED = "claim_settled"  # the claim poll reached an end
    REOPENED = "reopened"  # moderation sent the published job back to draft (a live edit it blocked)


class IllegalTransition(Exception):
    pass
