"""A daily digest of unreviewed proposals, per channel, for the channels that turned it on (`/hire digest on`).

Each channel's digest is scheduled work due at DIGEST_HOUR_UTC every day (the scheduler's lease gives it one runner
at a time). A run lists the workspace's open jobs whose conversation lives in that channel and posts one message
naming each job with unreviewed proposals, or nothing when there are none. The day it was sent for is recorded
(SET NX) before posting, so no process posts a second digest that day.

Keys: `{ns}:{ws:{ws}}:digest:channels` (hash: channel -> who turned it on) lives as long as the workspace uses digests
(no TTL: turning it off deletes the field, Redis the empty hash); `{ns}:{ws:{ws}}:digest:sent:{channel}:{day}` expires
after two days.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.authz import Action, Attempt, Authorizer
from bot.hiring.board import JobBoard, JobLine
from bot.infra.scheduler import ScheduledItem, Scheduler
from bot.infra.storage import Redis, key
from bot.opentrain import errors
from bot.slack.blocks.conversation import MAX_BLOCKS, SlackMessage, context, section
from bot.slack.blocks.proposals import mrkdwn
from bot.slack.blocks.safe import escape, link

log = logging.getLogger(__name__)

DIGEST_KIND = "digest"
SEPARATOR = "|"
SENT_TTL_SECONDS = 2 * 24 * 3600
RETRY_SECONDS = 15 * 60.0  # OpenTrain or Slack unavailable: the day's digest is tried again this much later
TITLE_LIMIT = 150


class Digests:
    def __init__(self, redis: Redis, namespace: str, board: JobBoard, authorizer: Authorizer,
                 client: AsyncWebClient, scheduler: Scheduler, *, hour_utc: int,
                 clock: Callable[[], float] = time.time):
        self._redis = redis
        self._namespace = namespace
        self._board = board
        self._authz = authorizer
        self._client = client
        self._scheduler = scheduler
        self._hour = hour_utc
        self._clock = clock

    def register(self, scheduler: Scheduler) -> None:
        scheduler.register(DIGEST_KIND, self._send)

    async def turn(self, workspace_id: str, user_id: str, channel: str, on: bool) -> str:
        """`/hire digest on|off` in `channel`: what to tell the person."""
        if refused := await self._authz.refusal(Attempt(Action.ROUTE_NOTIFICATIONS, workspace_id, user_id)):
            return mrkdwn(refused)
        item = f"{workspace_id}{SEPARATOR}{channel}"
        if on:
            await self._redis.hset(self._channels(workspace_id), channel, user_id)
            await self._scheduler.schedule(DIGEST_KIND, item, self.next_due())
            return (f"Every day at {self._hour:02d}:00 UTC this channel gets one message listing the jobs posted "
                    "from it that have unreviewed proposals. `/hire digest off` stops it.")
        await self._redis.hdel(self._channels(workspace_id), channel)
        await self._scheduler.cancel(DIGEST_KIND, item)
        return "The daily digest of unreviewed proposals is off for this channel."

    def next_due(self) -> float:
        now = datetime.fromtimestamp(self._clock(), UTC)
        due = now.replace(hour=self._hour, minute=0, second=0, microsecond=0)
        return (due if due > now else due + timedelta(days=1)).timestamp()

    async def _send(self, item: ScheduledItem) -> float | None:
        workspace_id, channel = item.item_id.split(SEPARATOR, 1)
        if not await self._redis.hexists(self._channels(workspace_id), channel):
            return None  # turned off meanwhile
        day = datetime.fromtimestamp(self._clock(), UTC).date().isoformat()
        try:
            jobs = [line for line, record in await self._board.open_jobs(workspace_id)
                    if record.surface.get("channel") == channel and line.unreviewed]
        except (errors.ServerError, errors.TransportError, errors.RateLimited) as exc:
            log.warning("digest for %s waits: OpenTrain unavailable (%s)", channel, type(exc).__name__)
            return self._clock() + RETRY_SECONDS
        except errors.OpenTrainError as exc:  # refused (token, scope, account): asking again today cannot help
            log.warning("no digest for %s today: OpenTrain refused (%s)", channel, type(exc).__name__)
            return self.next_due()
        sent = key(self._namespace, "ws", workspace_id, "digest", "sent", channel, day)
        if jobs and await self._redis.set(sent, "1", nx=True, ex=SENT_TTL_SECONDS):
            message = digest(jobs)
            try:
                await self._client.chat_postMessage(channel=channel, text=message.text, blocks=message.blocks,
                                                    unfurl_links=False)
            except Exception as exc:  # marked sent: a lost digest waits for tomorrow, never comes twice
                log.warning("the digest for %s could not be posted (%s)", channel, type(exc).__name__)
        return self.next_due()

    def _channels(self, workspace_id: str) -> str:
        return key(self._namespace, "ws", workspace_id, "digest", "channels")


def digest(jobs: list[JobLine]) -> SlackMessage:
    total = sum(job.unreviewed for job in jobs)
    lines = [f"• {link(job.url, job.title[:TITLE_LIMIT])}: {job.unreviewed} unreviewed of {job.proposals}"
             for job in jobs]
    header = f":inbox_tray: *{total} unreviewed proposal{'s' if total != 1 else ''}* on jobs from this channel"
    blocks = [section(header)]
    for start in range(0, len(lines), 20):
        blocks.append(section("\n".join(lines[start:start + 20])))
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[:MAX_BLOCKS - 1], context("…and more on OpenTrain.")]
    text = f"{total} unreviewed proposals: " + ", ".join(escape(job.title[:60]) for job in jobs[:10])
    return SlackMessage(text=text, blocks=blocks)
