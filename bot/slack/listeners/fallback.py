"""What no other listener takes: acked, so Slack never shows the person an error. Registered last in `LISTENERS`.

bolt answers 404 to a request no listener matches, and Slack shows that as an error on the button: an old button
after a deploy, a modal of a version that is gone, a shortcut or command the manifest no longer has. Each kind of
request gets a listener here that matches any id, and bolt tries listeners in order, so these only see what every
listener before them let pass. A click on a button in a channel also gets an ephemeral note to the person who
clicked. (The /slack/events endpoint acks anything still unmatched, for kinds nobody listed here.)

Nothing here acts for the organization, so no authorization is asked: it acks, logs the id and tells the clicker
the button is dead. Anything that does act has its own listener, which goes through bot/hiring/authz.py.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.clicks import click_origin
from bot.slack.deps import SlackDeps

log = logging.getLogger(__name__)

ANY = re.compile("")  # bolt matches a pattern with re.search: the empty pattern matches every id
NO_LONGER_ACTIVE = "This button is no longer active."


def where_to_tell(body: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """(channel, user, thread_ts) of a click on a message, when the payload has a channel and a user."""
    origin = click_origin(body)
    if not origin.user_id or not origin.channel:
        return None
    return origin.channel, origin.user_id, origin.thread_ts


def register(app: AsyncApp, deps: SlackDeps) -> None:
    async def tell(channel: str, user: str, thread_ts: str | None) -> None:
        await deps.dialogue.tell_ephemeral(channel, user, NO_LONGER_ACTIVE, thread_ts=thread_ts)

    @app.action(ANY)  # block_actions, legacy attachment actions, dialog submissions and cancellations
    async def unknown_action(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        actions = body.get("actions") or [{}]
        log.info("acked an action no listener handles (%s %s)", body.get("type"),
                 actions[0].get("action_id") or body.get("callback_id"))
        if body.get("type") == "block_actions" and (place := where_to_tell(body)) is not None:
            await deps.work.run(lambda: tell(*place))

    @app.view(ANY)
    async def unknown_view(ack: AsyncAck, view: dict[str, Any]) -> None:
        await ack()  # an empty ack closes the modal
        log.info("acked a view submission no listener handles (%s)", view.get("callback_id"))

    @app.view_closed(ANY)
    async def unknown_view_closed(ack: AsyncAck, view: dict[str, Any]) -> None:
        await ack()
        log.info("acked a closed view no listener handles (%s)", view.get("callback_id"))

    @app.shortcut(ANY)  # global and message shortcuts
    async def unknown_shortcut(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        log.info("acked a shortcut no listener handles (%s)", body.get("callback_id"))

    @app.options(ANY)  # an external select's options: none
    async def unknown_options(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack(options=[])
        log.info("acked an options request no listener handles (%s)", body.get("action_id"))

    @app.command(ANY)
    async def unknown_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack(text="hirebot does not know this command.")
        log.info("acked a command no listener handles (%s)", command.get("command"))

    @app.event(ANY)  # events nobody subscribed the bot to, or that no listener wants
    async def unknown_event(event: dict[str, Any]) -> None:
        log.debug("ignored an event no listener handles (%s)", event.get("type"))
