"""A file shared with the bot, downloaded from Slack within a size cap.

The bot token goes only to Slack's file host (or, in tests, the Web API stand-in's origin): a file object is data
from an event, and its URL could point anywhere. Slack's declared `size` is checked before any byte is fetched, and
the stream is cut at the cap whatever the headers say. Slack answers a download it won't serve (a missing
`files:read`, a revoked token) with 200 and its sign-in page, so HTML where no HTML was shared is a refusal too.
Every refusal is an `intake.Unreadable` carrying the one sentence to say.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.hiring.intake import IntakeLimits, Unreadable, over_cap, size_refusal

log = logging.getLogger(__name__)

SLACK_FILES_HOST = "files.slack.com"
MAX_ATTEMPTS = 3
MAX_RETRY_AFTER_SECONDS = 5.0
RETRIED_STATUSES = {429, 500, 502, 503, 504}


class SlackFile:
    """What a `file_share` event says about one file: its name, type, declared size and download URL."""

    def __init__(self, shared: dict[str, Any]) -> None:
        self.id = str(shared.get("id") or "")
        self.name = str(shared.get("name") or shared.get("title") or "")
        self.mimetype = str(shared.get("mimetype") or "")
        size = shared.get("size")
        self.size = size if isinstance(size, int) and not isinstance(size, bool) else None
        self.url = str(shared.get("url_private_download") or shared.get("url_private") or "")


def trusted_origins(slack_api_url: str) -> frozenset[tuple[str, str, int | None]]:
    """Where the bot token may be sent for a file: Slack's file host, and the origin of the Web API it talks to."""
    api = urlsplit(slack_api_url)
    return frozenset({("https", SLACK_FILES_HOST, None), (api.scheme, api.hostname or "", api.port)})


def is_trusted(url: str, origins: frozenset[tuple[str, str, int | None]]) -> bool:
    parts = urlsplit(url)
    if parts.username or parts.password:
        return False
    try:
        port = parts.port
    except ValueError:
        return False
    return (parts.scheme, parts.hostname or "", port) in origins


class FileDownloader:
    def __init__(self, token: str, slack_api_url: str, max_bytes: int, *, timeout: float = 20.0) -> None:
        self._token = token
        self._origins = trusted_origins(slack_api_url)
        self._limits = IntakeLimits(max_file_bytes=max_bytes)
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"FileDownloader(max_bytes={self._limits.max_file_bytes})"

    async def fetch(self, file: SlackFile) -> bytes:
        """The file's bytes, or Unreadable with the sentence to say."""
        if (refused := size_refusal(file.name, file.size, self._limits)) is not None and file.size != 0:
            raise Unreadable(refused)  # an empty one is downloaded: Slack's `size` may lag behind the upload
        if not is_trusted(file.url, self._origins):
            log.warning("a shared file's URL is not on Slack's file host; not downloaded")
            raise Unreadable(f"I couldn't download {_named(file)} from Slack.")
        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as http:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    return await self._download(http, file)
                except _Retry as retry:
                    if attempt == MAX_ATTEMPTS or retry.after > MAX_RETRY_AFTER_SECONDS:
                        break  # a retry before Slack's Retry-After would only be refused again: ask for later
                    await asyncio.sleep(retry.after)
        raise Unreadable(f"Slack didn't hand me {_named(file)}; please share it again in a minute.")

    async def _download(self, http: httpx.AsyncClient, file: SlackFile) -> bytes:
        try:
            async with http.stream("GET", file.url, headers={"Authorization": f"Bearer {self._token}"}) as response:
                if response.status_code in RETRIED_STATUSES:
                    raise _Retry(_retry_after(response))
                if response.status_code != 200:
                    log.warning("downloading a shared file answered HTTP %s", response.status_code)
                    raise Unreadable(f"I couldn't download {_named(file)} from Slack.")
                served = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                if served == "text/html" and "html" not in file.mimetype:
                    raise Unreadable(f"Slack didn't let me read {_named(file)}; the app may need the "
                                     "files:read permission (reinstall it).")
                return await self._capped(response, file)
        except httpx.TransportError:
            raise _Retry(1.0) from None

    async def _capped(self, response: httpx.Response, file: SlackFile) -> bytes:
        chunks: list[bytes] = []
        received = 0
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            if received > self._limits.max_file_bytes:
                raise Unreadable(over_cap(file.name, self._limits))
            chunks.append(chunk)
        return b"".join(chunks)


class _Retry(Exception):
    def __init__(self, after: float) -> None:
        super().__init__(after)
        self.after = after


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


def _named(file: SlackFile) -> str:
    return f'"{file.name[:80]}"' if file.name else "that file"
