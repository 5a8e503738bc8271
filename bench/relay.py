"""Candidate messages to Slack: the delay from a candidate's message to its post in the conversation's thread, and
the OpenTrain requests spent per relayed message, with CONVERSATIONS open conversations.

One OpenTrain account (the sandbox, on its own thread) holds one open job with CONVERSATIONS proposals; each has its
conversation opened, tied to a Slack thread (spread over CHANNELS channels) and written to once by the employer (the
candidate may only answer then). Candidate messages then arrive at a steady RATE on random conversations for
DURATION seconds, once per phase:

- poll: hirebot's worker reads `GET /updates` every INTERVAL seconds; each `message.received` rings the
  conversation's read (`GET /messages?direction=newer` from its cursor), which posts to the Slack stand-in;
- webhook: the same worker with a webhook subscription ringing the ledger at once (polling as a safety net).

For each phase: the delay from the sandbox's answer to the candidate's message to the Slack stand-in receiving its
post (p50/p99/max), and OpenTrain requests per relayed message (counted on the client side, per phase).

Run: .venv/bin/python bench/relay.py [--conversations 100] [--interval 30] [--rate 2] [--duration 60]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.notify import Phase, TimedSlack, drain, feed_end, worker_parts  # noqa: E402
from bot.hiring.authz import Authorizer, Everyone  # noqa: E402
from bot.hiring.jobs import LEDGER_KIND  # noqa: E402
from bot.hiring.proposals import ProposalDesk  # noqa: E402
from bot.hiring.talk import CandidateTalks, Talk  # noqa: E402
from bot.infra.storage import connect  # noqa: E402
from bot.ledger.reader import ProposalLedger  # noqa: E402
from bot.sandbox.server import SandboxThread  # noqa: E402
from bot.slack.outbox import Outbox  # noqa: E402
from bot.slack.relay import MESSAGE_EVENT, SlackTalkFront  # noqa: E402
from tests.support.market import READY_FIELDS, seed_job  # noqa: E402
from tests.support.redis_server import test_redis_url  # noqa: E402
from tests.support.slack_api import StandInThread  # noqa: E402

TEAM = "TBENCH"
CHANNELS = 20
API = "/api/public/v1"


def candidate_messages_in(args: dict) -> set[str]:
    """The candidate message a chat.postMessage shows: its id, from the post id in the metadata."""
    metadata = args.get("metadata") or {}
    if metadata.get("event_type") != MESSAGE_EVENT:
        return set()
    return {str(metadata["event_payload"]["post_id"]).split(":", 1)[1]}


async def open_conversations(sandbox_url: str, token: str, count: int) -> tuple[str, str, list[tuple[str, str]]]:
    """(job id, job url, [(proposal id, conversation id)]), each conversation written to once by the employer."""
    auth = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=sandbox_url, headers=auth, timeout=30) as http:
        job_id = (await http.post(f"{API}/job-drafts", json={"rawJobDescription": "Bench job"})).json()["jobId"]
        (await http.patch(f"{API}/job-drafts/{job_id}", json=READY_FIELDS)).raise_for_status()
        job_url = (await http.post(f"{API}/jobs/{job_id}/publish")).json()["jobUrl"]
        proposals = (await http.post(f"/_sandbox/jobs/{job_id}/proposals", json={"count": count})).json()
        pairs = []
        for proposal in proposals["proposals"]:
            opened = (await http.post(f"{API}/proposals/{proposal['id']}/conversation")).json()
            (await http.post(f"{API}/messages", json={"conversationId": opened["conversationId"],
                                                      "content": "Hello! A few questions about your bid."})
             ).raise_for_status()
            pairs.append((proposal["id"], opened["conversationId"]))
        return job_id, job_url, pairs


async def arrive(sandbox_url: str, conversations: list[str], rate: float, duration: float, phase: Phase) -> None:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as control:
        started, sent = time.monotonic(), 0
        while time.monotonic() - started < duration:
            conversation_id = random.choice(conversations)
            answer = await control.post(f"/_sandbox/conversations/{conversation_id}/reply",
                                        json={"content": f"Candidate message {sent}"})
            phase.created_at[answer.json()["message"]["id"]] = time.time()
            sent += 1
            await asyncio.sleep(max(0.0, started + sent / rate - time.monotonic()))


async def run_phase(args, sandbox_url: str, slack: TimedSlack, token: str, phase: Phase, webhook: bool) -> None:
    redis = connect(test_redis_url())
    namespace = f"bench-relay-{uuid.uuid4().hex[:8]}"
    job_id, job_url, pairs = await open_conversations(sandbox_url, token, args.conversations)
    await seed_job(redis, namespace, job_id=job_id, job_url=job_url, workspace_id=TEAM, channel="CB0",
                   root_ts="1700000000.000001")
    parts = await worker_parts(redis, namespace, sandbox_url, slack.url, token, phase, webhook)
    accounts, scheduler = parts.accounts, parts.scheduler
    talks = CandidateTalks(redis, namespace, accounts, ProposalDesk(redis, namespace, accounts,
                                                                   Authorizer(Everyone())), scheduler)
    talks.register(SlackTalkFront(parts.slack, parts.opentrain.links))
    outbox = Outbox(redis, namespace, parts.slack, scheduler)
    ledger = ProposalLedger(redis, namespace, accounts, outbox, poll_seconds=args.interval,
                            subscriptions=parts.subscriptions, conversations=talks.ring)
    ledger.register(scheduler)
    outbox.register(scheduler)
    for index, (proposal_id, conversation_id) in enumerate(pairs):
        channel = f"CB{index % CHANNELS}"
        thread_ts = f"1700000001.{index:06d}"
        await talks.tie(Talk(TEAM, conversation_id, proposal_id, job_id, f"Candidate {index}",
                             {"channel": channel, "thread_ts": thread_ts}), f"{channel}:{thread_ts}")
    await redis.set(f"{namespace}:{{ws:{TEAM}}}:ledger:cursor", await feed_end(sandbox_url, token))
    await scheduler.schedule(LEDGER_KIND, TEAM)
    stop = asyncio.Event()
    worker = asyncio.create_task(scheduler.run_forever(stop, idle_sleep=0.05))
    await asyncio.sleep(3)  # the first reads of every tied conversation (nothing to post) settle before measuring
    phase.start()
    await arrive(sandbox_url, [c for _, c in pairs], args.rate, args.duration, phase)
    await drain(lambda: set(phase.created_at) <= set(slack.carded_at), args.interval * 2 + 30)
    stop.set()
    await worker
    await parts.aclose()
    keys = [k async for k in redis.scan_iter(match=f"{namespace}:*", count=1000)]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def report(phases: list[Phase], slack: TimedSlack, args) -> None:
    print(f"\n{args.conversations} open conversations, candidate messages at {args.rate}/s for "
          f"{args.duration:.0f} s, poll interval {args.interval:.0f} s")
    print(f"{'mode':<9} {'relayed':>9} {'twice':>6} {'delay p50':>10} {'p99':>8} {'max':>8} {'OpenTrain req/msg':>18}")
    for phase in phases:
        delays = sorted(slack.carded_at[m] - phase.created_at[m] for m in phase.created_at if m in slack.carded_at)
        twice = sum(1 for m in phase.created_at if slack.posts.get(m, 0) > 1)
        if delays:
            p99 = delays[min(len(delays) - 1, int(0.99 * len(delays)))]
            figures = f"{statistics.median(delays):>9.2f}s {p99:>7.2f}s {delays[-1]:>7.2f}s"
        else:
            figures = f"{'—':>10} {'—':>8} {'—':>8}"
        per_message = phase.requests / max(1, len(delays))
        print(f"{phase.name:<9} {len(delays):>4}/{len(phase.created_at):<4} {twice:>6} {figures} {per_message:>18.2f}")


async def main(args) -> None:
    with SandboxThread() as sandbox, StandInThread(TimedSlack(candidate_messages_in)) as slack:
        async with httpx.AsyncClient(base_url=sandbox.url) as control:
            token = (await control.post("/_sandbox/tokens", json={})).json()["token"]
        phases = [Phase("poll"), Phase("webhook")]
        for phase, webhook in ((phases[0], False), (phases[1], True)):
            print(f"phase: {phase.name}", flush=True)
            await run_phase(args, sandbox.url, slack, token, phase, webhook)
        report(phases, slack, args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--interval", type=float, default=30.0, help="ledger poll interval, seconds")
    parser.add_argument("--rate", type=float, default=2.0, help="candidate messages per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of arrivals per phase")
    asyncio.run(main(parser.parse_args()))
