"""The web server when a stored secret cannot be decrypted, and start-up without the Slack credentials."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from bot.app import serve_http
from bot.infra.secretbox import SecretBox
from bot.ledger.webhooks import WEBHOOK_PATH, WebhookStore
from tests.slack.conftest import TEAM

ROOT = Path(__file__).resolve().parents[2]


async def test_the_webhook_route_answers_503_with_one_line_when_its_secret_cannot_be_decrypted(
        make_settings, redis, namespace, caplog):
    old_key = Fernet.generate_key()
    await WebhookStore(redis, namespace, SecretBox(old_key)).save(TEAM, "wh_1", "https://bot.example/hook",
                                                                  "whsec_old", 0)
    settings = make_settings(encryption_key=Fernet.generate_key().decode())  # the key changed, not rotated
    async with serve_http(settings, port=0, run_worker=False) as server, httpx.AsyncClient(timeout=10) as http:
        with caplog.at_level(logging.INFO):
            answer = await http.post(f"{server.url}{WEBHOOK_PATH}?workspace={TEAM}", content=b'{"id":"1"}',
                                     headers={"X-OpenTrain-Signature": "t=1,v1=00", "X-OpenTrain-Delivery": "d1"})
        assert answer.status_code == 503
        assert (await http.get(f"{server.url}/healthz")).status_code == 200  # the bot itself is fine
    about = [r for r in caplog.records if r.name.startswith("bot.")]
    assert len(about) == 1 and about[0].levelno == logging.WARNING and about[0].exc_info is None, caplog.text
    assert "ENCRYPTION_KEY" in about[0].getMessage() and "whsec_old" not in caplog.text


@pytest.mark.parametrize(("command", "missing"), [
    ("serve", "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"),
    ("socket", "SLACK_BOT_TOKEN and SLACK_APP_TOKEN"),
    ("worker", "SLACK_BOT_TOKEN"),
])
def test_missing_slack_credentials_stop_start_up_with_one_line_and_nothing_left_running(tmp_path, command, missing):
    env = {name: value for name, value in os.environ.items() if not name.startswith("SLACK_")}
    env.pop("REDIS_URL", None)  # the embedded Redis would be started under DATA_DIR: it must not be
    env["DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run([sys.executable, "-m", "bot", command], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"hirebot: {command} needs {missing}")
    assert not (tmp_path / "data").exists()  # no embedded Redis, no dev key: nothing was started


def test_one_missing_credential_is_named_alone(tmp_path):
    env = {name: value for name, value in os.environ.items() if not name.startswith("SLACK_")}
    env.update(SLACK_BOT_TOKEN="xoxb-1-2", SLACK_SIGNING_SECRET=" ", DATA_DIR=str(tmp_path / "data"))
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "hirebot: serve needs SLACK_SIGNING_SECRET: set it in the environment (see README, Settings)"]
