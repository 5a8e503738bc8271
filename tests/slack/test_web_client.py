"""Which failed Web API calls the bot's client sends again: never a write Slack may already have made."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryState

from bot.hiring.engine import ConversationRef
from bot.hiring.views import ClaimInstructions
from bot.slack.app import build_web_client
from bot.slack.observer import SlackClaimObserver

BROKEN_AFTER_SENDING = [aiohttp.ServerDisconnectedError(), aiohttp.ClientOSError(104, "Connection reset by peer")]
NEVER_CONNECTED = aiohttp.ClientConnectorError(None, ConnectionRefusedError(111, "refused"))  # type: ignore[arg-type]


async def sent_again(client, method: str, *, error: Exception | None = None,
                     response: HttpResponse | None = None) -> bool:
    request = HttpRequest(method="POST", url=f"{client.base_url}{method}", headers={})
    for handler in client.retry_handlers:
        if await handler.can_retry_async(state=RetryState(), request=request, response=response, error=error):
            return True
    return False


@pytest.mark.parametrize("error", BROKEN_AFTER_SENDING, ids=lambda error: type(error).__name__)
async def test_a_write_whose_connection_broke_is_not_sent_again(make_settings, error):
    client = build_web_client(make_settings())
    for write in ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.open"):
        assert not await sent_again(client, write, error=error), write
    for read in ("users.info", "conversations.open", "conversations.history", "auth.test"):
        assert await sent_again(client, read, error=error), read


async def test_calls_that_never_reached_slack_and_rate_limits_are_sent_again(make_settings):
    client = build_web_client(make_settings())
    assert await sent_again(client, "chat.postMessage", error=NEVER_CONNECTED)
    rate_limited = HttpResponse(status_code=429, headers={"Retry-After": ["1"]}, body={"ok": False})
    assert await sent_again(client, "chat.postMessage", response=rate_limited)
    assert not await sent_again(client, "chat.postMessage", response=HttpResponse(status_code=200, headers={}))


async def test_a_claim_dm_lost_with_its_connection_does_not_break_the_claim_poll(make_settings, slack_api):
    observer = SlackClaimObserver(build_web_client(make_settings()))
    slack_api.drop_connection("chat.update")
    claimed = ClaimInstructions(state="claimed", email="owner@example.com")
    surface = {"dm_channel": "DUREQ", "claim_ts": "1.000001", "requester": "UREQ"}
    await observer.claim_changed(ConversationRef("T1", "C1:1.1"), claimed, surface)  # logged, not raised
    assert len(slack_api.calls_to("chat.update")) == 1  # and not sent again
