"""Pages of OpenTrain's web app the bot links people to. The API documents none of these paths [inferred]."""

from __future__ import annotations

OPENTRAIN_APP_URL = "https://app.opentrain.ai"


def proposal_page(job_url: str | None, job_id: str, proposal_id: str) -> str:
    """No proposal page is documented; the job's page plus the proposal id is where OpenTrain lists it."""
    base = (job_url or f"{OPENTRAIN_APP_URL}/jobs/{job_id}").rstrip("/")
    return f"{base}/proposals/{proposal_id}"


def conversation_page(conversation_id: str) -> str:
    """Where the hiring side writes to a candidate once the conversation is open."""
    return f"{OPENTRAIN_APP_URL}/messages?conversationId={conversation_id}"
