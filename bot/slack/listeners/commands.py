"""`/hire`: usage and status answered from the ack or right after it; a new job acked first, worked on after.

A new job goes through the inbox like an answer does, so a process dying between the ack and the root message
does not lose it: another process starts the job instead, and the dialogue makes sure it starts only once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.hiring.intake import Unreadable
from bot.slack.blocks.conversation import usage
from bot.slack.blocks.jobs import job_list
from bot.slack.blocks.new_job import new_job_modal
from bot.slack.blocks.safe import escape
from bot.slack.deps import SlackDeps
from bot.slack.dialogue import SLACK_CALL_ERRORS, failure_code
from bot.slack.file_share import read_shared_file

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    deps.inbox.handler("hire", partial(_start_job, deps))
    deps.inbox.handler("claim", partial(_start_claim, deps))

    @app.command("/hire")
    async def hire(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        text = (command.get("text") or "").strip()
        word = text.lower()
        if word == "help":
            message = usage()
            await ack(text=message.text, blocks=message.blocks)  # static: answered in the ack itself
            return
        await ack()
        if word == "":
            await _open_new_job(deps, command, respond)  # the trigger id lapses in 3 s: opened at once
            return
        if word == "status":
            await deps.work.run(partial(_status, deps, command, respond))  # read-only: nothing to keep
            return
        if word.split(maxsplit=1)[0] == "subscribe":
            await deps.work.run(partial(_subscribe, deps, command, respond, text.split()[1:]))
            return
        if word in ("digest on", "digest off"):
            await deps.work.run(partial(_digest, deps, command, respond, word == "digest on"))
            return
        if word == "list":
            await deps.work.run(partial(_list, deps, command, respond))  # read-only: nothing to keep
            return
        job = {"team_id": command["team_id"], "user_id": command["user_id"], "channel_id": command["channel_id"],
               "text": text, "trigger_id": command.get("trigger_id", ""),
               "response_url": command.get("response_url", "")}
        kind = "claim" if word == "claim" else "hire"
        await deps.inbox.accept(kind, f"{kind}:{job['team_id']}:{job['user_id']}:{job['trigger_id']}", job)


async def _status(deps: SlackDeps, command: dict[str, Any], respond: AsyncRespond) -> None:
    try:
        listing = await deps.dialogue.status(command["team_id"], command["user_id"])
        await respond(text=listing.text, blocks=listing.blocks, response_type="ephemeral")
    except Exception:
        log.exception("/hire status failed")
        await respond(text="Something went wrong on my side; please try `/hire status` again.",
                      response_type="ephemeral", replace_original=False)


async def _list(deps: SlackDeps, command: dict[str, Any], respond: AsyncRespond) -> None:
    try:
        listing = job_list(await deps.board.jobs_of(command["team_id"], command["user_id"]))
        await respond(text=listing.text, blocks=listing.blocks, response_type="ephemeral")
    except Exception:
        log.exception("/hire list failed")
        await respond(text="Something went wrong on my side; please try `/hire list` again.",
                      response_type="ephemeral", replace_original=False)


async def _digest(deps: SlackDeps, command: dict[str, Any], respond: AsyncRespond, on: bool) -> None:
    try:
        said = await deps.digests.turn(command["team_id"], command["user_id"], command["channel_id"], on)
    except Exception:
        log.exception("/hire digest failed")
        said = "Something went wrong on my side; please try again."
    await respond(text=said, response_type="ephemeral", replace_original=False)


async def _subscribe(deps: SlackDeps, command: dict[str, Any], respond: AsyncRespond, words: list[str]) -> None:
    try:
        said = await deps.subscriptions.subscribe(command["team_id"], command["user_id"], command["channel_id"], words)
    except Exception:
        log.exception("/hire subscribe failed")
        said = "Something went wrong on my side and nothing was routed; please try again."
    await respond(text=said, response_type="ephemeral", replace_original=False)


async def _start_claim(deps: SlackDeps, job: dict[str, Any], redelivered: bool) -> bool:
    tell = partial(_tell, job["response_url"])
    try:
        await deps.dialogue.start_claim(team_id=job["team_id"], user_id=job["user_id"],
                                        message_id=f"command:{job['trigger_id']}", tell=tell)
    except Exception:
        log.exception("/hire claim failed")
        await tell("Something went wrong on my side and the claim was not started; please try again.")
    return True


async def _open_new_job(deps: SlackDeps, command: dict[str, Any], respond: AsyncRespond) -> None:
    try:
        await deps.client.views_open(trigger_id=command.get("trigger_id", ""),
                                     view=new_job_modal(command.get("channel_id")))
    except SLACK_CALL_ERRORS as exc:
        log.warning("cannot open the new-job modal (%s)", failure_code(exc))
        message = usage()
        await respond(text=message.text, blocks=message.blocks, response_type="ephemeral")


async def _start_job(deps: SlackDeps, job: dict[str, Any], redelivered: bool) -> bool:
    """`/hire <text>`, the new-job modal or the message shortcut: False when another process is on it (the inbox
    keeps the step in case that process died). `file`: a shared file to read the job from; `reply_to`: the message
    whose thread holds the conversation."""
    tell = _teller(deps, job)
    try:
        source = await read_shared_file(deps, job["file"]) if job.get("file") else None
        return await deps.dialogue.start(team_id=job["team_id"], user_id=job["user_id"], channel_id=job["channel_id"],
                                         text=source.headline if source else job["text"],
                                         message_id=f"command:{job['trigger_id']}", tell=tell,
                                         redelivered=redelivered, source=source, reply_to=job.get("reply_to") or None)
    except Unreadable as exc:
        await tell(escape(exc.sentence))
        return True
    except Exception:
        log.exception("/hire failed")
        await tell("Something went wrong on my side and the job was not started; please try again.")
        return True


def _teller(deps: SlackDeps, job: dict[str, Any]) -> Callable[[str], Awaitable[None]]:
    """Notes about a start go through its response_url; a modal has none: to the person alone in the channel."""
    if job.get("response_url"):
        return partial(_tell, job["response_url"])

    async def tell_in_channel(message: str) -> None:
        await deps.dialogue.tell_ephemeral(job["channel_id"], job["user_id"], message, None)

    return tell_in_channel


async def _tell(response_url: str, message: str) -> None:
    """An ephemeral note to the requester through the command's response_url (valid for 30 minutes)."""
    if not response_url:
        return
    try:
        response = await AsyncWebhookClient(response_url).send(text=message, response_type="ephemeral",
                                                               replace_original=False)
    except Exception as exc:  # the note is a courtesy: never let it hide the failure being reported
        log.warning("cannot answer /hire through its response_url (%s)", type(exc).__name__)
        return
    if response.status_code != 200:
        log.warning("the /hire response_url answered HTTP %s", response.status_code)
