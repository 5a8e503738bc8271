"""The bolt AsyncApp factory (signing secret, bot token, a Web API client pointed at SLACK_API_URL) and the two ways
Slack reaches it: POST /slack/events over HTTP, or Socket Mode."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryState
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.infra.metrics import (
    SLACK_ACK_SECONDS,
    SLACK_API_RETRIES,
    SLACK_RATE_LIMITED,
    SLACK_REDELIVERIES,
    SLACK_REQUESTS,
)
from bot.infra.settings import Settings
from bot.slack.clients import copy_with_token
from bot.slack.deps import SlackDeps
from bot.slack.gate import ParsedRequest, Refusal, SlackGate
from bot.slack.installations import RedisInstallationStore, RedisOAuthStateStore
from bot.slack.listeners import register_all

log = logging.getLogger(__name__)
bolt_log = logging.getLogger("bot.slack.bolt")


class _SameTokenWarningFilter(logging.Filter):
    """bolt falls back to $SLACK_BOT_TOKEN, then warns that our client's token wins: it is that same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


bolt_log.addFilter(_SameTokenWarningFilter())

# Bounded: a 429 waits Retry-After at most this many times, a connection error is retried twice (when safe).
RATE_LIMIT_RETRIES = 3
CONNECTION_RETRIES = 2
# Methods that change nothing in Slack: repeating one after a dropped connection cannot post or update twice.
REPEATABLE_METHODS = frozenset({
    "auth.test", "users.info", "conversations.open", "conversations.history", "conversations.replies",
    "apps.connections.open",
})
# Metric labels come from these fixed sets only (bounded cardinality): what a request is, and why Slack resent it.
REQUEST_KINDS = frozenset({
    "command", "event_callback", "url_verification", "block_actions", "block_suggestion", "view_submission",
    "view_closed", "shortcut", "message_action", "ssl_check",
})
REDELIVERY_REASONS = frozenset({
    "http_timeout", "http_error", "connection_failed", "ssl_error", "too_many_redirects", "unknown_error",
})


def secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def api_method(url: str) -> str:
    """"https://slack.com/api/chat.postMessage" -> "chat.postMessage"."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class NoDoublePostRetryHandler(AsyncConnectionErrorRetryHandler):
    """Retries a connection error only when trying again cannot repeat a write Slack may already have made.

    A connection that was never established never reached Slack: any call may be sent again. One that broke after
    the request went out (reset, server disconnected) may have posted already: only reads are sent again.
    """

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest,
                               response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        if not await super()._can_retry_async(state=state, request=request, response=response, error=error):
            return False
        return isinstance(error, aiohttp.ClientConnectorError) or api_method(request.url) in REPEATABLE_METHODS

    async def prepare_for_next_attempt_async(self, *, state: RetryState, request: HttpRequest,
                                             response: HttpResponse | None = None,
                                             error: Exception | None = None) -> None:
        SLACK_API_RETRIES.labels("connection").inc()
        await super().prepare_for_next_attempt_async(state=state, request=request, response=response, error=error)


class CountedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack-sdk's 429 handler (waits Retry-After), counting every 429 it is shown and every retry it makes."""

    async def can_retry_async(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                              error: Exception | None = None) -> bool:
        if response is not None and response.status_code == 429:  # shown every answer, the last 429 too
            SLACK_RATE_LIMITED.labels("web_api").inc()
        return await super().can_retry_async(state=state, request=request, response=response, error=error)

    async def prepare_for_next_attempt_async(self, *, state: RetryState, request: HttpRequest,
                                             response: HttpResponse | None = None,
                                             error: Exception | None = None) -> None:
        SLACK_API_RETRIES.labels("ratelimited").inc()
        await super().prepare_for_next_attempt_async(state=state, request=request, response=response, error=error)


def build_web_client(settings: Settings, *, token: str | None = None,
                     session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """Every Web API call goes to `settings.slack_url`; 429s and safe connection errors are retried, boundedly."""
    return AsyncWebClient(
        token=token if token is not None else secret(settings.slack_bot_token) or None,
        base_url=settings.slack_url,
        session=session,
        timeout=15,
        retry_handlers=[
            NoDoublePostRetryHandler(max_retry_count=CONNECTION_RETRIES),
            CountedRateLimitRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )


INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def build_app(deps: SlackDeps, *, installations: RedisInstallationStore | None = None,
              states: RedisOAuthStateStore | None = None) -> AsyncApp:
    """An AsyncApp with every listener module registered; it acks first and works after (no FaaS mode). Given an
    installation store (OAuth mode), it also runs bolt's install flow and authorizes each request by its workspace's
    installation, and everything a request starts acts for that workspace (`bot.slack.clients`)."""
    oauth: dict[str, Any] = {}
    if installations is not None and states is not None:
        if deps.clients is None or not deps.clients.per_workspace:
            raise ValueError("an installable app needs per-workspace SlackClients in its deps")
        oauth = oauth_options(deps, installations, states)
    app = AsyncApp(
        signing_secret=secret(deps.settings.slack_signing_secret),
        client=deps.client,
        process_before_response=False,
        logger=bolt_log,
        **oauth,
    )
    if deps.clients is not None and deps.clients.per_workspace:
        app.use(deps.clients.set_workspace)
    app.error(_log_error)
    register_all(app, deps)
    return app


def oauth_options(deps: SlackDeps, installations: RedisInstallationStore,
                  states: RedisOAuthStateStore) -> dict[str, Any]:
    """bolt's own OAuth v2 flow and authorize step over our Redis stores. Both call Slack (oauth.v2.access, a token
    refresh) through a tokenless client of ours, so they reach SLACK_API_URL like every other call."""
    settings = deps.settings
    plain = copy_with_token(deps.client, None)
    client_id, client_secret = settings.slack_client_id or "", secret(settings.slack_client_secret)
    public = str(settings.public_url).rstrip("/") if settings.public_url else None
    flow = AsyncOAuthFlow(client=plain, logger=bolt_log, settings=AsyncOAuthSettings(
        client_id=client_id, client_secret=client_secret, scopes=settings.slack_scopes.split(","),
        installation_store=installations, state_store=states, install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH, redirect_uri=f"{public}{REDIRECT_PATH}" if public else None))
    authorize = AsyncInstallationStoreAuthorize(logger=bolt_log, installation_store=installations,
                                                client_id=client_id, client_secret=client_secret, client=plain)
    return {"oauth_flow": flow, "authorize": authorize}


Handler = Callable[[web.Request], Awaitable[web.Response]]


def install_endpoints(app: AsyncApp) -> dict[str, Handler]:
    """GET /slack/install (the "Add to Slack" page) and GET /slack/oauth_redirect, run by bolt's flow; none without
    OAuth."""
    flow = app.oauth_flow
    if flow is None:
        return {}

    def endpoint(handle: Callable[[AsyncBoltRequest], Awaitable[Any]]) -> Handler:
        async def run(request: web.Request) -> web.Response:
            bolt = AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))
            return await to_aiohttp_response(await handle(bolt))

        return run

    return {INSTALL_PATH: endpoint(flow.handle_installation), REDIRECT_PATH: endpoint(flow.handle_callback)}


