"""`/hire`: usage and status answered from the ack or right after it; a new job acked first, worked on after."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

from bot.slack.app import SlackDeps
from bot.slack.blocks.conversation import usage

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.command("/hire")
    async def hire(ack, command, respond) -> None:
        text = (command.get("text") or "").strip()
        word = text.lower()
        if word in ("", "help"):
            message = usage()
            await ack(text=message.text, blocks=message.blocks)  # static: answered in the ack itself
            return
        await ack()
        team_id, user_id = command["team_id"], command["user_id"]

        async def tell(message: str) -> None:
            await respond(text=message, response_type="ephemeral", replace_original=False)

        async def work() -> None:
            try:
                if word == "status":
                    listing = await deps.dialogue.status(team_id, user_id)
                    await respond(text=listing.text, blocks=listing.blocks, response_type="ephemeral")
                    return
                await deps.dialogue.start(team_id=team_id, user_id=user_id, channel_id=command["channel_id"],
                                          text=text, message_id=f"command:{command.get('trigger_id', '')}",
                                          tell=tell)
            except Exception:
                log.exception("/hire failed")
                await tell("Something went wrong on my side and the job was not started; please try again.")

        await deps.work.run(work)
