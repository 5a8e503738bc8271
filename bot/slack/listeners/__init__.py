"""One module per Slack surface, each exposing `register(app, deps)`; `LISTENERS` is the list of them.

bolt tries listeners in the order they were registered and the first that matches takes the request, so
`fallback` (every action, view, shortcut, command and event nobody else takes, acked) stays last.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.deps import SlackDeps
from bot.slack.listeners import (
    actions,
    commands,
    contract_actions,
    fallback,
    home,
    job_changes,
    messages,
    new_job,
    proposal_actions,
    uninstall,
)

# fallback last: it matches anything
LISTENERS = (actions, commands, home, job_changes, messages, new_job, proposal_actions, contract_actions, uninstall,
             fallback)


def register_all(app: AsyncApp, deps: SlackDeps) -> None:
    for listener in LISTENERS:
        listener.register(app, deps)
