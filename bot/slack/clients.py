"""Which Slack token a Web API call carries: the one seam between "one workspace" and "installed anywhere".

`SlackClients.for_team(team_id, enterprise_id)` is the Web API client of one workspace. With SLACK_BOT_TOKEN (today's
single-workspace mode) it is that one client, whatever the team. With OAuth it carries the workspace's installed bot
token, refreshed first when the app has token rotation on and the token is about to expire.

The bot's senders (dialogue, outbox, reminders, digests, relay, money, the claim observer...) keep the one client
they were built with; in OAuth mode that client is `routed()`: each call asks `for_team` for the workspace the
current work is for. The workspace is set once where work starts: a bolt middleware for Slack's requests (tasks a
listener starts inherit it), and `WorkspaceScheduler` for scheduled work, whose item ids begin with their
workspace. A workspace that uninstalled the app is marked at once; its scheduled items then end without running.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.infra.scheduler import Handler, ScheduledItem, Scheduler
from bot.infra.storage import Redis
from bot.slack.installations import RedisInstallationStore, installation_owner, uninstalled_key

log = logging.getLogger(__name__)

# Refresh a rotating token this long before it expires (bolt's default for the requests it authorizes).
ROTATE_MINUTES_BEFORE_EXPIRY = 120
ITEM_SEPARATORS = (":", "|")

# (team id, enterprise id) the running work is for; None outside any workspace's work (the OAuth flow itself).
_acting_for: contextvars.ContextVar[tuple[str, str | None] | None] = contextvars.ContextVar(
    "hirebot_slack_workspace", default=None)


class WorkspaceNotInstalled(Exception):
    """A call for a workspace with no installation (never installed, or uninstalled): nothing is sent."""


@contextlib.contextmanager
def acting_for(team_id: str, enterprise_id: str | None = None) -> Iterator[None]:
    reset = _acting_for.set((team_id, enterprise_id))
    try:
        yield
    finally:
        _acting_for.reset(reset)


def copy_with_token(template: AsyncWebClient, token: str | None) -> AsyncWebClient:
    """`template`'s host, pool, timeout and retry policy with another token."""
    return AsyncWebClient(token=token, base_url=template.base_url, session=template.session,
                          timeout=template.timeout, retry_handlers=template.retry_handlers, logger=template.logger)


