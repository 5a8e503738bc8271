"""Start-up configuration: every variable in one object, a bad value reported in one line."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.infra.logs import RedactingFilter, redact
from bot.infra.secretbox import SecretBox, SecretBoxError
from bot.infra.settings import SettingsError, load_settings, warn_if_encryption_key_is_per_machine

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PORT", "abc"), ("PORT", "70000"), ("LOG_LEVEL", "loud"), ("REDIS_URL", "localhost:6379"),
     ("OPENTRAIN_BASE_URL", "not a url"), ("OPENTRAIN_POLL_SECONDS", "-1"), ("ENCRYPTION_KEY", "notakey"),
     ("OPENTRAIN_BASE_URL", "http://opentrain.example.org"), ("OPENTRAIN_APP_URL", "http://app.opentrain.ai")],
)
def test_a_bad_value_stops_start_up_with_one_line_naming_the_variable(variable, value):
    env = {**os.environ, variable: value}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=False,  # the exit status is what this test checks
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"hirebot: invalid setting {variable}:")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("variable", ["OPENTRAIN_POLL_SECONDS", "ENCRYPTION_KEY"])
def test_a_secret_value_is_never_echoed_in_the_error(monkeypatch, variable):
    monkeypatch.setenv(variable, "ot_pat_abcd_supersecretvalue")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert variable in str(caught.value) and "supersecret" not in str(caught.value)


def test_a_valid_encryption_key_is_accepted_and_an_empty_one_counts_as_unset():
    key = Fernet.generate_key().decode()
    assert load_settings(encryption_key=key).encryption_key.get_secret_value() == key
    assert load_settings(encryption_key="").encryption_key is None


def test_a_shared_redis_without_encryption_key_warns_at_start_up(caplog):
    shared_redis = "redis://redis.internal:6379/0"
    with caplog.at_level(logging.WARNING, logger="bot.infra.settings"):
        warn_if_encryption_key_is_per_machine(load_settings(redis_url=shared_redis, encryption_key=None))
    assert len(caplog.records) == 1 and "ENCRYPTION_KEY" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.infra.settings"):
        key = Fernet.generate_key().decode()
        warn_if_encryption_key_is_per_machine(load_settings(redis_url=shared_redis, encryption_key=key))
        warn_if_encryption_key_is_per_machine(load_settings(redis_url=None, encryption_key=None))  # embedded Redis
    assert caplog.records == []


def test_defaults_match_the_documented_names(monkeypatch):
    for name in ("OPENTRAIN_BASE_URL", "SLACK_API_URL", "PORT", "REDIS_URL", "OPENTRAIN_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.opentrain_url == "https://app.opentrain.ai"
    assert settings.slack_url == "https://slack.com/api/"
    assert settings.port == 3000
    assert settings.opentrain_api_token is None


def test_tokens_are_redacted_from_log_records_and_tracebacks(caplog):
    logger = logging.getLogger("hirebot.test")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="hirebot.test"):
        logger.info("registered %s with claim %s", "ot_pat_ab12_verysecret", "ot_clm_zzzsecret")
        try:
            raise RuntimeError("slack said no to xoxb-1234-secret")
        except RuntimeError:
            logger.exception("boom")
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "verysecret" not in text and "zzzsecret" not in text and "1234-secret" not in text
    assert redact("token whsec_abcdef") == "token whsec_a********"


def test_secretbox_round_trips_and_refuses_a_foreign_key(tmp_path):
    settings = load_settings(data_dir=tmp_path)
    box = SecretBox.from_settings(settings)
    sealed = box.encrypt("ot_pat_ab12_secret")
    assert "secret" not in sealed and box.decrypt(sealed) == "ot_pat_ab12_secret"
    assert SecretBox.from_settings(settings).decrypt(sealed) == "ot_pat_ab12_secret"  # the dev key is kept
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
    other = SecretBox.from_settings(load_settings(data_dir=tmp_path / "other"))
    with pytest.raises(SecretBoxError):
        other.decrypt(sealed)
    assert "key" in repr(box) and str(box._fernet) not in repr(box)


@pytest.mark.parametrize("url", ["http://opentrain.example.org", "http://10.0.0.5:8700", "ftp://app.opentrain.ai"])
def test_opentrain_over_plain_http_is_refused_off_loopback(url):
    with pytest.raises(SettingsError) as refused:
        load_settings(opentrain_base_url=url)
    assert str(refused.value).startswith("hirebot: invalid setting OPENTRAIN_BASE_URL:")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8700", "http://localhost:8700", "http://[::1]:8700",
                                 "https://opentrain.example.org"])
def test_https_or_a_loopback_sandbox_is_accepted(url):
    assert load_settings(opentrain_base_url=url).opentrain_url == url


def test_the_web_app_url_is_a_setting():
    assert load_settings().opentrain_app == "https://app.opentrain.ai"
    assert load_settings(opentrain_app_url="https://app.example.org/").opentrain_app == "https://app.example.org"
