"""`/hire subscribe <#channel> [job id …]`: a job's new proposal cards go to another channel, top-level.

Without job ids it routes every open job started in the channel the command is typed in. Only hiring managers and
account admins may (authz `ROUTE_NOTIFICATIONS`); a job id must be this workspace's. The bot makes sure it can post
there before anything is routed: it joins a public channel itself, and for a private one it must already be a member
(it says how to invite it), so a routed card is never lost to `not_in_channel`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.authz import Action, Attempt, Authorizer
from bot.hiring.board import JobBoard
from bot.hiring.jobs import lookup_job, route_cards
from bot.infra.storage import Redis
from bot.slack.blocks.proposals import mrkdwn
from bot.slack.blocks.safe import escape
from bot.slack.dialogue import SLACK_CALL_ERRORS, failure_code

USAGE = ("Usage: `/hire subscribe #channel` (every open job started here) or `/hire subscribe #channel <job id> …`.")
CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]{2,20})(?:\|[^>]*)?>$|^([CG][A-Z0-9]{2,20})$")
CHANNEL_NAME = re.compile(r"^#([a-z0-9_\-]{1,80})$")
JOB_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
LIST_PAGES = 10  # of 200 channels each, looking a name up
CANNOT_JOIN = {"method_not_supported_for_channel_type", "channel_not_found", "is_private"}


@dataclass(frozen=True)
class Target:
    channel_id: str
    shown_as: str  # how to name it back to the person: <#C…>


class Subscriptions:
    def __init__(self, redis: Redis, namespace: str, board: JobBoard, authorizer: Authorizer,
                 client: AsyncWebClient):
        self._redis = redis
        self._namespace = namespace
        self._board = board
        self._authz = authorizer
        self._client = client

    async def subscribe(self, workspace_id: str, user_id: str, here: str, words: list[str]) -> str:
        """What to tell the person typing `/hire subscribe <words>` in channel `here`."""
        if refused := await self._authz.refusal(Attempt(Action.ROUTE_NOTIFICATIONS, workspace_id, user_id)):
            return mrkdwn(refused)
        if not words or any(not JOB_ID.fullmatch(word) for word in words[1:]):
            return USAGE
        target = await self._target(words[0])
        if isinstance(target, str):
            return target
        if (cannot := await self._ensure_member(target)) is not None:
            return cannot
        job_ids = words[1:] or [line.job_id for line, record in await self._board.open_jobs(workspace_id)
                                if record.surface.get("channel") == here]
        if not job_ids:
            return "No open job was started in this channel; name the jobs: " + USAGE
        for job_id in job_ids:
            record = await lookup_job(self._redis, self._namespace, job_id)
            if record is None or record.workspace_id != workspace_id:
                return f"`{escape(job_id)}` isn't a job published from this workspace; nothing was routed."
        for job_id in job_ids:
            await route_cards(self._redis, self._namespace, job_id, target.channel_id)
        count = f"{len(job_ids)} job{'s' if len(job_ids) != 1 else ''}"
        return f"New proposal cards of {count} now go to {target.shown_as}."

    async def _target(self, word: str) -> Target | str:
        if match := CHANNEL_REF.fullmatch(word):
            channel_id = match.group(1) or match.group(2)
            return Target(channel_id, f"<#{channel_id}>")
        if match := CHANNEL_NAME.fullmatch(word):
            found = await self._by_name(match.group(1))
            return Target(found, f"<#{found}>") if found else (
                f"I can't see a channel named #{escape(match.group(1))}. If it is private, invite me there first "
                "with `/invite @hirebot`.")
        return USAGE

    async def _by_name(self, name: str) -> str | None:
        cursor: str | None = None
        for _ in range(LIST_PAGES):
            page = await self._client.conversations_list(types="public_channel,private_channel",
                                                         exclude_archived=True, limit=200, cursor=cursor)
            for channel in page.get("channels") or []:
                if channel.get("name") == name:
                    return str(channel["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    async def _ensure_member(self, target: Target) -> str | None:
        """None once the bot can post in the channel; else why not, and what to do."""
        try:
            info = await self._client.conversations_info(channel=target.channel_id)
            channel = info.get("channel") or {}
            if channel.get("is_member"):
                return None
            if channel.get("is_archived"):
                return f"{target.shown_as} is archived; pick another channel."
            await self._client.conversations_join(channel=target.channel_id)
            return None
        except SLACK_CALL_ERRORS as exc:
            code = failure_code(exc)
            if code in CANNOT_JOIN:
                return (f"I can't join {target.shown_as} by myself (private channels need an invitation): invite me "
                        "with `/invite @hirebot` there, then run this again.")
            return f"Slack didn't let me check {target.shown_as} ({escape(code)}); nothing was routed."