class SlackClients:
    def __init__(self, template: AsyncWebClient, *, per_workspace: bool = False, client_id: str = "",
                 client_secret: str = ""):
        self._template = template  # single-workspace mode: THE client; OAuth mode: tokenless, for its settings
        self._per_workspace = per_workspace
        self._installations: RedisInstallationStore | None = None  # attached once Redis is open
        self._rotator = AsyncTokenRotator(client_id=client_id, client_secret=client_secret,
                                          client=copy_with_token(template, None))

    def attach(self, installations: RedisInstallationStore) -> None:
        self._installations = installations

    @property
    def installations(self) -> RedisInstallationStore | None:
        return self._installations

    @property
    def per_workspace(self) -> bool:
        return self._per_workspace

    async def for_team(self, team_id: str | None, enterprise_id: str | None = None) -> AsyncWebClient:
        if not self._per_workspace:
            return self._template
        return copy_with_token(self._template, await self.bot_token(team_id, enterprise_id))

    async def bot_token(self, team_id: str | None, enterprise_id: str | None = None) -> str:
        """The workspace's installed bot token, rotated first when it expires within two hours."""
        if self._installations is None:
            raise RuntimeError("SlackClients: no installation store attached")
        found = await self._installations.async_find_installation(enterprise_id=enterprise_id, team_id=team_id)
        if found is None or not found.bot_token:
            raise WorkspaceNotInstalled(installation_owner(enterprise_id, team_id, team_id is None))
        if found.bot_refresh_token:
            refreshed = await self._rotator.perform_token_rotation(
                installation=found, minutes_before_expiration=ROTATE_MINUTES_BEFORE_EXPIRY)
            if refreshed is not None:
                await self._installations.async_save(refreshed)
                found = refreshed
        assert found.bot_token is not None
        return found.bot_token

    async def current_token(self, single_workspace_token: str) -> str:
        """The bot token of the workspace the current work is for (a shared file's download)."""
        workspace = _acting_for.get()
        if not self._per_workspace or workspace is None:
            return single_workspace_token
        return await self.bot_token(*workspace)

    async def set_workspace(self, context: AsyncBoltContext, req: AsyncBoltRequest,
                            next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:  # bolt passes `next` by name
        """bolt middleware: the rest of this request's handling, and every task it starts, acts for its workspace.
        A workspace of an org-wide install is remembered as the org's, for its background work."""
        if context.team_id or context.enterprise_id:
            _acting_for.set((context.team_id or context.enterprise_id or "", context.enterprise_id))
        if context.is_enterprise_install and context.team_id and context.enterprise_id and self._installations:
            await self._installations.remember_org(context.team_id, context.enterprise_id)
        return await next()

    def routed(self, template: AsyncWebClient | None = None) -> AsyncWebClient:
        """A client for a sender built once per process: in OAuth mode each call carries the token of the workspace
        the current work is for (`template`: the sender's own retry policy)."""
        base = template or self._template
        if not self._per_workspace:
            return base
        return RoutedWebClient(self, base)


class RoutedWebClient(AsyncWebClient):
    """Every call is made by the current workspace's client; one with an explicit `token`, or made outside any
    workspace's work (bolt's OAuth flow), goes out as asked."""

    def __init__(self, clients: SlackClients, template: AsyncWebClient):
        super().__init__(token=None, base_url=template.base_url, session=template.session, timeout=template.timeout,
                         retry_handlers=template.retry_handlers, logger=template.logger)
        self._clients = clients
        self._base = template

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        workspace = _acting_for.get()
        if workspace is None or _explicit_token(kwargs):
            return await copy_with_token(self._base, None).api_call(api_method, **kwargs)
        client = await self._clients.for_team(*workspace)
        return await client.api_call(api_method, **kwargs)


def _explicit_token(kwargs: dict[str, Any]) -> bool:
    return any(isinstance(part, dict) and part.get("token") for part in kwargs.values())


def workspace_of(item: ScheduledItem) -> str:
    """Scheduled items name their workspace first ("T1", "T1:C1", "T1|conv"); an inbox step carries Slack's body,
    with its team."""
    body = item.payload.get("payload")
    if isinstance(body, dict) and body.get("team_id"):
        return str(body["team_id"])
    head = item.item_id
    for separator in ITEM_SEPARATORS:
        head = head.split(separator, 1)[0]
    return head


class WorkspaceScheduler(Scheduler):
    """The scheduler of an installable app: each item runs acting for its workspace, and an uninstalled workspace's
    items end at their turn without running (`always` kinds, such as the clean-up after an uninstall, still run)."""

    def __init__(self, redis: Redis, namespace: str, **options: Any):
        super().__init__(redis, namespace, **options)
        self._redis_handle = redis
        self._ns = namespace
        self.always: set[str] = set()

    def register(self, kind: str, handler: Handler, *, lease_seconds: float | None = None) -> None:
        async def for_workspace(item: ScheduledItem) -> float | None:
            team = workspace_of(item)
            if kind not in self.always and await self._redis_handle.exists(uninstalled_key(self._ns, team)):
                log.info("dropping scheduled %s for workspace %s: the app was uninstalled there", kind, team)
                return None
            with acting_for(team):
                try:
                    return await handler(item)
                except WorkspaceNotInstalled:  # e.g. the org-wide install of its org was removed
                    log.info("dropping scheduled %s for workspace %s: no installation", kind, team)
                    return None

        super().register(kind, for_workspace, lease_seconds=lease_seconds)
