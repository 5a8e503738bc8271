"""New jobs from a modal (`/hire` with no text) and from a message (the "Hire from this message" shortcut).

Both only read the request and hand a start to the inbox, as `/hire <text>` does (`commands._start_job`), so a
process dying after the ack loses nothing. The shortcut's conversation runs in a thread under the message it was
used on; the modal's in the channel picked, where any note goes to the person alone.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.slack.blocks.new_job import NEW_JOB_MODAL, read_submission
from bot.slack.clicks import click_origin
from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

HIRE_FROM_MESSAGE = "hire_from_message"  # the message shortcut's callback_id (manifest.yml)
THREAD_TAKEN = ("That thread already holds a hiring conversation. Use the shortcut on a message outside it, or type "
                "`/hire` to start a new one.")


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.view(NEW_JOB_MODAL)
    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        description, file, channel, errors = read_submission(view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        origin = click_origin(body)
        start = {"team_id": origin.team_id, "user_id": origin.user_id, "channel_id": channel, "text": description,
                 "trigger_id": str(view.get("id") or ""), "response_url": "", "file": file}
        await deps.inbox.accept("hire", f"hire:{origin.team_id}:{origin.user_id}:{start['trigger_id']}", start)

    @app.shortcut(HIRE_FROM_MESSAGE)
    async def on_shortcut(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        origin = click_origin(body)
        message = body.get("message") or {}
        thread = str(message.get("thread_ts") or message.get("ts") or "")
        if await deps.registry.get(origin.team_id, f"{origin.channel}:{thread}") is not None:
            # That thread is a job's conversation already: a second one there would take its place.
            await respond(text=THREAD_TAKEN, response_type="ephemeral", replace_original=False)
            return
        files = [f for f in message.get("files") or [] if isinstance(f, dict)]
        start = {"team_id": origin.team_id, "user_id": origin.user_id, "channel_id": origin.channel,
                 "text": str(message.get("text") or ""),
                 "trigger_id": str(body.get("trigger_id") or ""), "response_url": str(body.get("response_url") or ""),
                 "reply_to": thread,
                 "file": files[0] if files and not message.get("text") else None}
        await deps.inbox.accept("hire", f"hire:{origin.team_id}:{origin.user_id}:{start['trigger_id']}", start)
