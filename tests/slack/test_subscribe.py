"""`/hire subscribe` over signed HTTP: a job's new proposal cards move to another channel the bot joined, only for
hiring managers and account admins, never to a channel it cannot post in, never for a job of another workspace."""

from __future__ import annotations

import re

import httpx

from bot.app import serve_http
from tests.slack.conftest import CHANNEL, REQUESTER, STRANGER, HttpSlack, Person, text_of
from tests.slack.story import eventually, in_thread, publish_a_job
from tests.support.market import Market

CARDS, PRIVATE = "CCARDS", "CSECRET"


def told(slack_api) -> list[str]:
    return [c.args.get("text", "") for c in slack_api.calls_to("response_url")]


async def said_after(slack_api, person: Person, command: str) -> str:
    before = len(told(slack_api))
    assert await person.hire(command) == 200
    await eventually(lambda: len(told(slack_api)) > before, f"the answer to /hire {command}")
    return told(slack_api)[-1]


async def test_subscribe_moves_new_cards_to_a_joined_channel(make_settings, slack_api, sandbox_url):
    slack_api.add_channel(CARDS, "hiring-cards")
    slack_api.add_channel(PRIVATE, "secret", private=True)
    market = Market(sandbox_url)
    async with (serve_http(make_settings(opentrain_poll_seconds=0.3), port=0) as server,
                httpx.AsyncClient(timeout=10) as http):
        slack = HttpSlack([server.url], http)
        requester, stranger = Person(REQUESTER, slack, slack_api), Person(STRANGER, slack, slack_api)
        root = await publish_a_job(requester, slack_api)
        live = await eventually(lambda: in_thread(slack_api, root, "Your job is live"), "the job link")
        job_id = re.search(r"job_[0-9a-f]+", text_of(live)).group(0)

        assert "account admin" in await said_after(slack_api, stranger, "subscribe #hiring-cards")
        assert "invite me there first" in await said_after(slack_api, requester, "subscribe #secret")
        assert "/invite @hirebot" in await said_after(slack_api, requester, f"subscribe <#{PRIVATE}|secret>")
        assert "isn't a job published from this workspace" in await said_after(
            slack_api, requester, "subscribe #hiring-cards job_0000forged")
        assert not slack_api.calls_to("conversations.join", lambda a: a.get("channel") == PRIVATE)

        assert f"1 job now go to <#{CARDS}>" in await said_after(slack_api, requester, "subscribe #hiring-cards")
        assert slack_api.channels[CARDS]["is_member"]  # joined, so the cards can be posted

        [proposal_id] = market.propose(job_id)
        card = await eventually(lambda: next((m for m in slack_api.messages.values()
                                              if m.channel == CARDS and proposal_id in text_of(m)), None),
                                "the card in the subscribed channel")
        assert card.thread_ts is None
        assert not [m for m in slack_api.thread(CHANNEL, root.ts) if "New proposal" in m.text]
    market.close()
