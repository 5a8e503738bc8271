"""The OpenTrain account behind a workspace.

With OPENTRAIN_API_TOKEN set every workspace uses that token (an app token: claimed from the start). Otherwise each
workspace registers its own agent account once (a Redis lock keeps two processes from registering twice) and keeps
the access token and claim token encrypted at rest. Capabilities and the `auth/me` answer are cached per workspace.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, Field, SecretStr

from bot.hiring.wording import CREDENTIALS_UNREADABLE, Explained, feature_off, missing_scopes
from bot.infra.secretbox import SecretBox, UndecryptableSecret
from bot.infra.storage import Redis, key
from bot.opentrain.client import OpenTrainClient

log = logging.getLogger(__name__)

PROBE_TTL_SECONDS = 3600  # auth/me and capabilities; a feature-disabled 403 re-probes at once
REGISTRATION_LOCK_MS = 30_000
REGISTRATION_WAIT_SECONDS = 30.0

# KEYS: account | ARGV: field, value, ... (access_token first). The first registration stored wins: one that ran
# past its lock must not replace a token other processes already use.
_STORE_ONCE = """
local stored = redis.call('HGET', KEYS[1], 'access_token')
if stored then return stored end
redis.call('HSET', KEYS[1], unpack(ARGV))
return ARGV[2]
"""

# Feature key each capability belongs to (contract §1.5), for messages that name what is disabled.
FEATURE_OF_CAPABILITY = {
    "draftCreate": "public_api_job_drafting",
    "draftUpdate": "public_api_job_drafting",
    "publish": "public_api_job_publishing",
}


class Features(BaseModel):
    """What `GET /capabilities` says the token may use, and the draft vocabulary (cached per workspace)."""

    capabilities: dict[str, Any] = Field(default_factory=dict)  # camelCase flags, as `lacks` names them
    update_keys: list[str] = Field(default_factory=list)
    enums: dict[str, list[str]] = Field(default_factory=dict)


class Actor(BaseModel):
    """Who the token acts for (`GET /auth/me`, cached per workspace)."""

    email: str | None = None
    name: str | None = None
    scopes: list[str] = Field(default_factory=list)


Probe = TypeVar("Probe", Features, Actor)


class AccountProblem(Explained):
    """Something the requester must hear in plain words (a disabled feature, a missing scope); never a secret."""


class CredentialsUnreadable(AccountProblem, UndecryptableSecret):
    """The workspace's stored OpenTrain token was sealed with a key ENCRYPTION_KEY no longer lists. An Explained
    failure (the conversation shows the sentence) and an UndecryptableSecret (background work backs off quietly)."""


def has_scope(granted: list[str], needed: str) -> bool:
    resource = needed.split(":")[0]
    return needed in granted or (needed.endswith(":read") and f"{resource}:write" in granted)


class Accounts:
    def __init__(self, redis: Redis, namespace: str, base_client: OpenTrainClient, secretbox: SecretBox, *,
                 app_token: str | None = None,
                 agent_name: str = "hirebot"):
        self._redis = redis
        self._namespace = namespace
        self._base = base_client  # a tokenless OpenTrainClient; every workspace client shares its HTTP pool
        self._box = secretbox
        self._app_token = app_token
        self._agent_name = agent_name

    def __repr__(self) -> str:
        return f"Accounts(namespace={self._namespace!r}, app_token={'set' if self._app_token else 'unset'})"

    @property
    def secretbox(self) -> SecretBox:
        """The box that seals this deployment's OpenTrain credentials (the claim record seals its link with it)."""
        return self._box

    async def aclose(self) -> None:
        await self._base.aclose()

    def _key(self, workspace_id: str, part: str) -> str:
        # `account` has no TTL on purpose: it is the workspace's OpenTrain account (its only copy of the token);
        # expiring it would register a new, unclaimed account and orphan every job. `forget` drops it when its claim
        # window closed. `me` / `capabilities` expire after PROBE_TTL_SECONDS, `account-lock` after
        # REGISTRATION_LOCK_MS.
        return key(self._namespace, "ws", workspace_id, part)

    async def client_for(self, workspace_id: str) -> OpenTrainClient:
        return self._base.with_token(await self._access_token(workspace_id))

    async def is_claimed(self, workspace_id: str) -> bool:
        if self._app_token:
            return True
        return bool(await self._redis.hget(self._key(workspace_id, "account"), "claimed") == "1")

    async def registered(self, workspace_id: str) -> bool:
        """Whether the workspace has an account yet (the first `/hire` registers one)."""
        return bool(self._app_token) or bool(await self._redis.hexists(self._key(workspace_id, "account"),
                                                                         "access_token"))

    async def claim_token(self, workspace_id: str) -> str | None:
        if self._app_token:
            return None
        sealed = await self._redis.hget(self._key(workspace_id, "account"), "claim_token")
        return self._open(str(sealed)) if sealed else None

    async def claim_window_closes_at(self, workspace_id: str) -> float | None:
        """When the claim token stops working (epoch s, from registration), or None when unknown."""
        closes_at = await self._redis.hget(self._key(workspace_id, "account"), "claim_token_expires_at")
        return float(closes_at) if closes_at else None

    async def replace_token(self, workspace_id: str, access_token: str, scopes: list[str]) -> None:
        """After a successful claim: the old tokens are dead, so swap in the new one in a single write."""
        account = self._key(workspace_id, "account")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(account, mapping={"access_token": self._box.encrypt(access_token), "claimed": "1",
                                        "scopes": json.dumps(scopes)})
            pipe.hdel(account, "claim_token", "claim_token_expires_at")
            pipe.delete(self._key(workspace_id, "me"), self._key(workspace_id, "capabilities"))
            await pipe.execute()

    async def forget(self, workspace_id: str) -> None:
        """Drop an account whose claim window closed: the next use registers a fresh one."""
        await self._redis.delete(*(self._key(workspace_id, p) for p in ("account", "me", "capabilities")))

    async def let_go(self, workspace_id: str) -> bool:
        """The workspace removed the bot: an unclaimed account's token is revoked and the account forgotten; a
        claimed one belongs to its human and is left as it is (returns True when it is kept)."""
        if self._app_token or await self.is_claimed(workspace_id):
            return True
        sealed = await self._redis.hget(self._key(workspace_id, "account"), "access_token")
        if sealed:
            await self._revoke_quietly(SecretStr(self._open(str(sealed))))
        await self.forget(workspace_id)
        return False

    async def forget_capabilities(self, workspace_id: str) -> None:
        await self._redis.delete(self._key(workspace_id, "capabilities"))

    async def capabilities(self, workspace_id: str, refresh: bool = False) -> Features:
        """Probed once and cached."""
        return await self._probed(workspace_id, "capabilities", refresh, Features, _read_capabilities)

    async def me(self, workspace_id: str, refresh: bool = False) -> Actor:
        """Who the token acts for and its scopes."""
        return await self._probed(workspace_id, "me", refresh, Actor, _read_me)

    async def _probed(self, workspace_id: str, name: str, refresh: bool, kind: type[Probe],
                      read: Callable[[OpenTrainClient], Awaitable[Probe]]) -> Probe:
        """A discovery answer of OpenTrain's, cached per workspace for PROBE_TTL_SECONDS."""
        cache = self._key(workspace_id, name)
        if not refresh and (cached := await self._redis.get(cache)):
            return kind.model_validate_json(cached)
        probed = await read(await self.client_for(workspace_id))
        await self._redis.set(cache, probed.model_dump_json(), ex=PROBE_TTL_SECONDS)
        return probed

    async def check_ready(self, workspace_id: str, *, scope: str, capability: str) -> None:
        """Raise AccountProblem naming the missing scope or disabled feature before a call that needs them."""
        problem = await self.lacks(workspace_id, scope=scope, capability=capability)
        if problem:
            raise AccountProblem(problem)

    async def lacks(self, workspace_id: str, *, scope: str, capability: str, unreported_ok: bool = True) -> str | None:
        """What stops the token from using `capability` (a plain sentence), or None. A capability the probe does not
        report counts as on unless `unreported_ok` is False (for optional features the bot only uses when sure)."""
        who = await self.me(workspace_id)
        if not has_scope(who.scopes, scope):
            return missing_scopes([scope])
        enabled = (await self.capabilities(workspace_id)).capabilities.get(capability)
        if (enabled is False) if unreported_ok else (enabled is not True):
            return feature_off(FEATURE_OF_CAPABILITY.get(capability, capability))
        return None

    async def _access_token(self, workspace_id: str) -> str:
        if self._app_token:
            return self._app_token
        sealed = await self._redis.hget(self._key(workspace_id, "account"), "access_token")
        return self._open(str(sealed) if sealed is not None else await self._register_once(workspace_id))

    def _open(self, sealed: str) -> str:
        try:
            return self._box.decrypt(sealed)
        except UndecryptableSecret:
            raise CredentialsUnreadable(CREDENTIALS_UNREADABLE) from None

    async def _register_once(self, workspace_id: str) -> str:
        account, lock = self._key(workspace_id, "account"), self._key(workspace_id, "account-lock")
        holder = uuid.uuid4().hex
        waited = 0.0
        while not await self._redis.set(lock, holder, nx=True, px=REGISTRATION_LOCK_MS):
            # Another process is registering this workspace: wait for its result instead of registering again.
            if sealed := await self._redis.hget(account, "access_token"):
                return str(sealed)
            if waited >= REGISTRATION_WAIT_SECONDS:
                raise AccountProblem("Connecting to OpenTrain is taking too long; please try again in a minute.")
            await asyncio.sleep(0.1)
            waited += 0.1
        try:
            if sealed := await self._redis.hget(account, "access_token"):
                return str(sealed)
            return await self._register(workspace_id, account)
        finally:
            if await self._redis.get(lock) == holder:
                await self._redis.delete(lock)

    async def _register(self, workspace_id: str, account: str) -> str:
        registration = await self._base.register_agent(agent_name=self._agent_name)
        sealed = self._box.encrypt(registration.access_token.get_secret_value())
        fields = ["access_token", sealed, "claimed", "0", "scopes", json.dumps(registration.scopes)]
        if registration.claim_token is not None:  # without one, the account can never be claimed by us
            fields += ["claim_token", self._box.encrypt(registration.claim_token.get_secret_value())]
            if (closes_at := _epoch(registration.claim_token_expires_at)) is not None:
                fields += ["claim_token_expires_at", repr(closes_at)]
        stored = await self._redis.eval(_STORE_ONCE, 1, account, *fields)
        if stored != sealed:
            log.warning("workspace %s was registered twice (a slow registration outlived its lock); "
                        "keeping the first account", workspace_id)
            await self._revoke_quietly(registration.access_token)
            return str(stored)
        log.info("registered an OpenTrain agent account for workspace %s", workspace_id)
        return sealed

    async def _revoke_quietly(self, token: SecretStr) -> None:
        try:
            await self._base.revoke_token(token)
        except Exception as exc:  # an unused account left behind costs nothing; the workspace is already served
            log.info("could not revoke the spare registration's token (%s)", type(exc).__name__)


def _epoch(timestamp: str | None) -> float | None:
    """An ISO 8601 time such as `2026-06-13T09:00:00.000Z` as epoch seconds; None when absent or unreadable."""
    if timestamp is None:
        return None
    try:
        return datetime.fromisoformat(timestamp).timestamp()
    except ValueError:
        return None


async def _read_capabilities(client: OpenTrainClient) -> Features:
    probe = await client.capabilities()
    return Features(capabilities=probe.capabilities.model_dump(by_alias=True),
                    update_keys=list(probe.draft.update_keys), enums=dict(probe.draft.enums))


async def _read_me(client: OpenTrainClient) -> Actor:
    me = await client.me()
    return Actor(email=me.actor.email, name=me.actor.full_name, scopes=list(me.token.scopes))
