"""A file shared in a DM with the bot starts a hiring conversation from it, in a thread under that message.

The file is downloaded from Slack (`files.py`), read by the core (`hiring.intake`: text, PDF, DOCX, or a posting
in its own format) and handed to the dialogue as `/hire` would start it. A file that can't be used gets one
sentence in that thread, and nothing is created.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.intake import IntakeLimits, JobSource, Unreadable, describe_from_file
from bot.slack.blocks.safe import escape
from bot.slack.deps import SlackDeps
from bot.slack.dialogue import SLACK_CALL_ERRORS, failure_code
from bot.slack.files import FileDownloader, SlackFile

log = logging.getLogger(__name__)


def is_dm_file_share(event: dict[str, Any]) -> bool:
    """A person's own top-level message in their DM with the bot, carrying a file."""
    return (
        event.get("channel_type") == "im"
        and event.get("subtype") in (None, "file_share")
        and not event.get("bot_id")
        and bool(event.get("user"))
        and bool(event.get("files"))
        and event.get("thread_ts") in (None, event.get("ts"))
    )


def start_id(event: dict[str, Any]) -> str:
    """The start's id: one per shared message, the same for Slack's retries of its event."""
    return f"file:{event['channel']}:{event['ts']}"


async def start_from_file(deps: SlackDeps, shared: dict[str, Any], redelivered: bool) -> bool:
    """False: a retry of an event another process took first; the inbox keeps it in case that process died."""
    team_id, event = shared["team_id"], shared["event"]
    if not redelivered and not await deps.deduper.first_delivery(team_id, shared["event_id"]):
        return False
    channel, ts = event["channel"], event["ts"]

    async def tell(sentence: str) -> None:
        await _reply(deps.client, channel, ts, sentence)

    try:
        try:
            source = await read_shared_file(deps, event["files"][0])  # the first file: one message starts one job
        except Unreadable as exc:
            await tell(escape(exc.sentence))
            return True
        return await deps.dialogue.start(team_id=team_id, user_id=event["user"], channel_id=channel,
                                         text=source.headline, message_id=start_id(event), tell=tell,
                                         redelivered=redelivered, source=source, reply_to=ts)
    except Exception:
        log.exception("starting a job from a shared file failed")
        await tell("Something went wrong on my side and the job was not started; please share the file again.")
        return True


async def read_shared_file(deps: SlackDeps, shared: dict[str, Any]) -> JobSource:
    """A file Slack shared with the bot (a message's or a modal's), downloaded within MAX_FILE_BYTES and read as a
    job source; `Unreadable` (with its one sentence) when it can't be used."""
    settings = deps.settings
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if deps.clients is not None:  # installable mode: the token of the workspace that shared it
        token = await deps.clients.current_token(token)
    file = SlackFile(shared)
    data = await FileDownloader(token, settings.slack_url, settings.max_file_bytes).fetch(file)
    return await describe_from_file(file.name, file.mimetype, data,
                                    limits=IntakeLimits(max_file_bytes=settings.max_file_bytes))


async def _reply(client: AsyncWebClient, channel: str, ts: str, text: str) -> None:
    try:
        await client.chat_postMessage(channel=channel, thread_ts=ts, text=text, unfurl_links=False)
    except SLACK_CALL_ERRORS as exc:
        log.warning("cannot answer a shared file (%s)", failure_code(exc))
