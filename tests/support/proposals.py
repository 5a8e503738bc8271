"""Proposal-notification helpers shared by the ledger and Slack tests: where the job lives in Slack, a Web API client
for the Slack stand-in, and cards made like OpenTrain's."""

from __future__ import annotations

import itertools

from slack_sdk.web.async_client import AsyncWebClient

from bot.ledger.cards import ProposalCard
from bot.opentrain.models import ProposalDetail
from tests.support.slack_api import SlackApiStandIn

TEAM = "T1"
CHANNEL = "CHIRING"
ROOT_TS = "1699999999.000100"


def slack_client(api: SlackApiStandIn) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test-bot-token", base_url=api.url, retry_handlers=[])


_ids = itertools.count(1)


def make_card(status: str = "UNREVIEWED", **overrides) -> ProposalCard:
    number = next(_ids)
    payload = {
        "proposal": {
            "id": f"prop_{number:04d}", "jobId": "job_1", "jobTitle": "Dashcam image annotation",
            "status": {"raw": status, "label": status.capitalize()},
            "bid": {"amountUsd": 18.5, "unit": "PER_HOUR"},
            "candidate": {"displayName": f"Cand {number} X.", "profileTitle": "Bounding Box Annotator",
                          "country": "Spain", "profilePhotoUrl": "https://example.invalid/p.png"},
            "metrics": {"interviewScore": 86, "matchScore": 0.91},
        }
    }
    payload["proposal"].update(overrides)
    return ProposalCard.read(ProposalDetail.model_validate(payload))
