"""Candidate messages relayed by two worker processes, SIGKILLed now and then mid-relay: every candidate message is
posted in the thread once, in order, and every Slack reply reaches the candidate once, in order.

Real processes (two `python -m bot serve`, two `python -m bot worker`) over one Redis namespace; the sandbox adds
latency so OpenTrain calls are in flight when the kills land. A worker is chosen at random for each kill (which one
holds a conversation's lease is not visible from outside), so several kills are made while messages flow both ways.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from urllib.parse import urlencode

import httpx

from bot.hiring.jobs import LEDGER_KIND
from bot.infra.scheduler import Scheduler
from bot.infra.storage import connect
from tests.support import slack_signing as signing
from tests.support.crash_cluster import REQUESTER, SIGNING_SECRET, TEAM, Cluster
from tests.support.market import Market, seed_job
from tests.support.slack_api import PostedMessage

CHANNEL, ROOT_TS = "CRELAY", "1699999999.000100"
OUT, IN = 8, 12  # messages each way
KILLS = 4
SEED = 20261202


async def until(probe, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return found


async def test_workers_killed_mid_relay_post_each_message_once_in_order(redis_url, tmp_path):
    rng = random.Random(SEED)
    env = {"OPENTRAIN_POLL_SECONDS": "0.5"}
    async with Cluster(redis_url, tmp_path, latency_ms=300, seed=SEED, workers=2, env=env) as cluster:
        token = cluster.env["OPENTRAIN_API_TOKEN"]
        market = Market(cluster.env["OPENTRAIN_BASE_URL"])
        job_id, job_url = market.publish_job(token)
        redis = connect(redis_url)
        await seed_job(redis, cluster.namespace, job_id=job_id, job_url=job_url, workspace_id=TEAM, channel=CHANNEL,
                       root_ts=ROOT_TS, requester=REQUESTER)
        await Scheduler(redis, cluster.namespace).schedule(LEDGER_KIND, TEAM)
        await redis.aclose()
        market.propose(job_id)
        card = await until(lambda: next((m for m in cluster.messages() if m.channel == CHANNEL and m.blocks), None),
                           "the proposal card")
        await click(cluster, card)
        thread = await until(lambda: next((m for m in cluster.messages() if m.channel == CHANNEL
                                           and (m.metadata or {}).get("event_type") == "hirebot_talk_root"), None),
                             "the conversation's thread")
        [conversation_id] = market.conversations(token)

        kills = asyncio.create_task(kill_now_and_then(cluster, rng))
        # Out: the requester writes, alternating serve processes; each goes once, in the order written.
        written = [f"Question {n} from the requester" for n in range(OUT)]
        for n, text in enumerate(written):
            await say(cluster, thread, text, via=n)
            await asyncio.sleep(rng.uniform(0.05, 0.4))
        await until(lambda: market.sent(token, conversation_id) == written,
                    "every reply at OpenTrain", timeout=90)
        # In: the candidate answers; each answer is posted once, in order.
        answers = [f"Answer {n} from the candidate" for n in range(IN)]
        for text in answers:
            market.control(f"conversations/{conversation_id}/reply", {"content": text})
            await asyncio.sleep(rng.uniform(0.05, 0.4))
        await until(lambda: len(shown(cluster, thread)) >= IN, "every answer in the thread", timeout=90)
        await kills
        await asyncio.sleep(12)  # past a lease: a late duplicate from a killed run would have shown by now
        assert cluster.kills, "no worker was killed"
        assert shown(cluster, thread) == answers
        assert market.sent(token, conversation_id) == written
        reacted = [ts for (channel, ts), names in cluster.api.reactions.items() if channel == CHANNEL
                   and "white_check_mark" in names]
        assert len(reacted) == OUT
        market.close()


async def kill_now_and_then(cluster: Cluster, rng: random.Random) -> None:
    for _ in range(KILLS):
        await asyncio.sleep(rng.uniform(1.0, 4.0))
        cluster.kill_a_worker()


def shown(cluster: Cluster, thread: PostedMessage) -> list[str]:
    """The candidate's messages as posted in the thread, oldest first (the text after the name)."""
    posted = [m for m in cluster.messages() if m.channel == thread.channel and m.thread_ts == thread.ts
              and (m.metadata or {}).get("event_type") == "hirebot_candidate_message"]
    return [m.text.split(": ", 1)[1] for m in sorted(posted, key=lambda m: float(m.ts))]


async def click(cluster: Cluster, card: PostedMessage) -> None:
    element = next(e for b in card.blocks if b["type"] == "actions" for e in b["elements"]
                   if e["text"]["text"] == "Message candidate")
    payload = signing.block_action_payload(user_id=REQUESTER, channel_id=card.channel, message_ts=card.ts,
                                           thread_ts=card.thread_ts, action_id=element["action_id"],
                                           value=element["value"], team_id=TEAM)
    body = urlencode({"payload": json.dumps(payload)})
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(f"{cluster.serves[0].url}/slack/events", content=body,
                                   headers=signing.signed_headers(SIGNING_SECRET, body, signing.FORM))
    assert response.status_code == 200


async def say(cluster: Cluster, thread: PostedMessage, text: str, via: int) -> None:
    n = next(cluster._ids)
    body = signing.message_event_body(event_id=f"Ev{cluster.namespace}{n}", user_id=REQUESTER, channel_id=CHANNEL,
                                      text=text, ts=f"{time.time():.6f}", thread_ts=thread.ts, team_id=TEAM)
    await cluster._deliver(via, body, signing.JSON)
