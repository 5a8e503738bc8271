"""`app_uninstalled` and `tokens_revoked` (the bot's token): the workspace removed the app (bot/slack/uninstall.py).
Registered only when the app is installable (OAuth); with SLACK_BOT_TOKEN the fallback acks them, as before."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack.deps import SlackDeps


def register(app: AsyncApp, deps: SlackDeps) -> None:
    uninstalls = deps.uninstalls
    if uninstalls is None:
        return

    async def removed(body: dict[str, Any]) -> None:
        await uninstalls.uninstalled(body.get("team_id"), body.get("enterprise_id"), org_wide=org_wide(body))

    @app.event("app_uninstalled")
    async def on_app_uninstalled(body: dict[str, Any]) -> None:
        await removed(body)

    @app.event("tokens_revoked")
    async def on_tokens_revoked(event: dict[str, Any], body: dict[str, Any]) -> None:
        if (event.get("tokens") or {}).get("bot"):  # only installers' user tokens: the bot still works
            await removed(body)


def org_wide(body: dict[str, Any]) -> bool:
    """Whether the event is about an Enterprise Grid org-wide install."""
    authorizations = body.get("authorizations") or [{}]
    return bool(body.get("is_enterprise_install") or authorizations[0].get("is_enterprise_install"))
