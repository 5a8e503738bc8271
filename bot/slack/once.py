"""A Slack message posted once across processes, however often the work that posts it runs (the outbox's rule).

The record (a Redis hash the caller names) keeps a post id before the message is sent; `chat.postMessage` carries that
id in the message `metadata`, and the Slack ts is written back after. A later run that finds a post id without a ts
does not know whether Slack posted it (a crash, no answer, an error after the effect): it looks for a message
carrying that id where the post was headed and posts only when there is none. A short lock keeps two processes from
posting the same record at the same moment (renewed while the holder sends); the loser leaves it to the holder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.infra.storage import Redis
from bot.slack.blocks.conversation import SlackMessage

log = logging.getLogger(__name__)

LOCK_MS = 20_000
LOOKUP_PAGE_SIZE = 200
METADATA_EVENT = "hirebot_once"
RETRYABLE_ERRORS = {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable",
                    "request_timeout"}

# KEYS: lock | ARGV: token
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: lock | ARGV: token, lock_ms
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class PostUnsure(Exception):
    """Slack may or may not have posted it (no answer, a retryable error): try the whole step again later."""


class SlackOnce:
    def __init__(self, redis: Redis, slack: AsyncWebClient, ttl_seconds: int, *, lock_ms: int = LOCK_MS):
        self._redis = redis
        self._slack = slack
        self._ttl = ttl_seconds
        self._lock_ms = lock_ms
        self._unlock = redis.register_script(_UNLOCK)
        self._renew = redis.register_script(_RENEW)

    async def posted(self, record: str) -> str | None:
        ts = await self._redis.hget(record, "ts")
        return str(ts) if ts else None

    async def post(self, record: str, channel: str, thread_ts: str | None, message: SlackMessage) -> str | None:
        """The ts of the one message for `record`, posting it if needed; None when another process holds it or
        Slack refused it for good (logged). Raises PostUnsure when the outcome is unknown."""
        if ts := await self.posted(record):
            return ts
        lock, token = f"{record}:lock", uuid.uuid4().hex
        if not await self._redis.set(lock, token, nx=True, px=self._lock_ms):
            return None
        # One send may outlast the lock (Slack's timeout plus Retry-After waits): renewed while this process lives.
        heartbeat = asyncio.create_task(self._keep(lock, token))
        try:
            return await self._post_locked(record, channel, thread_ts, message)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            await self._unlock(keys=[lock], args=[token])

    async def _keep(self, lock: str, token: str) -> None:
        while True:
            await asyncio.sleep(self._lock_ms / 3000)
            if not await self._renew(keys=[lock], args=[token, self._lock_ms]):
                log.warning("lost the lock %s while posting", lock)
                return

    async def _post_locked(self, record: str, channel: str, thread_ts: str | None,
                           message: SlackMessage) -> str | None:
        if ts := await self.posted(record):
            return ts
        post_id = await self._redis.hget(record, "post")
        if post_id and (ts := await self._find(channel, thread_ts, str(post_id))):
            log.info("post %s reached Slack before; recording it", post_id)
        else:
            post_id = post_id or uuid.uuid4().hex
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(record, mapping={"post": str(post_id), "channel": channel, "thread_ts": thread_ts or ""})
                pipe.expire(record, self._ttl)
                await pipe.execute()
            ts = await self._send(channel, thread_ts, message, str(post_id))
            if ts is None:
                return None
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(record, "ts", ts)
            pipe.expire(record, self._ttl)
            await pipe.execute()
        return ts

    async def _send(self, channel: str, thread_ts: str | None, message: SlackMessage, post_id: str) -> str | None:
        try:
            response = await self._slack.chat_postMessage(
                channel=channel, thread_ts=thread_ts or None, text=message.text, blocks=message.blocks,
                unfurl_links=False, unfurl_media=False,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"post_id": post_id}})
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "unknown_error")
            if _retryable(exc):
                raise PostUnsure(error) from None
            log.error("cannot post to %s (%s); not shown", channel, error)
            return None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise PostUnsure(type(exc).__name__) from None
        return str(response["ts"])

    async def _find(self, channel: str, thread_ts: str | None, post_id: str) -> str | None:
        """The ts of a message carrying `post_id` in its metadata, among the newest where it was headed."""
        try:
            if thread_ts:
                page = await self._slack.conversations_replies(channel=channel, ts=thread_ts,
                                                               include_all_metadata=True, limit=LOOKUP_PAGE_SIZE)
            else:
                page = await self._slack.conversations_history(channel=channel, include_all_metadata=True,
                                                               limit=LOOKUP_PAGE_SIZE)
        except SlackApiError as exc:
            if _retryable(exc):
                raise PostUnsure(str(exc.response.get("error"))) from None
            # Slack will not let us look (a closed thread, a lost permission): posting again is the lesser harm
            # than never showing it, and holding the ledger on it would keep every later event back.
            log.warning("cannot look in %s for an unfinished post (%s)", channel, exc.response.get("error"))
            return None
        for message in page.get("messages") or []:
            if ((message.get("metadata") or {}).get("event_payload") or {}).get("post_id") == post_id:
                return str(message["ts"])
        return None


def _retryable(exc: SlackApiError) -> bool:
    """Throttled or a Slack-side failure: worth trying again later (the post may or may not have happened)."""
    error = str(exc.response.get("error") or "")
    return getattr(exc.response, "status_code", 200) >= 429 or error in RETRYABLE_ERRORS
