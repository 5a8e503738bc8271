"""Installed into any workspace (OAuth v2): two workspaces install through bolt's flow over real HTTP against the Slack
stand-in, use the bot at the same time, each with its own token and its own OpenTrain account; one uninstalls and
only its work stops and its data goes; a rotating token is refreshed before it is used."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import httpx
import pytest

from bot.app import serve_http
from bot.infra.scheduler import SHARDS
from bot.infra.storage import key
from bot.slack.installations import uninstalled_key
from bot.slack.reminders import NUDGE_KIND
from bot.slack.uninstall import FORGET_KIND
from tests.slack.conftest import DEMO, SIGNING_SECRET
from tests.slack.story import eventually
from tests.support import slack_signing as signing
from tests.support.slack_api import PostedMessage, RecordedCall, SlackApiStandIn

CLIENT_ID, CLIENT_SECRET = "111.222", "client-secret"
# Each workspace: (team, its requester, its channel)
WORKSPACES = {"T1": ("UONE", "CONE"), "T2": ("UTWO", "CTWO")}
REMINDER_SECONDS = 4  # an unanswered question's reminder: background work, soon enough to watch
NOT_CARRYING_A_BOT_TOKEN = {"oauth.v2.access", "response_url", "files.download"}


@pytest.fixture
def oauth_settings(make_settings, slack_api):
    slack_api.client_id, slack_api.client_secret = CLIENT_ID, CLIENT_SECRET
    for team, (user, _) in WORKSPACES.items():
        slack_api.add_user(user, f"{user.lower()}@{team.lower()}.example.com", admin=True)
    return make_settings(slack_bot_token=None, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET,
                         slack_uninstall_grace_seconds=1, reminder_hours=REMINDER_SECONDS / 3600)


async def install(app_url: str, api: SlackApiStandIn, team: str, **offer: Any) -> str:
    """"Add to Slack": the install page, Slack's approval, the redirect back; returns the team's new bot token."""
    async with httpx.AsyncClient(base_url=app_url, timeout=10) as browser:
        page = await browser.get("/slack/install")
        assert page.status_code == 200, page.text
        found = re.search(r"[?&;]state=([0-9a-f]+)", page.text)
        assert found, page.text[:500]
        state = found.group(1)
        # bolt's state cookie is Secure: a browser would send it back over https; sent by hand over the test's http
        done = await browser.get("/slack/oauth_redirect", params={"code": api.offer_install(team, **offer),
                                                                 "state": state},
                                 headers={"Cookie": f"slack-app-oauth-state={state}"})
        assert done.status_code == 200, done.text
        again = await browser.get("/slack/oauth_redirect", params={"code": api.offer_install(team), "state": state},
                                  headers={"Cookie": f"slack-app-oauth-state={state}"})
        assert again.status_code != 200  # a state is good once
    owner = offer["enterprise_id"] if offer.get("org_wide") else team
    return [token for token, holder in api.bot_tokens.items() if holder == owner][-1]


async def hire(http: httpx.AsyncClient, app_url: str, api: SlackApiStandIn, team: str, n: int) -> int:
    user, channel = WORKSPACES[team]
    fields = signing.slash_command_body(DEMO, user_id=user, channel_id=channel, team_id=team,
                                        response_url=api.response_url(f"{team}-{n}"), trigger_id=f"trig-{team}-{n}")
    return (await deliver(http, app_url, fields, signing.FORM)).status_code


async def deliver(http: httpx.AsyncClient, app_url: str, raw: str, content_type: str) -> httpx.Response:
    return await http.post(f"{app_url}/slack/events", content=raw,
                           headers=signing.signed_headers(SIGNING_SECRET, raw, content_type))


def first_question(api: SlackApiStandIn, channel: str) -> PostedMessage | None:
    roots = [m for m in api.messages.values() if m.channel == channel and m.thread_ts is None]
    if not roots:
        return None
    return next((m for m in api.thread(channel, roots[-1].ts) if "(1 of" in m.text), None)


def workspace_of_call(call: RecordedCall) -> str | None:
    """Whose workspace a call is about, from its channel or user (None when it names neither)."""
    for team, (user, channel) in WORKSPACES.items():
        if call.args.get("channel") in (channel, "D" + user) or user in (call.args.get("user"),
                                                                          call.args.get("users")):
            return team
    return None


def assert_each_call_carries_its_workspace_token(api: SlackApiStandIn, issued: dict[str, str]) -> None:
    """Every Web API call carried a token Slack issued, and the one of the workspace it is about."""
    calls = [c for c in api.calls if c.method not in NOT_CARRYING_A_BOT_TOKEN and c.method != "auth.test"]
    assert calls
    for call in calls:
        assert call.token in issued, (call.method, call.token)
        team = workspace_of_call(call)
        if team is not None:
            assert issued[call.token] == team, (call.method, call.args.get("channel"), call.token)


def nudged(api: SlackApiStandIn, channel: str) -> list[RecordedCall]:
    return api.calls_to("chat.postMessage", lambda a: a.get("channel") == channel
                        and "still waiting for your answer" in str(a.get("text")))


async def nudge_items(runtime: Any, team: str) -> list[str]:
    """The workspace's scheduled reminders, over every shard of the kind's due set."""
    scheduler = runtime.core.scheduler
    dues = [scheduler._shard_keys(NUDGE_KIND, shard)[0] for shard in range(SHARDS)]
    return [i for due in dues for i in await runtime.redis.zrange(due, 0, -1) if i.startswith(team + "|")]


async def test_two_workspaces_install_work_apart_and_one_uninstalls(oauth_settings, slack_api, sandbox_url):
    async with serve_http(oauth_settings, port=0) as server, httpx.AsyncClient(timeout=15) as http:
        runtime, namespace = server.runtime, oauth_settings.redis_namespace
        issued = {await install(server.url, slack_api, team): team for team in WORKSPACES}
        assert set(issued.values()) == set(WORKSPACES)

        # A /hire in each workspace at the same time
        statuses = await asyncio.gather(*(hire(http, server.url, slack_api, team, 1) for team in WORKSPACES))
        assert statuses == [200, 200]
        for team, (_, channel) in WORKSPACES.items():
            await eventually(lambda c=channel: first_question(slack_api, c), f"{team}'s first question")
        # Background work (the scheduler's reminder of an unanswered question) acts for its workspace too
        for team, (_, channel) in WORKSPACES.items():
            await eventually(lambda c=channel: nudged(slack_api, c), f"{team}'s reminder")
        assert_each_call_carries_its_workspace_token(slack_api, issued)
        # ... and so does OpenTrain: each workspace registered an account of its own
        accounts = {team: await opentrain_account(runtime, team) for team in WORKSPACES}
        assert accounts["T1"] != accounts["T2"]
        callers = {r["account"] for r in (await http.get(f"{sandbox_url}/_sandbox/requests")).json()["requests"]}
        assert callers - {None} == set(accounts.values())  # None: the registrations, before any token

        # T2 starts another job, then uninstalls (Slack revokes its token and tells the app) before its reminder
        assert await hire(http, server.url, slack_api, "T2", 2) == 200
        await wait_until(lambda: nudge_items(runtime, "T2"), "T2's second reminder scheduled")
        t2_token = next(t for t, team in issued.items() if team == "T2")
        slack_api.expire(t2_token)
        uninstalled_at = len(slack_api.calls)
        envelope = {"type": "event_callback", "team_id": "T2", "api_app_id": "A1", "event_id": "EvUNINSTALL",
                    "event_time": int(time.time()), "event": {"type": "app_uninstalled"},
                    "authorizations": [{"team_id": "T2", "is_enterprise_install": False}]}
        assert (await deliver(http, server.url, json.dumps(envelope), signing.JSON)).status_code == 200
        await wait_until(lambda: runtime.redis.exists(uninstalled_key(namespace, "T2")), "T2 marked uninstalled")
        assert not await runtime.redis.exists(key(namespace, "ws", "T2", "slack-install"))
        assert await runtime.redis.exists(key(namespace, "ws", "T1", "slack-install"))

        # Its background work stops at once: its reminder ends without a call; T1 keeps working meanwhile
        assert await hire(http, server.url, slack_api, "T1", 2) == 200
        await wait_until(lambda: no_nudge_items(runtime, "T2"), "T2's reminder dropped")
        assert not [c for c in slack_api.calls[uninstalled_at:] if c.token == t2_token]
        assert len(nudged(slack_api, "CTWO")) == 1

        # After the grace period its records go (its unclaimed OpenTrain account revoked); T1's stay
        await wait_until(lambda: only_the_mark_left(runtime, namespace, "T2"), "T2's records gone")
        assert await runtime.redis.exists(key(namespace, "ws", "T1", "account"))
        assert await runtime.core.scheduler.due_at(FORGET_KIND, "T2") is None

        # T1 still gets its reminders, with its own token
        await eventually(lambda: len(nudged(slack_api, "CONE")) >= 2, "T1's second reminder")
        assert_each_call_carries_its_workspace_token(slack_api, issued)


async def opentrain_account(runtime: Any, team: str) -> str:
    """The id of the OpenTrain account the workspace's token acts for (GET /auth/me)."""
    me = await (await runtime.core.accounts.client_for(team)).me()
    return str(me.account.organization_id)


