"""A workspace removes the app (`app_uninstalled`, or `tokens_revoked` for the bot's token).

At once: the workspace is marked uninstalled (its scheduled work ends at its turn without running, see
`WorkspaceScheduler`) and its Slack installation, with its tokens, is deleted. After SLACK_UNINSTALL_GRACE_SECONDS
(room for a mistaken uninstall to be undone by installing again, which clears the mark): its conversations, cursors
and other records go. Its OpenTrain account is let go only if nobody claimed it (its token revoked); a claimed account
belongs to its human and is kept, so a new install finds it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.hiring.accounts import Accounts
from bot.hiring.jobs import forget_workspace
from bot.infra.scheduler import ScheduledItem
from bot.infra.storage import Redis, key
from bot.slack.clients import WorkspaceScheduler
from bot.slack.installations import (
    UNINSTALLED_MARK_SECONDS,
    RedisInstallationStore,
    installation_owner,
    uninstalled_key,
)

log = logging.getLogger(__name__)

FORGET_KIND = "slack-forget"


class Uninstalls:
    def __init__(self, redis: Redis, namespace: str, installations: RedisInstallationStore, accounts: Accounts,
                 scheduler: WorkspaceScheduler, *, grace_seconds: float, clock: Callable[[], float] = time.time):
        self._redis = redis
        self._namespace = namespace
        self._installations = installations
        self._accounts = accounts
        self._scheduler = scheduler
        self._grace = grace_seconds
        self._clock = clock

    def register(self) -> None:
        self._scheduler.always.add(FORGET_KIND)  # it runs for a workspace marked uninstalled: that is its point
        self._scheduler.register(FORGET_KIND, self._forget)

    async def uninstalled(self, team_id: str | None, enterprise_id: str | None, *, org_wide: bool) -> None:
        owner = installation_owner(enterprise_id, team_id, org_wide)
        if not owner:
            return
        # Tokens first: from then on no call can be made for it (a scheduled item without one ends quietly)
        await self._installations.async_delete_all(enterprise_id=enterprise_id, team_id=None if org_wide else team_id)
        await self._redis.set(uninstalled_key(self._namespace, owner), "1", ex=UNINSTALLED_MARK_SECONDS)
        await self._scheduler.schedule(FORGET_KIND, owner, due_at=self._clock() + self._grace)
        log.info("the app was removed from %s: its work stops; its records go in %ss", owner, int(self._grace))

    async def _forget(self, item: ScheduledItem) -> None:
        owner = item.item_id
        if not await self._redis.exists(uninstalled_key(self._namespace, owner)):
            return  # installed again during the grace period: everything stays
        kept_account = await self._accounts.let_go(owner)
        await forget_workspace(self._redis, self._namespace, owner)
        keep = {uninstalled_key(self._namespace, owner)}
        if kept_account:
            keep.add(key(self._namespace, "ws", owner, "account"))
        # The workspace's own keys share its tag; its conversations are spread over the conversation shards.
        patterns = [key(self._namespace, "ws", owner, "*"), f"{self._namespace}:{{conv:*}}:ws:{owner}:*"]
        doomed = [k for pattern in patterns async for k in self._redis.scan_iter(match=pattern, count=500)
                  if k not in keep]
        async with self._redis.pipeline(transaction=False) as pipe:  # one key per command: any slot layout
            for doomed_key in doomed:
                pipe.delete(doomed_key)
            await pipe.execute()
        log.info("forgot %s records of %s, which removed the app (%s its OpenTrain account)", len(doomed), owner,
                 "kept" if kept_account else "revoked")
