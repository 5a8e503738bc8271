"""The engine's claim observer: when a claim is confirmed, expires or fails, update the requester's claim DM.

It runs wherever the claim poll runs (`serve` or `worker`), so it needs nothing but a Web API client: the DM's
channel and message ts travel in the conversation's surface metadata.
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.hiring.engine import ConversationRef
from bot.hiring.views import ClaimInstructions
from bot.slack.blocks.conversation import claim_dm, plain
from bot.slack.dialogue import SLACK_CALL_ERRORS, failure_code

log = logging.getLogger(__name__)


class SlackClaimObserver:
    def __init__(self, client: AsyncWebClient):
        self._client = client

    async def claim_changed(self, ref: ConversationRef, claim: ClaimInstructions, surface: dict) -> None:
        message = claim_dm(claim, ref.conversation_id)
        dm_channel, claim_ts = surface.get("dm_channel"), surface.get("claim_ts")
        try:
            if dm_channel and claim_ts:
                await self._client.chat_update(channel=dm_channel, ts=claim_ts, text=message.text,
                                               blocks=message.blocks)
            elif requester := surface.get("requester"):
                opened = await self._client.conversations_open(users=requester)
                await self._client.chat_postMessage(channel=opened["channel"]["id"], text=message.text,
                                                    blocks=message.blocks)
            else:
                log.warning("claim for %s changed to %s but no Slack DM is known", ref.workspace_id, claim.state)
                return
            if claim.state == "claimed" and surface.get("channel") and surface.get("thread_ts"):
                note = plain("The OpenTrain account is claimed: hiring from this job is unlocked.")
                await self._client.chat_postMessage(channel=surface["channel"], thread_ts=surface["thread_ts"],
                                                    text=note.text, blocks=note.blocks)
        except SLACK_CALL_ERRORS as exc:  # the claim itself moved on; only its DM is stale
            log.error("claim DM update failed: %s", failure_code(exc))
