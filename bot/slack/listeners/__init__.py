"""One module per Slack surface, each exposing `register(app, deps)`; `LISTENERS` is the list of them."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.deps import SlackDeps
from bot.slack.listeners import actions, commands, messages, proposal_actions

LISTENERS = (actions, commands, messages, proposal_actions)


def register_all(app: AsyncApp, deps: SlackDeps) -> None:
    for listener in LISTENERS:
        listener.register(app, deps)
