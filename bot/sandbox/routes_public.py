"""The public API (`/api/public/v1/...`): authentication, gates, and request/response translation."""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiohttp import web

from bot.sandbox import catalog, importers, parser
from bot.sandbox.contracts import approval_wire
from bot.sandbox.records import FEATURE_CAPABILITIES, MAX_DESCRIPTION_CHARS, Json, Token, bad_request
from bot.sandbox.world import World

PREFIX = "/api/public/v1"
# Import format -> where its payload sits (inside `source` or at the top level).
PAYLOAD_KEYS = {"text": "text", "opentrain_canonical": "job", "schema_org_job_posting": "jsonLd",
                "indeed_xml": "xml", "hr_xml": "xml"}


async def read_json(request: web.Request, *, required: bool = True) -> Json:
    """The parsed JSON body; an empty body is None (or a 400 when required)."""
    raw = await request.text()
    if not raw.strip():
        if required:
            raise bad_request("A JSON body is required.")
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request("The body is not valid JSON.") from None


def query_limit(request: web.Request, default: int, maximum: int) -> int:
    raw = request.query.get("limit")
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise bad_request("limit must be an integer.", field="limit") from None
    if not 1 <= limit <= maximum:
        raise bad_request(f"limit must be between 1 and {maximum}.", field="limit")
    return limit


@dataclass
class DraftSource:
    format: str
    payload: object
    idempotency_key: str | None
    external_id: str | None


def draft_source(body: Json) -> DraftSource:
    """Every documented create shape: `rawJobDescription`, a `source` object, or top-level `format` + payload."""
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    raw_source = body.get("source")
    source = raw_source if isinstance(raw_source, dict) else {}
    if "rawJobDescription" in body:
        fmt, payload = "text", body["rawJobDescription"]
    elif source:
        fmt = source.get("type", "text")
        payload = source.get(PAYLOAD_KEYS.get(fmt, "text"), body.get(PAYLOAD_KEYS.get(fmt, "text")))
    elif "format" in body:
        fmt = body["format"]
        payload = body.get(PAYLOAD_KEYS.get(fmt, "text"))
    else:
        raise bad_request("Provide rawJobDescription, a source object, or format with its payload.")
    supported = list(dict.fromkeys(["text", *catalog.IMPORT_FORMATS]))
    if fmt not in supported:
        raise bad_request("Unsupported import format.", field="format", supportedFormats=supported)
    if payload is None:
        raise bad_request(f"The {fmt} payload ({PAYLOAD_KEYS[fmt]}) is missing.", field=PAYLOAD_KEYS[fmt])
    if fmt == "text":
        _check_description(payload)
    return DraftSource(fmt, payload, _either(body, source, "idempotencyKey"), _either(body, source, "externalId"))


def _check_description(text: Json) -> None:
    if not isinstance(text, str) or not text.strip():
        raise bad_request("The job description must be a non-empty string.", field="rawJobDescription")
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise bad_request(f"The job description is longer than {MAX_DESCRIPTION_CHARS:,} characters.",
                          field="rawJobDescription", maxLength=MAX_DESCRIPTION_CHARS, length=len(text))


def _either(body: dict, source: dict, name: str) -> str | None:
    value = body.get(name, source.get(name))
    return value if isinstance(value, str) and value else None


def parse_source(source: DraftSource) -> parser.ParsedDraft:
    if source.format == "text":
        return parser.parse_description(source.payload)
    try:
        return importers.import_source(source.format, source.payload)
    except importers.SourceFormatError as exc:
        raise bad_request(f"Could not read the {source.format} payload: {exc}", field=PAYLOAD_KEYS[source.format],
                          format=source.format) from None


