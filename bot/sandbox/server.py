"""The sandbox's aiohttp application, and three ways to run it: CLI, a background thread, or in the caller's loop."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.sandbox import live_jobs, routes_agent, routes_control, routes_payments, routes_public
from bot.sandbox.records import OAuthError, PublicError
from bot.sandbox.world import World

log = logging.getLogger(__name__)

WORLD = web.AppKey("world", World)
REQUEST_ID = web.RequestKey("request_id", str)
OPENTRAIN_PREFIXES = ("/api/agent/", "/api/public/")
CODES_BY_STATUS = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT",
                   429: "RATE_LIMITED"}


def create_app(world: World | None = None) -> web.Application:
    app = web.Application(middlewares=[_opentrain_middleware], client_max_size=4 * 1024 * 1024)
    app[WORLD] = world = world or World()
    for routes in (routes_agent.AgentRoutes(world), routes_public.PublicRoutes(world),
                   routes_control.ControlRoutes(world), routes_payments.PaymentRoutes(world),
                   live_jobs.LiveJobRoutes(world)):
        routes.register(app)
    app.on_cleanup.append(_close_webhooks)
    return app


async def _close_webhooks(app: web.Application) -> None:
    await app[WORLD].webhooks.aclose()


@web.middleware
async def _opentrain_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request ids and error rendering everywhere; latency, faults and the request log on OpenTrain paths."""
    world = request.app[WORLD]
    request[REQUEST_ID] = str(uuid.uuid4())
    if not request.path.startswith(OPENTRAIN_PREFIXES):
        return await _render_errors(request, handler)
    generation = world.generation
    if world.config["latencyMs"]:
        await asyncio.sleep(world.config["latencyMs"] / 1000)
    _drop_if_reset(request, generation)
    fault = world.take_fault(request.method, request.path)
    if fault and fault.drop:
        world.log_request(request.method, request.path, None, _bearer(request))
        _drop(request)
    if fault and fault.latency_ms:
        await asyncio.sleep(fault.latency_ms / 1000)
        _drop_if_reset(request, generation)
    if fault and fault.status:
        response: web.StreamResponse = _fault_response(request, fault.status, fault.retry_after_seconds)
    else:
        response = await _render_errors(request, handler)
        if fault and fault.drop_after:  # it took effect; the answer never arrives
            world.log_request(request.method, request.path, None, _bearer(request))
            _drop(request)
    response = _hostile(world, request, response)
    world.log_request(request.method, request.path, response.status, _bearer(request))
    return response


def _bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _hostile(world: World, request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """The answer rewritten when a hostile OpenTrain is armed (`/_sandbox/hostile`); errors too, so their links and
    messages can be hostile as well."""
    if world.hostile is None or not isinstance(response, web.Response) or response.content_type != "application/json":
        return response
    try:
        body = json.loads(response.text or "null")
    except ValueError:
        return response
    rewritten = world.hostile_answer(request.method, request.path, body)
    if rewritten is None:
        return response
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-type", "content-length")}
    return web.json_response(rewritten, status=response.status, headers=headers)


def _drop(request: web.Request) -> None:
    if request.transport is not None:  # None: the connection is already gone
        request.transport.abort()  # the client sees the connection die without a response
    raise asyncio.CancelledError


def _drop_if_reset(request: web.Request, generation: int) -> None:
    """A request delayed across a reset belongs to the old world: it must not act on, or log into, the new one."""
    if request.app[WORLD].generation != generation:
        _drop(request)


async def _render_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except PublicError as exc:
        return public_error_response(request, exc)
    except OAuthError as exc:
        body = {"error": exc.error} if exc.description is None else \
            {"error": exc.error, "error_description": exc.description}
        return web.json_response(body, status=exc.status)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/public/") or exc.status < 400:
            raise
        message = "No such endpoint." if exc.status == 404 else exc.reason
        return public_error_response(request, PublicError(exc.status, CODES_BY_STATUS.get(exc.status, "BAD_REQUEST"),
                                                          message))
    except Exception:
        log.exception("sandbox handler failed: %s %s", request.method, request.path)
        if request.path.startswith("/api/agent/"):
            return web.json_response({"error": "server_error"}, status=500)
        return public_error_response(request, PublicError(500, "INTERNAL_ERROR", "Internal error."))


def public_error_response(request: web.Request, exc: PublicError) -> web.Response:
    body: dict[str, Any] = {"error": exc.message, "code": exc.code, "requestId": request[REQUEST_ID]}
    if exc.details is not None:
        body["details"] = exc.details
    return web.json_response(body, status=exc.status, headers={"X-Request-Id": request[REQUEST_ID], **exc.headers})


def _fault_response(request: web.Request, status: int, retry_after_seconds: int | None) -> web.Response:
    """The response of an injected fault with this status."""
    headers: dict[str, str] = {}
    details: dict[str, Any] = {"reason": "sandbox_fault"}
    if status == 429:
        retry_after = retry_after_seconds if retry_after_seconds is not None else 1
        headers["Retry-After"] = str(retry_after)
        details["retryAfterSeconds"] = retry_after
    if request.path.startswith("/api/agent/"):
        error = "rate_limit_exceeded" if status == 429 else "server_error" if status >= 500 else "invalid_request"
        return web.json_response({"error": error, "error_description": "injected by the sandbox"},
                                 status=status, headers=headers)
    code = CODES_BY_STATUS.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST")
    return public_error_response(request, PublicError(status, code, f"Injected fault ({status}).", details, headers))


class RunningSandbox:
    """A sandbox served from the caller's event loop."""

    def __init__(self, runner: web.AppRunner, url: str, world: World) -> None:
        self._runner, self.url, self.world = runner, url, world

    async def close(self) -> None:
        await self._runner.cleanup()


async def start_sandbox(host: str = "127.0.0.1", port: int = 0, world: World | None = None) -> RunningSandbox:
    app = create_app(world)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    return RunningSandbox(runner, f"http://{host}:{bound_port}", app[WORLD])


async def serve_forever(host: str, port: int) -> None:
    sandbox = await start_sandbox(host, port)
    print(f"OpenTrain sandbox listening on {sandbox.url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.close()


class SandboxThread:
    """The sandbox on its own thread and event loop: `with SandboxThread() as sandbox: sandbox.url`."""

    def __init__(self, port: int = 0, world: World | None = None) -> None:
        self._port, self._world = port, world
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="opentrain-sandbox", daemon=True)
        self._sandbox: RunningSandbox | None = None

    @property
    def _running(self) -> RunningSandbox:
        if self._sandbox is None:
            raise RuntimeError("the sandbox thread is not started; use it as a context manager")
        return self._sandbox

    @property
    def url(self) -> str:
        return self._running.url

    @property
    def world(self) -> World:
        return self._running.world

    def __enter__(self) -> SandboxThread:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(start_sandbox("127.0.0.1", self._port, self._world), self._loop)
        self._sandbox = future.result(timeout=10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._running.close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
