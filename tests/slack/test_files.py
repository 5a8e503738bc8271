"""Where the bot token may go for a shared file: only Slack's file host and the Web API's own origin; a download
Slack rate-limits waits as long as it asks, or gives up with a sentence when that is too long."""

from __future__ import annotations

import time

import pytest

from bot.hiring.intake import Unreadable
from bot.slack.file_share import is_dm_file_share
from bot.slack.files import FileDownloader, SlackFile, is_trusted, trusted_origins
from tests.slack.conftest import BOT_TOKEN

ORIGINS = trusted_origins("http://127.0.0.1:4567/api/")


@pytest.mark.parametrize("url", [
    "https://files.slack.com/files-pri/T1-F1/download/job.pdf",
    "http://127.0.0.1:4567/files-pri/T1-F1/download/job.pdf",
])
def test_slack_file_urls_are_trusted(url: str) -> None:
    assert is_trusted(url, ORIGINS)


@pytest.mark.parametrize("url", [
    "http://files.slack.com/files-pri/T1-F1/download/job.pdf",  # plain http to Slack: the token would travel bare
    "https://files.slack.com.evil.example/job.pdf",
    "https://evil.example/?u=https://files.slack.com/",
    "https://user:pw@files.slack.com/job.pdf",
    "https://files.slack.com:8443/job.pdf",
    "http://127.0.0.1:9999/files-pri/job.pdf",  # the loopback, but not the Web API's port
    "https://127.0.0.1:4567/files-pri/job.pdf",
    "http://127.0.0.1:bad/job.pdf",
    "file:///etc/passwd",
    "",
])
def test_anything_else_never_gets_the_token(url: str) -> None:
    assert not is_trusted(url, ORIGINS)


def test_a_file_object_is_read_tolerantly() -> None:
    file = SlackFile({"id": "F1", "title": "job", "size": True, "url_private": "https://files.slack.com/x"})
    assert (file.name, file.size, file.url, file.mimetype) == ("job", None, "https://files.slack.com/x", "")


def dm(**event: object) -> dict[str, object]:
    return {"type": "message", "channel": "DU1", "channel_type": "im", "user": "U1", "ts": "1.1",
            "subtype": "file_share", "files": [{"id": "F1"}], **event}


@pytest.mark.parametrize(("event", "starts"), [
    (dm(), True),
    (dm(subtype=None), True),
    (dm(thread_ts="1.1"), True),
    (dm(thread_ts="0.5"), False),  # a file in a conversation's thread is an answer there
    (dm(channel_type="channel"), False),
    (dm(files=[]), False),
    (dm(bot_id="B1"), False),
    (dm(subtype="message_changed"), False),
    (dm(user=""), False),
])
def test_which_messages_start_a_job_from_a_file(event: dict, starts: bool) -> None:
    assert is_dm_file_share(event) is starts


async def test_a_rate_limited_download_waits_as_long_as_slack_asks(slack_api) -> None:
    shared = SlackFile(slack_api.upload("job.txt", b"We need 10 annotators.", "text/plain", token=BOT_TOKEN))
    downloader = FileDownloader(BOT_TOKEN, slack_api.url, max_bytes=1000)

    slack_api.rate_limit("files.download", retry_after=1)
    started = time.monotonic()
    assert await downloader.fetch(shared) == b"We need 10 annotators."
    assert time.monotonic() - started >= 1.0 and len(slack_api.calls_to("files.download")) == 2

    # Longer than the bot will wait: no early retry Slack would refuse again, but "later" in one sentence.
    slack_api.rate_limit("files.download", retry_after=30)
    started = time.monotonic()
    with pytest.raises(Unreadable, match="please share it again in a minute"):
        await downloader.fetch(shared)
    assert time.monotonic() - started < 1.0 and len(slack_api.calls_to("files.download")) == 3