class PublicRoutes:
    def __init__(self, world: World) -> None:
        self.world = world

    def register(self, app: web.Application) -> None:
        routes = [
            ("GET", "/auth/me", self.me),
            ("GET", "/tokens", self.list_tokens),
            ("POST", "/tokens", self.create_token),
            ("DELETE", "/tokens/{token_id}", self.delete_token),
            ("GET", "/job-drafts/capabilities", self.capabilities),
            ("POST", "/job-drafts", self.create_draft),
            ("PATCH", "/job-drafts/{job_id}", self.update_draft),
            ("GET", "/jobs/mine", self.my_jobs),
            ("POST", "/jobs/{job_id}/publish", self.publish),
            ("POST", "/jobs/{job_id}/close", self.close),
            ("GET", "/jobs/{job_id}/proposals", self.job_proposals),
            ("GET", "/proposals/{proposal_id}", self.get_proposal),
            ("POST", "/proposals/{proposal_id}/conversation", self.open_conversation),
            ("POST", "/proposals/{proposal_id}/hire", self.hire),
            ("GET", "/messages", self.read_messages),
            ("POST", "/messages", self.send_message),
            ("GET", "/updates", self.updates),
            ("GET", "/credits", self.credits),
            ("POST", "/webhooks", self.create_webhook),
            ("GET", "/webhooks", self.list_webhooks),
            ("GET", "/webhooks/{webhook_id}", self.get_webhook),
            ("DELETE", "/webhooks/{webhook_id}", self.delete_webhook),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, PREFIX + path, handler)

    def _token(self, request: web.Request) -> Token:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return self.world.authenticate(value.strip() if scheme.lower() == "bearer" else None)

    def _gated(self, request: web.Request, scope: str, feature: str | None = None,
               claim_action: str | None = None) -> Token:
        """The three gates, in order: scope, feature flag, claimed account."""
        token = self._token(request)
        self.world.require_scope(token, scope)
        if feature:
            self.world.require_feature(feature)
        if claim_action:
            self.world.require_claimed(token, claim_action)
        return token

    # ---- identity and tokens

    async def me(self, request: web.Request) -> web.Response:
        return web.json_response(self.world.me(self._token(request)))

    async def list_tokens(self, request: web.Request) -> web.Response:
        return web.json_response({"tokens": self.world.list_tokens(self._token(request))})

    async def create_token(self, request: web.Request) -> web.Response:
        caller = self._token(request)
        body = await read_json(request, required=False) or {}
        if not isinstance(body, dict):
            raise bad_request("The body must be a JSON object.")
        token = self.world.create_token(caller, body.get("name"), body.get("scopes"), body.get("expiresAt"))
        return web.json_response({"token": token.value, "tokenType": "bearer",
                                  "metadata": token.record(self.world.now())}, status=201)

    async def delete_token(self, request: web.Request) -> web.Response:
        token = self.world.revoke_token_by_id(self._token(request), request.match_info["token_id"])
        return web.json_response({"token": token.record(self.world.now())})

    # ---- drafts and jobs

    async def credits(self, request: web.Request) -> web.Response:
        self._gated(request, "payments:read", "public_api_credits")
        return web.json_response({"credits": {**self.world.credits, "currency": "usd", "recentEntries": []}})

    async def capabilities(self, request: web.Request) -> web.Response:
        self._token(request)
        self.world.require_feature("public_api_job_drafting")
        flags = {cap: self.world.features[key] for key, caps in FEATURE_CAPABILITIES.items() for cap in caps}
        return web.json_response({
            "featureKey": "public_api_job_drafting", "namespace": "job-drafts", "rolloutMode": "ALL",
            "actorIsAdmin": False, "capabilities": flags,
            "draft": {"importFormats": list(dict.fromkeys(["text", *catalog.IMPORT_FORMATS])),
                      "updateKeys": list(catalog.UPDATE_KEYS), "enums": dict(catalog.ENUMS)},
            "authBootstrap": "token", "enabled": True,
        })

    async def create_draft(self, request: web.Request) -> web.Response:
        token = self._gated(request, "jobs:write", "public_api_job_drafting")
        source = draft_source(await read_json(request))
        existing = self.world.existing_draft(token, source.idempotency_key)
        job = existing or self.world.create_draft(token, parse_source(source), source.idempotency_key,
                                                  source.external_id, source.format)
        return web.json_response(self.world.draft_report(job))

    async def update_draft(self, request: web.Request) -> web.Response:
        token = self._gated(request, "jobs:write", "public_api_job_drafting")
        job = self.world.update_draft(token, request.match_info["job_id"], await read_json(request))
        return web.json_response(self.world.draft_report(job))

    async def publish(self, request: web.Request) -> web.Response:
        token = self._gated(request, "jobs:write", "public_api_job_publishing")
        return web.json_response(self.world.publish(token, request.match_info["job_id"]))

    async def close(self, request: web.Request) -> web.Response:
        token = self._gated(request, "jobs:write", "public_api_job_publishing")
        return web.json_response(self.world.close(token, request.match_info["job_id"]))

    async def my_jobs(self, request: web.Request) -> web.Response:
        token = self._gated(request, "jobs:read")
        page = self.world.my_jobs(token, request.query.get("status"), request.query.get("cursor"),
                                  query_limit(request, 25, 100))
        return web.json_response(page)

    # ---- proposals

    async def job_proposals(self, request: web.Request) -> web.Response:
        token = self._gated(request, "proposals:read")
        page = self.world.job_proposals(token, request.match_info["job_id"], request.query.get("status"),
                                        request.query.get("cursor"), query_limit(request, 25, 100))
        return web.json_response(page)

    async def get_proposal(self, request: web.Request) -> web.Response:
        token = self._gated(request, "proposals:read")
        proposal = self.world.own_proposal(token, request.match_info["proposal_id"])
        return web.json_response({"proposal": self.world.proposal_detail(proposal)})

    async def open_conversation(self, request: web.Request) -> web.Response:
        token = self._gated(request, "messages:write", "public_api_messaging_writes", "start conversations")
        proposal = self.world.own_proposal(token, request.match_info["proposal_id"])
        return web.json_response(self.world.open_conversation(proposal))

    async def hire(self, request: web.Request) -> web.Response:
        token = self._gated(request, "proposals:write", "public_api_hiring", "hire AI trainers")
        proposal = self.world.own_proposal(token, request.match_info["proposal_id"])
        self.world.payments.check_payment_method(token)
        body = await read_json(request)
        approval = self.world.request_hire(proposal, body.get("milestone") if isinstance(body, dict) else None)
        return web.json_response({
            "approval": approval_wire(approval),
            "message": "Hire request recorded. A signed-in human must confirm this approval in the OpenTrain app "
                       "before the freelancer is hired and any money moves.",
        }, status=202)

    # ---- messages (sandbox/messaging.py)

    async def read_messages(self, request: web.Request) -> web.Response:
        token = self._gated(request, "messages:read")
        limit = query_limit(request, 20, 100)
        conversation_id = request.query.get("conversationId")
        if conversation_id is None:
            return web.json_response(self.world.messaging.listing(token.account_id, limit))
        return web.json_response(self.world.messaging.read(
            token.account_id, conversation_id, request.query.get("direction", "older"),
            request.query.get("cursor"), limit))

    async def send_message(self, request: web.Request) -> web.Response:
        token = self._gated(request, "messages:write", "public_api_messaging_writes", "send messages")
        sent = self.world.messaging.send(token.account_id, await read_json(request))
        return web.json_response(sent, status=201)

    async def updates(self, request: web.Request) -> web.Response:
        token = self._token(request)
        page = self.world.updates(token, request.query.get("cursor"), query_limit(request, 50, 200))
        return web.json_response(page)

    # ---- webhooks

    def _webhook_token(self, request: web.Request) -> Token:
        return self._gated(request, "webhooks:manage", "public_api_webhooks")

    async def create_webhook(self, request: web.Request) -> web.Response:
        token = self._webhook_token(request)
        body = await read_json(request)
        if not isinstance(body, dict):
            raise bad_request("The body must be a JSON object.")
        subscription = self.world.create_webhook(token, body.get("url"), body.get("eventTypes"))
        return web.json_response({
            "webhook": subscription.wire(), "secret": subscription.secret,
            "message": "Store the secret now — it is only returned once. Use it to verify the "
                       "X-OpenTrain-Signature header on deliveries.",
        }, status=201)

    async def list_webhooks(self, request: web.Request) -> web.Response:
        subscriptions = self.world.list_webhooks(self._webhook_token(request))
        return web.json_response({"webhooks": [s.wire() for s in subscriptions]})

    async def get_webhook(self, request: web.Request) -> web.Response:
        subscription = self.world.own_webhook(self._webhook_token(request), request.match_info["webhook_id"])
        return web.json_response({"webhook": subscription.wire()})

    async def delete_webhook(self, request: web.Request) -> web.Response:
        subscription = self.world.delete_webhook(self._webhook_token(request), request.match_info["webhook_id"])
        return web.json_response({"webhook": subscription.wire(), "deleted": True})
