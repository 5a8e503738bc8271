"""The daily digest of unreviewed proposals over signed HTTP with two `serve` processes: turned on by an account
admin (a member is refused), posted once a day in the channel whichever process runs it, turned off again."""

from __future__ import annotations

import asyncio
import re
import time

import httpx

from bot.app import serve_http
from bot.slack.digest import DIGEST_KIND
from tests.slack.conftest import CHANNEL, REQUESTER, STRANGER, TEAM, HttpSlack, Person, text_of
from tests.slack.story import eventually, in_thread, publish_a_job
from tests.support.market import Market

ITEM = f"{TEAM}|{CHANNEL}"


def digests(slack_api) -> list[str]:
    return [text_of(m) for m in slack_api.messages.values()
            if m.channel == CHANNEL and m.thread_ts is None and "unreviewed proposal" in m.text]


def told(slack_api) -> list[str]:
    return [c.args.get("text", "") for c in slack_api.calls_to("response_url")]


async def test_a_channels_digest_is_posted_once_a_day_by_one_of_two_processes(make_settings, slack_api, sandbox_url):
    settings = make_settings()
    market = Market(sandbox_url)
    async with (serve_http(settings, port=0) as first, serve_http(settings, port=0) as second,
                httpx.AsyncClient(timeout=10) as http):
        slack = HttpSlack([first.url, second.url], http)
        requester, stranger = Person(REQUESTER, slack, slack_api), Person(STRANGER, slack, slack_api)
        root = await publish_a_job(requester, slack_api)
        live = in_thread(slack_api, root, "Your job is live")
        assert live is not None
        job_id = re.search(r"job_[0-9a-f]+", text_of(live)).group(0)
        market.propose(job_id, 3)

        assert await stranger.hire("digest on") == 200
        await eventually(lambda: any("Only" in t and "account admin" in t for t in told(slack_api)), "a no")
        scheduler = first.runtime.core.scheduler
        assert await scheduler.due_at(DIGEST_KIND, ITEM) is None

        assert await requester.hire("digest on") == 200
        await eventually(lambda: any("Every day at 09:00 UTC" in t for t in told(slack_api)), "the confirmation")
        assert await scheduler.due_at(DIGEST_KIND, ITEM) > time.time()  # tomorrow's (or today's) 09:00

        # The day comes: both processes' schedulers see it due; one digest is posted.
        await scheduler.schedule(DIGEST_KIND, ITEM, time.time())
        [digest] = await eventually(lambda: digests(slack_api), "the digest")
        assert "3 unreviewed proposals" in digest and "3 unreviewed of 3" in digest
        await until_next_day(first)  # the run is over: the next day's digest is scheduled

        # Due again the same day (a clock jump, a restart): no second digest that day.
        await scheduler.schedule(DIGEST_KIND, ITEM, time.time())
        await until_next_day(first)  # the run passed over today's digest
        assert len(digests(slack_api)) == 1

        assert await requester.hire("digest off") == 200
        await eventually(lambda: any("is off for this channel" in t for t in told(slack_api)), "the digest off")
        assert await scheduler.due_at(DIGEST_KIND, ITEM) is None
    market.close()


async def until_next_day(server, timeout: float = 10.0) -> None:
    """Until the digest is due at its next DIGEST_HOUR_UTC again: the forced run is over (while it runs, the item is
    due at the end of its lease, never on the hour)."""
    deadline = time.monotonic() + timeout
    scheduler, digests = server.runtime.core.scheduler, server.runtime.deps.digests
    while (due := await scheduler.due_at(DIGEST_KIND, ITEM)) != digests.next_due():
        assert time.monotonic() < deadline, f"the digest never ran (due {due})"
        await asyncio.sleep(0.05)
