"""GET /metrics over real HTTP: the counters move by exactly what happened, with bounded labels.

A published job through signed Slack requests and the sandbox: Slack requests by kind, acks timed, every OpenTrain
request by its path template and status (checked against the sandbox's own log), conversations by state, the inbox,
the outbox and the ledger lag. Then the retry points: an OpenTrain 429, a Slack 429, a Slack redelivery. And the
worker's METRICS_PORT server, with the outbox depth and its 429s.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp
import httpx
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.http_retry import HttpRequest, RetryState

from bot.app import open_core, proposal_work, serve_http, serving_metrics, slack_directory
from bot.hiring.record import ConversationRef
from bot.hiring.states import State
from bot.hiring.store import ConversationStore
from bot.slack.app import build_web_client
from bot.slack.outbox import CardAction, Destination, Lane
from tests.slack.conftest import BOT_TOKEN, CHANNEL, DEMO, REQUESTER, TEAM, HttpSlack, Person
from tests.slack.story import eventually, publish_a_job, root_of
from tests.support.proposals import ROOT_TS, make_card

Sample = tuple[str, frozenset[tuple[str, str]]]
SANDBOX_ID = re.compile(r"/[a-z]+_[0-9a-f]{16}(?=/|$)")  # the sandbox's ids: `job_` + 16 hex digits


class CountingSlack(HttpSlack):
    """Slack over HTTP, counting what it delivered by the kind of request."""

    def __init__(self, urls: list[str], http: httpx.AsyncClient):
        super().__init__(urls, http)
        self.sent: Counter[str] = Counter()

    async def command(self, fields: str) -> int:
        self.sent["command"] += 1
        return await super().command(fields)

    async def event(self, envelope: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        self.sent["event_callback"] += 1
        return await super().event(envelope, headers)

    async def action(self, payload: dict[str, Any]) -> int:
        self.sent[payload["type"]] += 1
        return await super().action(payload)


async def scrape(http: httpx.AsyncClient, url: str) -> dict[Sample, float]:
    response = await http.get(f"{url}/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(metrics: dict[Sample, float], name: str, **labels: str) -> float:
    return metrics.get((name, frozenset(labels.items())), 0.0)


def hirebot_labels(metrics: dict[Sample, float]) -> set[str]:
    return {v for (name, labels), _ in metrics.items() if name.startswith("hirebot_") for _, v in labels}


async def sandbox_log(http: httpx.AsyncClient, sandbox_url: str) -> list[dict[str, Any]]:
    return (await http.get(f"{sandbox_url}/_sandbox/requests")).json()["requests"]


def opentrain_counts(metrics: dict[Sample, float], before: dict[Sample, float]) -> Counter[tuple[str, str, str]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for (name, labels), count in metrics.items():
        if name == "hirebot_opentrain_requests_total":
            seen = dict(labels)
            delta = count - before.get((name, labels), 0.0)
            if delta:
                counts[(seen["method"], seen["endpoint"], seen["status"])] = int(delta)
    return counts


async def settled(probe: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll an async probe until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_metrics_count_a_published_job_exactly_with_templates_for_labels(
        make_settings, slack_api, sandbox_url, redis, namespace):
    settings = make_settings()
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        (await http.delete(f"{sandbox_url}/_sandbox/requests")).raise_for_status()
        started = asyncio.get_running_loop().time()
        before = await scrape(http, server.url)
        slack = CountingSlack([server.url], http)
        root = await publish_a_job(Person(REQUESTER, slack, slack_api), slack_api)

        async def caught_up() -> dict[Sample, float] | None:
            # Done when the ledger was read after the publish and every OpenTrain request the sandbox logged is counted.
            metrics = await scrape(http, server.url)
            log = await sandbox_log(http, sandbox_url)
            expected = Counter((r["method"], SANDBOX_ID.sub("/{id}", r["path"]), str(r["status"])) for r in log)
            lag_read = ("hirebot_ledger_lag_seconds", frozenset({("workspace", TEAM)})) in metrics
            return metrics if lag_read and opentrain_counts(metrics, before) == expected else None

        after = await settled(caught_up, "the ledger read and every OpenTrain request counted")
        elapsed = asyncio.get_running_loop().time() - started

    # Every Slack request acked, counted and timed by its kind.
    assert set(slack.sent) == {"command", "event_callback", "block_actions"}
    for kind, sent in slack.sent.items():
        assert value(after, "hirebot_slack_requests_total", kind=kind, status="200") - value(
            before, "hirebot_slack_requests_total", kind=kind, status="200") == sent
        assert value(after, "hirebot_slack_ack_seconds_count", kind=kind) - value(
            before, "hirebot_slack_ack_seconds_count", kind=kind) == sent
        assert value(after, "hirebot_slack_ack_seconds_bucket", kind=kind, le="+Inf") - value(
            before, "hirebot_slack_ack_seconds_bucket", kind=kind, le="+Inf") == sent

    # OpenTrain: the draft created once, patched, published once, and the ledger read, by template.
    opentrain = opentrain_counts(after, before)
    assert opentrain[("POST", "/api/public/v1/job-drafts", "200")] == 1
    assert opentrain[("PATCH", "/api/public/v1/job-drafts/{id}", "200")] >= 1
    assert opentrain[("POST", "/api/public/v1/jobs/{id}/publish", "200")] == 1
    assert opentrain[("GET", "/api/public/v1/updates", "200")] >= 1

    # Gauges read from Redis: one conversation, in the state its record holds; nothing waiting in the inbox or outbox.
    record = await ConversationStore(redis, namespace, 60).load(ConversationRef(TEAM, f"{CHANNEL}:{root.ts}"))
    assert record is not None and record.state in {State.PUBLISHED, State.CLAIM_PENDING}
    by_state = {state: value(after, "hirebot_conversations", state=state.value) for state in State}
    assert by_state[record.state] == 1 and sum(by_state.values()) == 1
    assert value(after, "hirebot_inbox_depth") == 0 and value(after, "hirebot_outbox_depth") == 0
    lag = value(after, "hirebot_ledger_lag_seconds", workspace=TEAM)
    assert 0 <= lag <= elapsed and value(after, "hirebot_ledger_unread_workspaces") == 0
    assert value(after, "hirebot_metrics_redis_up") == 1

    # No id, user, channel or token in any label: ids stand as {id} in the endpoint templates.
    labels = hirebot_labels(after)
    assert not {value for value in labels if SANDBOX_ID.search("/" + value.rsplit("/", 1)[-1])}
    assert not any(needle in value for value in labels
                   for needle in (REQUESTER, CHANNEL, root.ts, BOT_TOKEN, "xox", "ot_", "job_", "prop_"))
    assert {dict(labels)["endpoint"] for (name, labels) in after if name == "hirebot_opentrain_requests_total"} >= {
        "/api/public/v1/job-drafts/{id}", "/api/public/v1/jobs/{id}/publish"}


async def test_retries_and_rate_limits_are_counted_where_they_happen(make_settings, slack_api, sandbox_url):
    async with serve_http(make_settings(), port=0) as server, httpx.AsyncClient(timeout=10) as http:
        before = await scrape(http, server.url)
        # OpenTrain turns the draft's creation away once (429), Slack the root message's post once.
        (await http.post(f"{sandbox_url}/_sandbox/faults", json={
            "path": "/api/public/v1/job-drafts", "method": "POST", "status": 429, "retryAfterSeconds": 0,
            "times": 1})).raise_for_status()
        slack_api.rate_limit("chat.postMessage", retry_after=0, times=1)
        person = Person(REQUESTER, HttpSlack([server.url], http), slack_api)
        assert await person.hire(DEMO) == 200
        root = await eventually(lambda: root_of(slack_api), "the root message, after its 429")
        # Slack sends a message again, saying it got no ack in time.
        envelope = person.message_envelope("Bounding box", root.channel, root.ts)
        assert await person.slack.event(envelope, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
        assert await person.slack.event(envelope, {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "made_up"})

        async def counted() -> dict[Sample, float] | None:
            metrics = await scrape(http, server.url)
            drafts = value(metrics, "hirebot_opentrain_requests_total", method="POST",
                           endpoint="/api/public/v1/job-drafts", status="200")
            return metrics if drafts - value(before, "hirebot_opentrain_requests_total", method="POST",
                                             endpoint="/api/public/v1/job-drafts", status="200") == 1 else None

        after = await settled(counted, "the draft created after its retry")

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("hirebot_opentrain_requests_total", method="POST", endpoint="/api/public/v1/job-drafts",
                 status="429") == 1
    assert delta("hirebot_opentrain_retries_total", method="POST", endpoint="/api/public/v1/job-drafts",
                 reason="rate_limited") == 1
    assert delta("hirebot_slack_rate_limited_total", where="web_api") == 1
    assert delta("hirebot_slack_api_retries_total", reason="ratelimited") == 1
    assert delta("hirebot_slack_redeliveries_total", reason="http_timeout") == 1
    assert delta("hirebot_slack_redeliveries_total", reason="other") == 1  # an unknown reason is not a new label
    assert "made_up" not in hirebot_labels(after)


async def test_the_worker_serves_metrics_on_its_own_port_with_the_outbox_depth_and_its_429s(
        make_settings, slack_api, redis, namespace):
    settings = make_settings(metrics_port=None)
    async with aiohttp.ClientSession() as session, httpx.AsyncClient(timeout=10) as http:
        client = build_web_client(settings, session=session)
        async with open_core(settings, slack_directory(settings, client)) as core:
            outbox = proposal_work(core, session).outbox
            async with serving_metrics(core, outbox, port=None) as none:
                assert none is None  # no METRICS_PORT: no server
            async with serving_metrics(core, outbox, host="127.0.0.1", port=0) as url:
                assert (await http.get(f"{url}/healthz")).json() == {"ok": True, "redis": "ok"}
                before = await scrape(http, url)
                assert value(before, "hirebot_outbox_depth") == 0
                cards = [make_card() for _ in range(2)]
                thread = Destination(CHANNEL, ROOT_TS)
                assert await outbox.commit(f"{namespace}:{{ws:{TEAM}}}:test-cursor", None, "2",
                                           [CardAction(TEAM, card, thread) for card in cards])
                queued = await scrape(http, url)
                assert value(queued, "hirebot_outbox_depth") == 2

                slack_api.rate_limit("chat.postMessage", retry_after=3)
                await outbox.run_lane(Lane(TEAM, CHANNEL))  # Slack says 429 to the first card's post
                limited = await scrape(http, url)
                assert value(limited, "hirebot_outbox_depth") == 2  # one post in flight, one card queued
                assert value(limited, "hirebot_slack_rate_limited_total", where="outbox") - value(
                    before, "hirebot_slack_rate_limited_total", where="outbox") == 1



async def test_a_read_sent_again_after_a_broken_connection_is_counted(make_settings):
    def retries() -> float:
        return REGISTRY.get_sample_value("hirebot_slack_api_retries_total", {"reason": "connection"}) or 0.0

    client = build_web_client(make_settings())
    request = HttpRequest(method="POST", url=f"{client.base_url}users.info", headers={})
    state, broken = RetryState(), aiohttp.ServerDisconnectedError()
    before = retries()
    for handler in client.retry_handlers:  # what slack-sdk does with a failed call: the first handler that may retry
        if await handler.can_retry_async(state=state, request=request, error=broken):
            await handler.prepare_for_next_attempt_async(state=state, request=request, error=broken)
            break
    assert state.next_attempt_requested and retries() - before == 1
