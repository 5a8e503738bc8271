"""Who someone is in a Slack workspace, for the authorization table (`bot.hiring.authz.Directory`).

Hiring managers are HIRING_MANAGERS: user ids, and members of the user groups listed there. Account admins are
ACCOUNT_ADMINS (the same forms) or, when it is unset, the workspace's owners and admins as `users.info` reports them.
Slack's answers are cached in Redis for `CACHE_SECONDS`, so a demotion takes effect within that time and a burst of
clicks costs one Web API call. When Slack cannot answer, the person holds no extra role: refusing is the safe side.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.infra.storage import Redis, key
from bot.slack.dialogue import SLACK_CALL_ERRORS, failure_code

log = logging.getLogger(__name__)

CACHE_SECONDS = 60

Fetch = Callable[[str], Awaitable[dict[str, Any] | None]]


class SlackDirectory:
    def __init__(self, client: AsyncWebClient, redis: Redis, namespace: str, *, hiring_managers: frozenset[str],
                 account_admins: frozenset[str]):
        self._client = client
        self._redis = redis
        self._namespace = namespace
        self._managers = hiring_managers
        self._admins = account_admins

    async def is_hiring_manager(self, workspace_id: str, user_id: str) -> bool:
        return await self._listed(workspace_id, user_id, self._managers)

    async def is_account_admin(self, workspace_id: str, user_id: str) -> bool:
        if self._admins:
            return await self._listed(workspace_id, user_id, self._admins)
        user = await self._cached(workspace_id, f"user:{user_id}", self._user_info, user_id)
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))

    async def _listed(self, workspace_id: str, user_id: str, listed: frozenset[str]) -> bool:
        if user_id in listed:
            return True
        for group in sorted(g for g in listed if g.startswith("S")):
            members = await self._cached(workspace_id, f"group:{group}", self._group_members, group)
            if user_id in members.get("users", []):
                return True
        return False

    async def _cached(self, workspace_id: str, name: str, fetch: Fetch, argument: str) -> dict[str, Any]:
        cache = key(self._namespace, "ws", workspace_id, "slack", "directory", name)
        if (cached := await self._redis.get(cache)) is not None:
            return dict(json.loads(str(cached)))
        answer = await fetch(argument)
        if answer is not None:
            await self._redis.set(cache, json.dumps(answer), ex=CACHE_SECONDS)
        return answer or {}

    async def _user_info(self, user_id: str) -> dict[str, Any] | None:
        try:
            response = await self._client.users_info(user=user_id)
        except SLACK_CALL_ERRORS as exc:
            log.warning("users.info for an authorization check failed: %s", failure_code(exc))
            return None
        user = response.get("user") or {}
        return {field: bool(user.get(field)) for field in ("is_admin", "is_owner", "is_primary_owner")}

    async def _group_members(self, group_id: str) -> dict[str, Any] | None:
        try:
            response = await self._client.usergroups_users_list(usergroup=group_id)
        except SLACK_CALL_ERRORS as exc:
            log.warning("usergroups.users.list for an authorization check failed: %s", failure_code(exc))
            return None
        return {"users": [str(user) for user in response.get("users") or []]}