async def wait_until(probe: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def no_nudge_items(runtime: Any, team: str) -> bool:
    return not await nudge_items(runtime, team)


async def only_the_mark_left(runtime: Any, namespace: str, team: str) -> bool:
    left = [k async for k in runtime.redis.scan_iter(match=key(namespace, "ws", team, "*"))]
    return left == [uninstalled_key(namespace, team)]


async def expire_soon(runtime: Any, api: SlackApiStandIn, team: str) -> tuple[str, int]:
    """12 hours later: the workspace's token has a minute left by the installation's clock and Slack no longer takes
    it (the stand-in refuses it outright, so a call made with it would show). Returns the token and how many calls
    were made before it expired."""
    store = runtime.clients.installations
    found = await store.async_find_installation(enterprise_id=None, team_id=team)
    found.bot_token_expires_at = int(time.time()) + 60
    await store.async_save(found)
    api.expire(found.bot_token)
    return str(found.bot_token), len(api.calls)


def used_after(api: SlackApiStandIn, expired: tuple[str, int]) -> list[RecordedCall]:
    token, since = expired
    return [c for c in api.calls[since:] if c.token == token]


def refreshes(api: SlackApiStandIn) -> list[RecordedCall]:
    return api.calls_to("oauth.v2.access", lambda a: a.get("grant_type") == "refresh_token")


async def test_a_rotating_token_is_refreshed_before_a_call(oauth_settings, slack_api, sandbox_url):
    slack_api.rotation = True
    async with serve_http(oauth_settings, port=0) as server, httpx.AsyncClient(timeout=15) as http:
        runtime = server.runtime
        await install(server.url, slack_api, "T1")
        assert not refreshes(slack_api)

        # A request: bolt's authorize refreshes the token before the listener's calls
        first = await expire_soon(runtime, slack_api, "T1")
        assert await hire(http, server.url, slack_api, "T1", 1) == 200
        await eventually(lambda: first_question(slack_api, "CONE"), "the first question")
        assert len(refreshes(slack_api)) == 1

        # Background work: the reminder refreshes the token itself before posting
        second = await expire_soon(runtime, slack_api, "T1")
        await eventually(lambda: nudged(slack_api, "CONE"), "the reminder")
        assert len(refreshes(slack_api)) == 2

        assert not used_after(slack_api, first) and not used_after(slack_api, second)  # never a dead token
        assert all(c.token.startswith("xoxb-T1-") for c in slack_api.calls if c.method not in NOT_CARRYING_A_BOT_TOKEN)
        stored = await runtime.redis.hgetall(key(oauth_settings.redis_namespace, "ws", "T1", "slack-install"))
        live = next(iter(slack_api.bot_tokens))
        assert live not in json.dumps(stored) and stored["bot_refresh_token"]  # sealed at rest
