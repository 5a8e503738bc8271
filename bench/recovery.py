"""Recovery after a serve process is killed mid-call: the time from the SIGKILL to the next question shown.

Real processes, as in `tests/slack/test_crash_recovery.py` (`tests/support/crash_cluster.py`): two
`python -m bot serve` and a `python -m bot worker` over one Redis namespace, the OpenTrain sandbox with LATENCY ms
added to every call and the Slack stand-in, each on a thread of this process. Each round starts CONVERSATIONS
conversations, answers their first question through serve process 0 and, while those OpenTrain calls are in flight,
SIGKILLs it at a random point (it is restarted at once). For every conversation whose call was cut, the time from
the kill to its second question appearing in the thread is one sample. Two ways to come back, one after the other:

- inbox: the requester does nothing; the acked answer is redriven by the other process once it falls due;
- retype: the requester types the answer again every RETYPE seconds through the other process; the new message
  waits for the dead call's lease, replays the call and is itself not applied (it answered the same question).

Run: .venv/bin/python bench/recovery.py [--rounds 6] [--conversations 4] [--latency 400] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.crash_cluster import Cluster, Conversation, conversations  # noqa: E402
from tests.support.redis_server import test_redis_url  # noqa: E402

RETYPE = 3.0
GIVE_UP = 60.0


async def until(probe, what: str, timeout: float = GIVE_UP) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def first_question(cluster: Cluster, talk: Conversation) -> None:
    await cluster.hire(talk, 1)

    def rooted() -> bool:
        roots = [m for m in cluster.messages() if m.channel == talk.channel and m.thread_ts is None]
        talk.root = roots[0] if roots else None
        return talk.root is not None

    await until(rooted, "a root message")
    await until(lambda: cluster.seen(talk, "(1 of") is not None, "the first question")


async def one_round(cluster: Cluster, talks: list[Conversation], retype: bool) -> list[float]:
    await asyncio.gather(*(first_question(cluster, talk) for talk in talks))
    for talk in talks:
        await cluster.type(talk, talk.label, 0)  # through the process about to die
    if await cluster.kill_a_call_holder(timeout=5.0, spare=0.0) is None:
        return []
    killed_at = cluster.kills[-1][0]
    cut = [talk for talk in talks if cluster.seen(talk, "(2 of") is None]

    async def back(talk: Conversation) -> float:
        last_typed = time.monotonic()
        while cluster.seen(talk, "(2 of") is None:
            if retype and time.monotonic() - last_typed > RETYPE:
                last_typed = time.monotonic()
                await cluster.type(talk, talk.label, 1)
            if time.time() - killed_at > GIVE_UP:
                raise RuntimeError(f"conversation {talk.index} never came back")
            await asyncio.sleep(0.02)
        return time.time() - killed_at

    return list(await asyncio.gather(*(back(talk) for talk in cut)))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--conversations", type=int, default=4)
    parser.add_argument("--latency", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    logging.getLogger("bot.sandbox").setLevel(logging.CRITICAL)  # a killed client's cut requests are expected
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        async with Cluster(test_redis_url(), Path(workdir), latency_ms=args.latency, seed=args.seed) as cluster:
            for mode, retype in (("inbox", False), ("retype", True)):
                samples: list[float] = []
                for number in range(args.rounds):
                    talks = conversations(args.conversations, rng)
                    for talk in talks:
                        talk.channel = f"C{mode.upper()}{number}X{talk.index}"
                    samples += await one_round(cluster, talks, retype)
                    print(f"{mode} round {number + 1}: {len(samples)} samples so far", file=sys.stderr)
                rows.append((mode, len(samples), statistics.median(samples), percentile(samples, 0.99),
                             max(samples)))
    print(f"\nkill -> next question shown ({args.latency} ms OpenTrain latency, {args.rounds} kills per mode)\n")
    print("| recovery by | samples | p50 (s) | p99 (s) | max (s) |")
    print("|---|---|---|---|---|")
    for mode, count, p50, p99, most in rows:
        print(f"| {mode} | {count} | {p50:.1f} | {p99:.1f} | {most:.1f} |")


if __name__ == "__main__":
    asyncio.run(main())
