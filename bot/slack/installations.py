"""Slack installations and OAuth state in Redis, behind slack-sdk's own async interfaces, so bolt's OAuth flow, its
authorize step (token rotation included) and our background senders all read the same records.

An installation is kept per workspace: `{ns}:ws:{team}:slack-install`, or for an Enterprise Grid org-wide install
`{ns}:ws:{enterprise}:slack-install` (events from any workspace of that org find it through the enterprise id). Its
tokens (bot, user, and their refresh tokens) are sealed with the SecretBox like OpenTrain's; the other fields are
one JSON field. Only the latest installation of a workspace is kept: hirebot asks for no user scopes, so the
installer's own token is never what a call uses.
"""

from __future__ import annotations

import json
import logging
import uuid
from logging import Logger
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.infra.secretbox import SecretBox
from bot.infra.storage import Redis, key

log = logging.getLogger(__name__)

SEALED_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
INSTALLATION_KIND = "slack-install"
UNINSTALLED_MARK_SECONDS = 30 * 24 * 3600  # longer than any scheduled item waits: each ends at its next turn
ORG_OF_WORKSPACE_SECONDS = 90 * 24 * 3600  # refreshed by every request from the workspace
OAUTH_STATE_SECONDS = 600  # an "Add to Slack" click is good for ten minutes, as slack-sdk's own stores


def installation_owner(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None) -> str:
    """Whose record an installation is: the org for an org-wide install, else the workspace."""
    if is_enterprise_install and enterprise_id:
        return enterprise_id
    return team_id or enterprise_id or ""


def uninstalled_key(namespace: str, owner: str) -> str:
    """Set when the app is uninstalled from a workspace (or org): its background work stops; a new install clears it.
    TTL UNINSTALLED_MARK_SECONDS."""
    return key(namespace, "ws", owner, "slack-uninstalled")


class RedisInstallationStore(AsyncInstallationStore):
    def __init__(self, redis: Redis, namespace: str, secretbox: SecretBox):
        self._redis = redis
        self._namespace = namespace
        self._box = secretbox

    @property
    def logger(self) -> Logger:
        return log

    def _key(self, owner: str) -> str:
        # No TTL: the workspace's only copy of its Slack token; deleted on app_uninstalled / tokens_revoked.
        return key(self._namespace, "ws", owner, INSTALLATION_KIND)

    def _org_key(self, team_id: str) -> str:
        return key(self._namespace, "ws", team_id, "slack-org")

    async def remember_org(self, team_id: str, enterprise_id: str) -> None:
        """A workspace served by its org's org-wide install: background work, which knows only the workspace, finds
        the org's installation through this."""
        await self._redis.set(self._org_key(team_id), enterprise_id, ex=ORG_OF_WORKSPACE_SECONDS)

    async def async_save(self, installation: Installation) -> None:
        owner = installation_owner(installation.enterprise_id, installation.team_id,
                                   installation.is_enterprise_install)
        fields = dict(vars(installation))
        record = {name: self._box.encrypt(str(fields[name])) for name in SEALED_FIELDS if fields.get(name)}
        record["installation"] = json.dumps({k: v for k, v in fields.items() if k not in SEALED_FIELDS}, default=str)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(owner))  # a token no longer issued (no refresh token now) must not linger
            pipe.hset(self._key(owner), mapping=record)  # type: ignore[arg-type]
            pipe.delete(uninstalled_key(self._namespace, owner))  # installed again: its work resumes
            await pipe.execute()

    async def async_save_bot(self, bot: Bot) -> None:
        """A refreshed bot token (bolt's `installation_store_bot_only` rotation) written over the installation's."""
        found = await self.async_find_installation(enterprise_id=bot.enterprise_id, team_id=bot.team_id,
                                                   is_enterprise_install=bot.is_enterprise_install)
        if found is None:
            return
        found.bot_token, found.bot_refresh_token = bot.bot_token, bot.bot_refresh_token
        found.bot_token_expires_at = bot.bot_token_expires_at
        await self.async_save(found)

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False) -> Installation | None:
        for owner in _candidates(enterprise_id, team_id, is_enterprise_install):
            stored: dict[str, str] = await self._redis.hgetall(self._key(owner))  # type: ignore[assignment]
            if stored and (found := self._read(stored)) is not None:
                if enterprise_id and found.enterprise_id and found.enterprise_id != enterprise_id:
                    return None  # another org's record under this id: never hand out its token
                if user_id is not None and found.user_id != user_id:
                    return None
                return found
        if enterprise_id is None and team_id and (org := await self._redis.get(self._org_key(team_id))):
            return await self.async_find_installation(enterprise_id=str(org), team_id=team_id, user_id=user_id,
                                                      is_enterprise_install=True)
        return None

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        found = await self.async_find_installation(enterprise_id=enterprise_id, team_id=team_id,
                                                   is_enterprise_install=is_enterprise_install)
        return found.to_bot() if found is not None and found.bot_token else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                        user_id: str | None = None) -> None:
        # One record per workspace (no user tokens): deleting the installer's deletes the workspace's.
        await self._redis.delete(self._key(installation_owner(enterprise_id, team_id, team_id is None)))

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    def _read(self, stored: dict[str, str]) -> Installation | None:
        fields: dict[str, Any] = json.loads(stored.get("installation") or "{}")
        if not fields:
            return None
        for name in SEALED_FIELDS:
            if stored.get(name):
                fields[name] = self._box.decrypt(stored[name])
        fields.pop("bot_token_expires_in", None)  # expires_at is what was stored; `in` would restart the clock
        fields.pop("user_token_expires_in", None)
        return Installation(**fields)


def _candidates(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None) -> list[str]:
    """Where an installation may be: the workspace's own record first, then its org's org-wide one."""
    if is_enterprise_install or not team_id:
        return [enterprise_id] if enterprise_id else []
    return [team_id, enterprise_id] if enterprise_id else [team_id]


class RedisOAuthStateStore(AsyncOAuthStateStore):
    """The `state` of an "Add to Slack" click: issued once, consumed once (GETDEL), gone after ten minutes."""

    def __init__(self, redis: Redis, namespace: str, expiration_seconds: int = OAUTH_STATE_SECONDS):
        self._redis = redis
        self._namespace = namespace
        self._seconds = expiration_seconds

    @property
    def logger(self) -> Logger:
        return log

    def _key(self, state: str) -> str:
        return key(self._namespace, "oauth-state", state)

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = uuid.uuid4().hex
        await self._redis.set(self._key(state), "1", ex=self._seconds)
        return state

    async def async_consume(self, state: str) -> bool:
        return bool(state) and await self._redis.getdel(self._key(state)) is not None
