"""Every environment variable the bot reads, in one place.

A bad value stops start-up with one line naming the variable (see `load_settings`), never a traceback.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.infra.secretbox import are_fernet_keys

log = logging.getLogger(__name__)

SLACK_ID = re.compile(r"[UWS][A-Z0-9]{2,30}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # OpenTrain
    opentrain_base_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://app.opentrain.ai"))
    opentrain_app_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://app.opentrain.ai"))  # the web app people open
    opentrain_api_token: SecretStr | None = None  # unset: the bot registers its own agent account
    opentrain_poll_seconds: float = Field(default=30.0, gt=0)
    opentrain_timeout_seconds: float = Field(default=30.0, gt=0)

    # Redis; unset: an embedded redis-server under data_dir
    redis_url: str | None = None
    redis_namespace: str = Field(default="hirebot", min_length=1)
    redis_cluster: bool = False  # REDIS_URL names any node of a Redis Cluster

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://slack.com/api/"))
    # "Add to Slack" (docs/slack-install.md): with both set, and no SLACK_BOT_TOKEN, any workspace may install the
    # app through GET /slack/install; each one's token is kept (encrypted) in Redis
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    # The bot scopes an install asks for: manifest.yml's (tests/test_manifest.py keeps the two equal)
    slack_scopes: str = ("commands,chat:write,channels:history,groups:history,im:history,im:write,files:read,"
                         "users:read,users:read.email,usergroups:read,channels:read,groups:read,channels:join,"
                         "reactions:write")
    # After `app_uninstalled` / `tokens_revoked`: the workspace's conversations and cursors stay this long, then go
    slack_uninstall_grace_seconds: int = Field(default=3 * 24 * 3600, ge=0)
    port: int = Field(default=3000, ge=1, le=65535)
    # GET /metrics and /healthz of `worker` and `socket`, which have no web server of their own; `serve` uses PORT
    metrics_port: int | None = Field(default=None, ge=1, le=65535)

    # Behaviour
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line, redacted like text
    conversation_idle_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    reminder_hours: float = Field(default=24.0, gt=0)  # a question unanswered this long gets one nudge
    digest_hour_utc: int = Field(default=9, ge=0, le=23)  # when channels with `/hire digest on` get theirs
    allow_anyone_to_answer: bool = False
    serve_runs_worker: bool = True
    public_url: AnyHttpUrl | None = None
    proposals_channel: str | None = None
    proposals_in_thread: bool = True
    # A job description shared as a file: Slack's `size` is checked before downloading, the download stops past it
    max_file_bytes: int = Field(default=5 * 1024 * 1024, gt=0)

    # Who may act for the organization (bot/hiring/authz.py). Slack ids separated by commas or spaces: users
    # (U…/W…) and, for hiring managers, user groups (S…). No ACCOUNT_ADMINS: the workspace's owners and admins.
    hiring_managers: str = ""
    account_admins: str = ""
    # Limits per user, well under what OpenTrain allows the whole account, so one person can't use it all up.
    hire_starts_per_hour: int = Field(default=10, ge=1)
    open_drafts_per_user: int = Field(default=5, ge=1)
    publishes_per_user_per_day: int = Field(default=10, ge=1)

    # Secrets at rest: a Fernet key, or several comma-separated (newest first, the others only decrypt); unset, a
    # development key is generated under data_dir
    encryption_key: SecretStr | None = None
    data_dir: Path = Path(".hirebot")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_name(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _empty_port_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("opentrain_base_url", "opentrain_app_url")
    @classmethod
    def _https_unless_loopback(cls, value: AnyHttpUrl) -> AnyHttpUrl:
        # Tokens travel to this host and its links are shown to people: plain http only to this machine (a sandbox).
        if value.scheme != "https" and not is_loopback(value.host):
            raise ValueError("must be https (plain http only for a loopback host such as 127.0.0.1)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @field_validator("encryption_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # empty counts as unset, like REDIS_URL
        if not are_fernet_keys(value.get_secret_value()):
            raise ValueError("must be one Fernet key (32 url-safe base64-encoded bytes) or several, comma-separated, "
                             "newest first")
        return value

    @field_validator("hiring_managers", "account_admins")
    @classmethod
    def _slack_ids(cls, value: str) -> str:
        for slack_id in value.replace(",", " ").split():
            if not SLACK_ID.fullmatch(slack_id):
                raise ValueError("must list Slack user ids (U…, W…) or user group ids (S…), separated by commas")
        return value

    @property
    def hiring_manager_ids(self) -> frozenset[str]:
        return frozenset(self.hiring_managers.replace(",", " ").split())

    @property
    def account_admin_ids(self) -> frozenset[str]:
        return frozenset(self.account_admins.replace(",", " ").split())

    @property
    def opentrain_url(self) -> str:
        return str(self.opentrain_base_url).rstrip("/")

    @property
    def opentrain_app(self) -> str:
        return str(self.opentrain_app_url).rstrip("/")

    @property
    def slack_oauth(self) -> bool:
        """Installable into any workspace (OAuth v2) rather than today's single workspace of SLACK_BOT_TOKEN."""
        return bool(self.slack_client_id) and bool(secret_text(self.slack_client_secret))

    @property
    def slack_url(self) -> str:
        url = str(self.slack_api_url)
        return url if url.endswith("/") else url + "/"


