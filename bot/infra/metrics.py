"""The bot's Prometheus metrics, defined once on the bottom layer so every layer can count without importing upward.

Two kinds (docs/operating.md lists every metric and what it means):

- Counters and histograms of what this process did (Slack requests and their ack latency, OpenTrain requests,
  retries, Slack 429s). prometheus-client keeps them in this process's memory: every process that serves /metrics
  is scraped on its own, and a query sums over them.
- Gauges of the deployment's shared state in Redis (conversations by state, inbox and outbox depth, ledger lag),
  read at scrape time by `render`: each process reports the same values, so a query takes their max, not their sum.

Labels are bounded by construction: kinds, states, HTTP statuses and endpoint path templates from fixed sets, and
workspace ids for the ledger lag only. Never a user, job, proposal or conversation id, a URL with ids, or a token.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Slack wants its ack within 3 s: the buckets are finest well below that and end just past it.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
OPENTRAIN_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# --- what this process did ---------------------------------------------------------------------------------------

SLACK_REQUESTS = Counter(
    "hirebot_slack_requests", "Requests to POST /slack/events, by kind (command, block_actions, event_callback, ...; "
    "'refused' when the gate turned them away) and the HTTP status answered", ["kind", "status"])
SLACK_ACK_SECONDS = Histogram(
    "hirebot_slack_ack_seconds", "Time from a Slack request's arrival to its ack (signature check and bolt's "
    "dispatch up to the ack; the work after the ack is not included), by kind", ["kind"], buckets=ACK_BUCKETS)
SLACK_REDELIVERIES = Counter(
    "hirebot_slack_redeliveries", "Requests Slack sent again (X-Slack-Retry-Num), by Slack's X-Slack-Retry-Reason",
    ["reason"])
SLACK_API_RETRIES = Counter(
    "hirebot_slack_api_retries", "Slack Web API calls the bot's client sent again, by reason (ratelimited, "
    "connection)", ["reason"])
SLACK_RATE_LIMITED = Counter(
    "hirebot_slack_rate_limited", "Slack Web API answers of HTTP 429 / ratelimited, by where the bot saw them "
    "(web_api: the client every listener and the dialogue use; outbox: the proposal cards' sender)", ["where"])
OPENTRAIN_REQUESTS = Counter(
    "hirebot_opentrain_requests", "HTTP requests to OpenTrain (each attempt), by method, endpoint path template and "
    "status ('error': no HTTP answer)", ["method", "endpoint", "status"])
OPENTRAIN_SECONDS = Histogram(
    "hirebot_opentrain_request_seconds", "Duration of each OpenTrain request attempt, by method and endpoint",
    ["method", "endpoint"], buckets=OPENTRAIN_BUCKETS)
OPENTRAIN_RETRIES = Counter(
    "hirebot_opentrain_retries", "OpenTrain requests sent again by the transport, by method, endpoint and reason "
    "(rate_limited, server_error, transport)", ["method", "endpoint", "reason"])

# --- the deployment's state in Redis, read at scrape time --------------------------------------------------------

CONVERSATIONS = Gauge(
    "hirebot_conversations", "Conversation records held in Redis, by state (every record until its TTL passes)",
    ["state"])
INBOX_DEPTH = Gauge(
    "hirebot_inbox_depth", "Acked Slack steps (/hire, answers, clicks) not yet finished: waiting or being handled")
OUTBOX_DEPTH = Gauge(
    "hirebot_outbox_depth", "Proposal cards and card updates queued for Slack, plus posts in flight")
LEDGER_LAG = Gauge(
    "hirebot_ledger_lag_seconds", "Seconds since the start of the last read of the workspace's OpenTrain /updates "
    "feed that reached its end: no unread event is older than this", ["workspace"])
LEDGER_NEVER_READ = Gauge(
    "hirebot_ledger_unread_workspaces", "Workspaces with published jobs whose ledger was never read to its end")
REDIS_GAUGES_UP = Gauge(
    "hirebot_metrics_redis_up", "1 when the Redis-backed gauges of this scrape were read, 0 when Redis failed "
    "(they then keep their previous values)")

# Reads Redis and sets the gauges above; the composition root builds it from the layers that own each key.
GaugeReader = Callable[[], Awaitable[None]]


async def render(read_gauges: GaugeReader | None) -> bytes:
    """The text exposition of every metric of this process, the Redis-backed gauges read first."""
    if read_gauges is not None:
        try:
            await read_gauges()
            REDIS_GAUGES_UP.set(1)
        except Exception as exc:  # a scrape must still answer: the process counters are worth having without Redis
            log.warning("metrics: Redis-backed gauges not read (%s)", type(exc).__name__)
            REDIS_GAUGES_UP.set(0)
    return generate_latest(REGISTRY)
