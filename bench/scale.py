"""Many workspaces over a Redis Cluster: 1, 2 and 4 `serve` + `worker` process pairs, 1,000 workspaces.

Real processes, as in `bench/recovery.py` (`tests/support/crash_cluster.py`): N `python -m bot serve` and N
`python -m bot worker` over one namespace of the Redis that REDIS_URL names (run it under `scripts/redis-cluster`
for the 3-master cluster), the OpenTrain sandbox and the Slack stand-in on threads of this process. The bot runs in
single-workspace token mode: the stand-in takes the one bot token from every team, and each team registers its own
OpenTrain agent account in the sandbox on its first `/hire`, as a fresh install would.

For each process count, a fresh namespace, sandbox and stand-in:

1. conversations: WORKSPACES teams (T0000...), CONVERSATIONS conversations spread round-robin over them (each in its
   own channel), at most CONCURRENCY at a time. Each is a `/hire`, both questions answered by typing (typed again
   when nothing shows for 3 s, as people do), up to its review card. Signed requests go round-robin to the serve
   processes; every HTTP response time is an ack sample.
2. proposals: every PUBLISH_EVERY-th conversation confirms its flagged fields and types `publish`; once the job is
   live, PROPOSALS proposals arrive on it in the sandbox and the workers' ledger readers (polling every POLL seconds)
   post their cards.

Exactly-once: every conversation's review card posted once (chat.postMessage calls showing "Review your job" in its
channel), every proposal's card posted once (chat.postMessage calls whose blocks show its id); none missing.

The CPU seconds of this process and of the bot's processes during the conversations show which side was saturated.

Run: scripts/redis-cluster run -- .venv/bin/python bench/scale.py [--processes 1,2,4] [--workspaces 1000] \\
         [--conversations 1000] [--concurrency 50] [--publish-every 4] [--proposals 2] [--latency 50] [--poll 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.infra.storage import connect, key  # noqa: E402
from tests.support.crash_cluster import LABELS, LEVELS, RETYPE_AFTER, STUCK_SECONDS, Cluster, Conversation, text_of  # noqa: E402
from tests.support.redis_server import test_redis_url  # noqa: E402
from tests.support.slack_api import PostedMessage  # noqa: E402

REVIEW = "Review your job"
LIVE = "Your job is live"
FLAGGED = "Looks right"  # the button on each field the draft flagged
JOB_ID = re.compile(r"job_[0-9a-f]{16}")
PROPOSAL_ID = re.compile(r"prop_[0-9a-f]+")
SNAPSHOT_SECONDS = 0.1


class ScaleCluster(Cluster):
    """The crash cluster with many conversations watched at once: each conversation has its own channel, so a thread
    is looked up by channel in a snapshot of the stand-in's messages taken at most every SNAPSHOT_SECONDS, instead of
    every waiting conversation scanning every message every 50 ms."""

    _snapshot: list[PostedMessage]
    _by_channel: dict[str, list[PostedMessage]]
    _snapshot_at = 0.0

    def _refresh(self) -> None:
        if time.monotonic() - self._snapshot_at < SNAPSHOT_SECONDS:
            return
        self._snapshot = super().messages()
        self._by_channel = {}
        for message in self._snapshot:
            self._by_channel.setdefault(message.channel, []).append(message)
        self._snapshot_at = time.monotonic()

    def messages(self) -> list[PostedMessage]:
        self._refresh()
        return self._snapshot

    def thread(self, conversation: Conversation) -> list[PostedMessage]:
        root = conversation.root
        assert root is not None
        self._refresh()
        return [m for m in self._by_channel.get(root.channel, []) if m.thread_ts == root.ts]

    def posts(self) -> list[dict]:
        """The arguments of every chat.postMessage the stand-in took."""
        return [call.args for call in self.api.calls_to("chat.postMessage")]


@dataclass
class Run:
    processes: int
    conversations: int
    finished: int
    conversation_seconds: float
    acks_p50: float
    acks_p99: float
    retyped: int
    review_posts: Counter[str]
    proposals: set[str]
    card_posts: Counter[str]
    proposal_seconds: float
    accounts: int
    bench_cpu: float  # CPU seconds of this process (driver, sandbox, stand-in) during the conversations
    bot_cpu: float  # CPU seconds of the serve and worker processes during the conversations
    failures: list[str]

    @property
    def per_minute(self) -> float:
        return self.finished / (self.conversation_seconds / 60)

    @property
    def reviews_lost(self) -> int:
        return self.conversations - sum(1 for count in self.review_posts.values() if count)

    @property
    def reviews_duplicated(self) -> int:
        return sum(count - 1 for count in self.review_posts.values() if count > 1)

    @property
    def cards_lost(self) -> int:
        return sum(1 for p in self.proposals if not self.card_posts.get(p))

    @property
    def cards_duplicated(self) -> int:
        return sum(self.card_posts[p] - 1 for p in self.proposals if self.card_posts.get(p, 0) > 1)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def spread(args: argparse.Namespace, rng: random.Random) -> list[Conversation]:
    """CONVERSATIONS conversations round-robin over WORKSPACES teams, each in a channel of its own."""
    talks = []
    for index in range(args.conversations):
        team = f"T{index % args.workspaces:04d}"
        talk = Conversation(index, f"C{team}N{index // args.workspaces}", rng.choice(LABELS),
                            rng.choice(sorted(LEVELS)))
        talk.team = team
        talks.append(talk)
    return talks


async def publish(cluster: ScaleCluster, talk: Conversation, proposals: int) -> set[str]:
    """Confirm the fields the draft flagged (`confirm all`: the review card is updated in place, its "Looks right"
    buttons gone), type `publish`; once the job is live, PROPOSALS proposals arrive on it. Their ids."""
    via = talk.index % len(cluster.serves)

    def flagged() -> bool:
        return any(FLAGGED in text_of(m) for m in cluster.thread(talk))

    if flagged():
        await cluster.type(talk, "confirm all", via)
        deadline = time.monotonic() + STUCK_SECONDS
        while flagged():
            assert time.monotonic() < deadline, f"conversation {talk.index}: `confirm all` was not answered"
            await asyncio.sleep(0.05)
    await cluster.type(talk, "publish", via)
    await cluster._until(talk, LIVE, "publish", via)
    live = cluster.seen(talk, LIVE)
    assert live is not None
    found = JOB_ID.search(text_of(live))
    assert found, f"no job id in {live.text!r}"
    answer = await cluster.http.post(f"{cluster._sandbox.url}/_sandbox/jobs/{found.group(0)}/proposals",
                                     json={"count": proposals})
    answer.raise_for_status()
    return {p["id"] for p in answer.json()["proposals"]}


def bot_cpu_seconds(cluster: ScaleCluster) -> float:
    """User + system CPU seconds the serve and worker processes have used so far (Linux: /proc/<pid>/stat)."""
    ticks = 0
    for process in [*cluster.serves, *([cluster.worker] if cluster.worker else []), *cluster.extra_workers]:
        if process.proc is not None and process.proc.poll() is None:
            fields = Path(f"/proc/{process.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the whole line)
    return ticks / os.sysconf("SC_CLK_TCK")


async def own_accounts(namespace: str, teams: set[str]) -> int:
    """How many of the teams hold an OpenTrain account of their own (registered by the bot, sealed in Redis)."""
    redis = connect(test_redis_url())  # the cluster client under REDIS_CLUSTER=true: the keys span every node
    try:
        sealed = [await redis.hget(key(namespace, "ws", team, "account"), "access_token") for team in sorted(teams)]
    finally:
        await redis.aclose()
    return len({token for token in sealed if token})


def review_cards(posts: list[dict], talks: list[Conversation]) -> Counter[str]:
    """Channel -> review cards posted there (each conversation has a channel of its own)."""
    counted = Counter({talk.channel: 0 for talk in talks})
    for args in posts:
        shown = json.dumps(args.get("blocks") or []) + str(args.get("text") or "")
        if REVIEW in shown and args.get("channel") in counted:
            counted[str(args["channel"])] += 1
    return counted


async def until_carded(cluster: ScaleCluster, proposals: set[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = set(PROPOSAL_ID.findall(json.dumps([p.get("blocks") for p in cluster.posts()])))
        if proposals <= shown:
            return
        await asyncio.sleep(1.0)


async def one_run(processes: int, args: argparse.Namespace) -> Run:
    rng = random.Random(args.seed)
    talks = spread(args, rng)
    failures: list[str] = []
    env = {"OPENTRAIN_POLL_SECONDS": str(args.poll), "LOG_LEVEL": "WARNING"}
    with tempfile.TemporaryDirectory() as workdir:
        async with ScaleCluster(test_redis_url(), Path(workdir), latency_ms=args.latency, seed=args.seed,
                                serves=processes, workers=processes, app_token=False,
                                env=env) as cluster:
            limit = asyncio.Semaphore(args.concurrency)

            async def converse(talk: Conversation) -> None:
                async with limit:
                    try:
                        await cluster.converse(talk)
                    except AssertionError as exc:
                        failures.append(f"conversation {talk.index} ({talk.team}): {str(exc)[:200]}")

            began, bench_cpu, bot_cpu = time.monotonic(), time.process_time(), bot_cpu_seconds(cluster)
            await asyncio.gather(*(converse(talk) for talk in talks))
            conversation_seconds = time.monotonic() - began
            bench_cpu, bot_cpu = time.process_time() - bench_cpu, bot_cpu_seconds(cluster) - bot_cpu
            acks = list(cluster.ack_seconds)
            retyped = sum(t.retyped for t in talks)
            await asyncio.sleep(RETYPE_AFTER + 1)  # a late duplicate of a retyped answer's card would show now
            review_posts = review_cards(cluster.posts(), talks)
            print(f"{processes} process pair(s): {sum(t.done for t in talks)} conversations in "
                  f"{conversation_seconds:.0f}s; publishing", file=sys.stderr)

            proposals: set[str] = set()

            async def post(talk: Conversation) -> None:
                async with limit:
                    try:
                        proposals.update(await publish(cluster, talk, args.proposals))
                    except AssertionError as exc:
                        failures.append(f"publish {talk.index} ({talk.team}): {str(exc)[-400:]}")

            began = time.monotonic()
            publishing = [talk for talk in talks if talk.done and talk.index % args.publish_every == 0]
            await asyncio.gather(*(post(talk) for talk in publishing))
            print(f"  {len(publishing)} published in {time.monotonic() - began:.0f}s; waiting for the cards",
                  file=sys.stderr)
            await until_carded(cluster, proposals, timeout=args.poll * 3 + 60)
            proposal_seconds = time.monotonic() - began
            await asyncio.sleep(args.poll + 2)  # one more poll round: a late duplicate would show now
            posts = cluster.posts()
            accounts = await own_accounts(cluster.namespace, {talk.team for talk in talks})
            card_posts: Counter[str] = Counter()
            for args_of_post in posts:
                for proposal in set(PROPOSAL_ID.findall(json.dumps(args_of_post.get("blocks") or []))):
                    card_posts[proposal] += 1
    return Run(processes, len(talks), sum(t.done for t in talks), conversation_seconds, percentile(acks, 0.5),
               percentile(acks, 0.99), retyped, review_posts, proposals, card_posts,
               proposal_seconds, accounts, bench_cpu, bot_cpu, failures)


def table(runs: list[Run], args: argparse.Namespace) -> str:
    base = runs[0].per_minute
    lines = [f"{args.workspaces} workspaces, {args.conversations} conversations ({args.concurrency} at a time), "
             f"{args.proposals} proposal(s) per job, {args.latency} ms OpenTrain latency, poll {args.poll:g} s, "
             f"{os.cpu_count()} cores\n",
             "| serve + worker pairs | acks p50 / p99 (ms) | conversations finished | per minute | vs 1 pair "
             "| retyped answers | review cards lost / duplicated | proposals carded | cards lost / duplicated "
             "| publish → all carded (s) | own OpenTrain accounts | CPU s: bench process / bot processes |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        lines.append(
            f"| {run.processes} | {run.acks_p50 * 1000:.0f} / {run.acks_p99 * 1000:.0f} | {run.finished} of "
            f"{run.conversations} | {run.per_minute:.0f} | {run.per_minute / base:.2f}x | {run.retyped} "
            f"| {run.reviews_lost} / {run.reviews_duplicated} "
            f"| {len(run.proposals) - run.cards_lost} of {len(run.proposals)} "
            f"| {run.cards_lost} / {run.cards_duplicated} | {run.proposal_seconds:.0f} | {run.accounts} "
            f"| {run.bench_cpu:.0f} / {run.bot_cpu:.0f} |")
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", default="1,2,4", help="serve + worker pairs per run, comma-separated")
    parser.add_argument("--workspaces", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50, help="conversations in flight at once")
    parser.add_argument("--publish-every", type=int, default=4, help="every Nth conversation publishes its job")
    parser.add_argument("--proposals", type=int, default=2, help="proposals per published job")
    parser.add_argument("--latency", type=int, default=50, help="ms added to every OpenTrain call")
    parser.add_argument("--poll", type=float, default=10.0, help="OPENTRAIN_POLL_SECONDS of the workers")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.getLogger("bot.sandbox").setLevel(logging.CRITICAL)
    runs = []
    for processes in (int(n) for n in args.processes.split(",")):
        run = await one_run(processes, args)
        for failure in run.failures[:10]:
            print(f"  {failure}", file=sys.stderr)
        runs.append(run)
    print()
    print(table(runs, args))


if __name__ == "__main__":
    asyncio.run(main())
