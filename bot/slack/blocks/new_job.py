"""The "New job" modal: `/hire` with no text, and Home's "New job" button."""

from __future__ import annotations

from typing import Any

NEW_JOB_MODAL = "hire:new-job"
DESCRIPTION_BLOCK, FILE_BLOCK, CHANNEL_BLOCK = "description", "file", "channel"
INPUT = "value"
FILE_TYPES = ["txt", "md", "pdf", "docx", "json", "xml"]
MAX_DESCRIPTION = 3000  # Slack's plain_text_input limit; longer descriptions come as a file


def new_job_modal(channel_id: str | None = None) -> dict[str, Any]:
    """Description or file (one is enough), and the channel the conversation happens in (the current one by
    default)."""
    channel_select: dict[str, Any] = {
        "type": "conversations_select", "action_id": INPUT, "default_to_current_conversation": True,
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel_id:
        channel_select["initial_conversation"] = channel_id
    return {
        "type": "modal", "callback_id": NEW_JOB_MODAL,
        "title": {"type": "plain_text", "text": "New job"},
        "submit": {"type": "plain_text", "text": "Start"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "input", "block_id": DESCRIPTION_BLOCK, "optional": True,
             "label": {"type": "plain_text", "text": "Describe the job in plain English"},
             "hint": {"type": "plain_text", "text": "What needs doing, how much, by whom. I ask for anything "
                                                    "OpenTrain still needs, in a thread."},
             "element": {"type": "plain_text_input", "action_id": INPUT, "multiline": True,
                         "max_length": MAX_DESCRIPTION,
                         "placeholder": {"type": "plain_text",
                                         "text": "We need 10 annotators for 50,000 dashcam images, $18/hour"}}},
            {"type": "input", "block_id": FILE_BLOCK, "optional": True,
             "label": {"type": "plain_text", "text": "…or attach a job description"},
             "hint": {"type": "plain_text", "text": "Text, Markdown, PDF or DOCX; a JSON-LD JobPosting, Indeed or "
                                                    "HR-XML posting goes to OpenTrain in its own format."},
             "element": {"type": "file_input", "action_id": INPUT, "filetypes": FILE_TYPES, "max_files": 1}},
            {"type": "input", "block_id": CHANNEL_BLOCK,
             "label": {"type": "plain_text", "text": "Post the conversation in"},
             "element": channel_select},
        ],
    }


def read_submission(view: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str, dict[str, str]]:
    """(description, file, channel, errors by block) from a submitted modal; values are the person's words."""
    values = (view.get("state") or {}).get("values") or {}
    description = str(((values.get(DESCRIPTION_BLOCK) or {}).get(INPUT) or {}).get("value") or "").strip()
    files = ((values.get(FILE_BLOCK) or {}).get(INPUT) or {}).get("files") or []
    channel = str(((values.get(CHANNEL_BLOCK) or {}).get(INPUT) or {}).get("selected_conversation") or "")
    errors: dict[str, str] = {}
    if not description and not files:
        errors[DESCRIPTION_BLOCK] = "Describe the job, or attach a file with its description."
    if not channel:
        errors[CHANNEL_BLOCK] = "Pick the channel the conversation should happen in."
    file = files[0] if files and isinstance(files[0], dict) else None
    return description, file, channel, errors
