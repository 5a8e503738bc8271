"""The installation and OAuth state stores over Redis (slack-sdk's async interfaces), the token seam's pure parts, and
the Slack settings that contradict each other."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.accounts import Accounts
from bot.infra.scheduler import ScheduledItem
from bot.infra.secretbox import SecretBox
from bot.infra.settings import Settings, SettingsError, load_settings, missing_for
from bot.infra.storage import key
from bot.opentrain.client import OpenTrainClient
from bot.rotation import rotate_secrets
from bot.slack.clients import SlackClients, WorkspaceScheduler, workspace_of
from bot.slack.installations import RedisInstallationStore, RedisOAuthStateStore, uninstalled_key
from bot.slack.uninstall import Uninstalls

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(redis, namespace) -> RedisInstallationStore:
    return RedisInstallationStore(redis, namespace, SecretBox(Fernet.generate_key()))


def installed(team_id: str | None, *, enterprise_id: str | None = None, org_wide: bool = False,
              token: str = "xoxb-secret-1") -> Installation:
    return Installation(app_id="A1", enterprise_id=enterprise_id, team_id=team_id, bot_token=token, bot_id="B1",
                        bot_user_id="UBOT", bot_scopes="chat:write,commands", bot_refresh_token="xoxe-1-refresh",
                        bot_token_expires_at=int(time.time()) + 43200, user_id="UINSTALLER",
                        is_enterprise_install=org_wide)


async def test_an_installation_reads_back_as_saved_with_its_tokens_sealed_at_rest(store, redis, namespace):
    await store.async_save(installed("T1"))
    found = await store.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None
    assert (found.bot_token, found.bot_refresh_token, found.bot_user_id) == ("xoxb-secret-1", "xoxe-1-refresh", "UBOT")
    assert found.bot_scopes == ["chat:write", "commands"]
    bot = await store.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-secret-1"
    raw = json.dumps(await redis.hgetall(key(namespace, "ws", "T1", "slack-install")))
    assert "xoxb-secret-1" not in raw and "xoxe-1-refresh" not in raw
    assert await store.async_find_installation(enterprise_id=None, team_id="T2") is None


async def test_an_org_wide_install_serves_every_workspace_of_its_org_and_no_other(store):
    await store.async_save(installed(None, enterprise_id="E1", org_wide=True, token="xoxb-org"))
    from_a_workspace = await store.async_find_installation(enterprise_id="E1", team_id="T9",
                                                           is_enterprise_install=True)
    assert from_a_workspace is not None and from_a_workspace.bot_token == "xoxb-org"
    assert await store.async_find_installation(enterprise_id="E1", team_id="T9") is not None  # via the org
    assert await store.async_find_installation(enterprise_id="E2", team_id="T9") is None


async def test_a_grid_workspace_install_is_kept_apart_from_another_org_with_the_same_team_id(store):
    await store.async_save(installed("T5", enterprise_id="E1", token="xoxb-t5"))
    assert (await store.async_find_installation(enterprise_id="E1", team_id="T5")).bot_token == "xoxb-t5"
    assert await store.async_find_installation(enterprise_id="E2", team_id="T5") is None


async def test_deleting_and_installing_again(store, redis, namespace):
    await store.async_save(installed("T1"))
    await store.async_delete_all(enterprise_id=None, team_id="T1")
    assert await store.async_find_installation(enterprise_id=None, team_id="T1") is None
    await redis.set(uninstalled_key(namespace, "T1"), "1", ex=60)
    await store.async_save(installed("T1", token="xoxb-again"))
    assert not await redis.exists(uninstalled_key(namespace, "T1"))  # installed again: its work resumes
    assert (await store.async_find_installation(enterprise_id=None, team_id="T1")).bot_token == "xoxb-again"


async def test_an_oauth_state_is_consumed_once_and_expires(redis, namespace):
    states = RedisOAuthStateStore(redis, namespace)
    state = await states.async_issue()
    assert 0 < await redis.ttl(key(namespace, "oauth-state", state)) <= 600
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False
    assert await states.async_consume("forged") is False


@pytest.mark.parametrize(("item_id", "payload", "team"), [
    ("T1", {}, "T1"),  # a claim poll, a ledger read
    ("T1:C1", {}, "T1"),  # an outbox lane
    ("T1|C1:1700.1", {}, "T1"),  # a reminder, a digest
    ("message:C1:1700.1", {"handler": "answer", "payload": {"team_id": "T2"}}, "T2"),  # an inbox step
])
def test_a_scheduled_item_names_its_workspace(item_id, payload, team):
    assert workspace_of(ScheduledItem("kind", item_id, payload)) == team


async def test_single_workspace_mode_keeps_its_one_client():
    client = AsyncWebClient(token="xoxb-one")
    clients = SlackClients(client)
    assert clients.routed() is client and await clients.for_team("T9") is client
    assert await clients.current_token("xoxb-one") == "xoxb-one"


def test_the_scopes_an_install_asks_for_are_the_manifests():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert Settings().slack_scopes.split(",") == manifest["oauth_config"]["scopes"]["bot"]


@pytest.mark.parametrize(("values", "named"), [
    ({"slack_bot_token": "xoxb-1", "slack_client_id": "1.2", "slack_client_secret": "s"}, "SLACK_BOT_TOKEN"),
    ({"slack_client_id": "1.2", "slack_client_secret": "s"}, "need SLACK_SIGNING_SECRET"),
    ({"slack_client_id": "1.2", "slack_signing_secret": "x"}, "SLACK_CLIENT_SECRET"),
])
def test_contradictory_slack_settings_are_refused_in_one_line(values, named):
    with pytest.raises(SettingsError) as refused:
        load_settings(**values)
    assert str(refused.value).startswith("hirebot: ") and named in str(refused.value)
    assert "\n" not in str(refused.value)


def test_serve_in_oauth_mode_needs_no_bot_token():
    settings = load_settings(slack_client_id="1.2", slack_client_secret="s", slack_signing_secret="x")
    assert settings.slack_oauth and missing_for("serve", settings) == [] and missing_for("worker", settings) == []
    assert missing_for("serve", load_settings(slack_signing_secret="x")) == ["SLACK_BOT_TOKEN"]


def test_both_modes_at_once_stop_start_up_with_one_line(tmp_path):
    env = {name: value for name, value in os.environ.items() if not name.startswith("SLACK_")}
    env.update(SLACK_BOT_TOKEN="xoxb-1-2", SLACK_SIGNING_SECRET="x", SLACK_CLIENT_ID="1.2",
               SLACK_CLIENT_SECRET="very-secret", DATA_DIR=str(tmp_path / "data"))
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SLACK_BOT_TOKEN" in lines[0] and "SLACK_CLIENT_ID" in lines[0], result.stderr
    assert "very-secret" not in result.stderr and not (tmp_path / "data").exists()


async def test_rotate_keys_reseals_installed_slack_tokens(redis, namespace):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    await RedisInstallationStore(redis, namespace, SecretBox(old)).async_save(installed("T1"))
    report = await rotate_secrets(redis, namespace, SecretBox([new, old]))
    assert report.rotated == 2  # the bot token and its refresh token
    found = await RedisInstallationStore(redis, namespace, SecretBox(new)).async_find_installation(
        enterprise_id=None, team_id="T1")
    assert found is not None and (found.bot_token, found.bot_refresh_token) == ("xoxb-secret-1", "xoxe-1-refresh")


@pytest.mark.parametrize("claimed", [True, False])
async def test_after_the_grace_period_a_claimed_account_is_kept_and_an_unclaimed_one_revoked(
        redis, namespace, sandbox_url, claimed):
    box = SecretBox(Fernet.generate_key())
    opentrain = OpenTrainClient(sandbox_url, max_attempts=1)
    accounts = Accounts(redis, namespace, opentrain, box)
    installations = RedisInstallationStore(redis, namespace, box)
    scheduler = WorkspaceScheduler(redis, namespace)
    uninstalls = Uninstalls(redis, namespace, installations, accounts, scheduler, grace_seconds=0)
    uninstalls.register()
    await installations.async_save(installed("T3"))
    await accounts.client_for("T3")  # registers the workspace's agent account
    if claimed:
        await accounts.replace_token("T3", "token-after-the-claim", ["jobs:write"])
    await redis.set(key(namespace, "ws", "T3", "conv", "C1:1"), "{}")
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=5) as control:
        await control.delete("/_sandbox/requests")

    await uninstalls.uninstalled("T3", None, org_wide=False)
    assert await installations.async_find_installation(enterprise_id=None, team_id="T3") is None
    assert await scheduler.run_once() == 1

    left = {k async for k in redis.scan_iter(match=key(namespace, "ws", "T3", "*"))}
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=5) as control:
        log = (await control.get("/_sandbox/requests")).json()["requests"]
    revoked = [r for r in log if r["path"].endswith("/oauth/revoke")]
    mark, account = uninstalled_key(namespace, "T3"), key(namespace, "ws", "T3", "account")
    if claimed:
        assert left == {mark, account} and not revoked  # the human's account: never revoked for them
    else:
        assert left == {mark} and len(revoked) == 1
    await opentrain.aclose()


async def test_a_workspace_of_an_org_wide_install_finds_it_without_naming_its_org(store):
    """Background work knows only the workspace; a request from it recorded its org."""
    await store.async_save(installed(None, enterprise_id="E1", org_wide=True, token="xoxb-org"))
    assert await store.async_find_installation(enterprise_id=None, team_id="T9") is None
    await store.remember_org("T9", "E1")
    found = await store.async_find_installation(enterprise_id=None, team_id="T9")
    assert found is not None and found.bot_token == "xoxb-org"
