"""Ledger fixtures: the Slack stand-in the outbox posts the cards to."""

from __future__ import annotations

import pytest

from tests.support.proposals import TEAM
from tests.support.slack_api import SlackApiStandIn


@pytest.fixture
async def slack_api():
    async with SlackApiStandIn(team_id=TEAM) as api:
        yield api