def events_endpoint(app: AsyncApp, signing_secret: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler of POST /slack/events: the gate checks the raw request (`bot.slack.gate`), then bolt
    dispatches the body the gate parsed. Anything bolt still finds no listener for is acked (200), not 404.
    Each request is counted, and the time to its ack measured (bolt acks first and works after)."""
    gate = SlackGate(signing_secret)

    async def slack_events(request: web.Request) -> web.Response:
        started = time.perf_counter()
        checked = await gate.check(request.headers, request.read)
        if isinstance(checked, Refusal):
            SLACK_REQUESTS.labels("refused", str(checked.status)).inc()
            return web.json_response({"ok": False, "error": checked.reason}, status=checked.status)
        kind = request_family(checked.body)
        count_redelivery(request.headers)
        response = await app.async_dispatch(bolt_request(request, checked))
        if response.status == 404:
            # No listener matched, though the catch-all listeners are registered last: still an ack, so Slack shows
            # the person no error (a request type nobody thought of).
            log.info("acked a Slack request no listener handles (%s)", request_kind(checked.body))
            answer = web.Response(status=200)
        else:
            answer = await to_aiohttp_response(response)
        SLACK_ACK_SECONDS.labels(kind).observe(time.perf_counter() - started)
        SLACK_REQUESTS.labels(kind, str(answer.status)).inc()
        return answer

    return slack_events


def request_family(body: dict[str, Any]) -> str:
    """What a request is, as a metric label from `REQUEST_KINDS` (or "other"): never an id or a user's text."""
    kind = "command" if "command" in body else "ssl_check" if "ssl_check" in body else str(body.get("type"))
    return kind if kind in REQUEST_KINDS else "other"


def count_redelivery(headers: Mapping[str, str]) -> None:
    """Slack resends a request it got no ack for in 3 s (or an error): each resend is counted by its reason."""
    if headers.get("X-Slack-Retry-Num"):
        reason = headers.get("X-Slack-Retry-Reason", "")
        SLACK_REDELIVERIES.labels(reason if reason in REDELIVERY_REASONS else "other").inc()


def bolt_request(request: web.Request, checked: ParsedRequest) -> AsyncBoltRequest:
    """The request for bolt, carrying the body the gate parsed.

    bolt would parse the raw text again and, when the word "payload" appears anywhere in a form (a `/hire` about "a
    payload engineer"), look for a `payload` field, find none and dispatch an empty body. Built as a dict, the body
    is the gate's; then the request is turned back into an HTTP one with its raw text, so bolt's own signature
    check still runs on the exact bytes.
    """
    bolt = AsyncBoltRequest(body=checked.body, query=request.query_string,
                            headers=dict(request.headers), mode="socket_mode")
    bolt.raw_body, bolt.mode = checked.text, "http"
    return bolt


def request_kind(body: dict[str, Any]) -> str:
    """A short, log-safe name of what a request is: its type and the ids listeners match on."""
    kind = str(body.get("type") or body.get("command") or "request")
    if kind == "event_callback":
        kind += ":" + str((body.get("event") or {}).get("type"))
    return kind[:100]


def socket_mode(app: AsyncApp, app_token: str, settings: Settings,
                session: aiohttp.ClientSession) -> AsyncSocketModeHandler:
    """The same app over Socket Mode: it connects with the app-level token via apps.connections.open."""
    connections = build_web_client(settings, token=app_token, session=session)
    return AsyncSocketModeHandler(app, app_token, web_client=connections)


async def _log_error(error: Exception, body: dict[str, Any]) -> None:
    """Last resort for listener failures: the error code, never the payload (it may carry user text)."""
    kind = body.get("type") or body.get("command") or "request"
    if isinstance(error, SlackApiError):
        log.error("Slack API error %s while handling %s", error.response.get("error"), kind)
    else:
        log.error("listener failed handling %s: %s", kind, type(error).__name__, exc_info=error)