def is_loopback(host: str | None) -> bool:
    """`localhost` or a loopback address (127.0.0.0/8, ::1): the only hosts plain http may reach."""
    host = (host or "").strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SettingsError(SystemExit):
    """Raised with a one-line, secret-free message naming the bad variable."""


def load_settings(**overrides: Any) -> Settings:
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        # `msg` describes the problem without echoing the (possibly secret) input value.
        raise SettingsError(f"hirebot: invalid setting {name}: {first['msg']}") from None
    if problem := slack_mode_conflict(settings):
        raise SettingsError(f"hirebot: {problem}")
    return settings


def secret_text(value: SecretStr | None) -> str:
    return value.get_secret_value().strip() if value is not None else ""


def slack_mode_conflict(settings: Settings) -> str | None:
    """Slack settings that contradict each other: one workspace's token and "install anywhere" at once, half of the
    OAuth credentials, or OAuth without the signing secret that proves a request came from Slack."""
    client_id, client_secret = bool(settings.slack_client_id), bool(secret_text(settings.slack_client_secret))
    if client_id != client_secret:
        return "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together: set both (OAuth install) or neither"
    if settings.slack_oauth and secret_text(settings.slack_bot_token):
        return ("SLACK_BOT_TOKEN contradicts SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: set the bot token for one "
                "workspace, or the client credentials for installs into any workspace, not both")
    if settings.slack_oauth and not secret_text(settings.slack_signing_secret):
        return "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET need SLACK_SIGNING_SECRET: set it in the environment"
    return None


# What each command cannot start without (worker posts proposal cards and claim DMs, so it needs the bot token).
REQUIRED_FOR_COMMAND: dict[str, tuple[str, ...]] = {
    "serve": ("slack_bot_token", "slack_signing_secret"),
    "socket": ("slack_bot_token", "slack_app_token"),
    "worker": ("slack_bot_token",),
}


def missing_for(command: str, settings: Settings) -> list[str]:
    """The variables `command` needs that are unset or empty, by their environment names."""
    missing = []
    for field in REQUIRED_FOR_COMMAND.get(command, ()):
        if field == "slack_bot_token" and settings.slack_oauth:
            continue  # each installed workspace's token comes from Redis
        value = getattr(settings, field)
        if value is None or not value.get_secret_value().strip():
            missing.append(field.upper())
    return missing


def require_for(command: str, settings: Settings) -> None:
    """Stop before anything starts when `command` lacks a credential it cannot run without (one line, exit 2)."""
    missing = missing_for(command, settings)
    if missing:
        raise SettingsError(f"hirebot: {command} needs {' and '.join(missing)}: set "
                            f"{'them' if len(missing) > 1 else 'it'} in the environment (see README, Settings)")


def warn_if_encryption_key_is_per_machine(settings: Settings) -> None:
    """Without ENCRYPTION_KEY each machine generates its own key, so processes sharing REDIS_URL cannot read
    each other's stored OpenTrain tokens. Only a warning: tests and local development use a local REDIS_URL."""
    if settings.redis_url and settings.encryption_key is None:
        log.warning(
            "REDIS_URL is set but ENCRYPTION_KEY is not: OpenTrain credentials are encrypted with this machine's "
            "development key (%s), which other processes sharing this Redis cannot read; in production set "
            "ENCRYPTION_KEY, identical for every process",
            Path(settings.data_dir) / "secret.key",
        )
