"""Proposal-notification fixtures: the Slack stand-in, a hand-moved clock, and cards made like OpenTrain's."""

from __future__ import annotations

import itertools

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.opentrain.models import ProposalDetail
from bot.slack.blocks.proposals import ProposalCard
from tests.support.slack_api import SlackApiStandIn
from tests.support.clock import HandClock

TEAM = "T1"
CHANNEL = "CHIRING"
ROOT_TS = "1699999999.000100"


@pytest.fixture
async def slack_api():
    async with SlackApiStandIn(team_id=TEAM) as api:
        yield api


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
