"""Agent auth (`/api/agent/...`): registration, claim start, token poll, revoke. OAuth wire errors."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aiohttp import web

from bot.sandbox.records import CLAIM_GRANT_TYPE, OAuthError, iso
from bot.sandbox.world import World


class AgentRoutes:
    def __init__(self, world: World) -> None:
        self.world = world

    def register(self, app: web.Application) -> None:
        app.router.add_post("/api/agent/identity", self.register_agent)
        app.router.add_post("/api/agent/identity/claim", self.start_claim)
        app.router.add_post("/api/agent/oauth/token", self.poll_token)
        app.router.add_post("/api/agent/oauth/revoke", self.revoke)
        app.router.add_post("/api/agent/identity/revoke", self.revoke)  # the tokens page's spelling (§2.1.4)

    async def register_agent(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        if body.get("identity_type", "anonymous") != "anonymous":
            raise OAuthError("unsupported_identity_type", "only identity_type=anonymous is supported")
        token, claim = self.world.register_agent(_text(body, "agent_name"), _text(body, "organization_name"))
        base = str(request.url.origin())
        return web.json_response({
            "identity_type": "anonymous",
            "registration_id": claim.account_id,
            "access_token": token.value,
            "token_type": "bearer",
            "scopes": list(token.scopes),
            "claim_token": claim.claim_token,
            "claim_token_expires_at": iso(claim.expires_at),
            "claim_endpoint": f"{base}/api/agent/identity/claim",
            "token_endpoint": f"{base}/api/agent/oauth/token",
            "grant_type": CLAIM_GRANT_TYPE,
        })

    async def start_claim(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        attempt = self.world.start_claim(_text(body, "claim_token"), _text(body, "email"))
        return web.json_response({
            "user_code": attempt.user_code,
            # The sandbox serves the claim page itself so the link works in a local demo.
            "verification_uri": f"{request.url.origin()}/claim?token={attempt.attempt_token}",
            "expires_in": int(self.world.config["claimAttemptSeconds"]),
            "interval": self.world.config["claimIntervalSeconds"],
            "email_sent": True,
        })

    async def poll_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        token = self.world.poll_claim(_text(form, "grant_type"), _text(form, "claim_token"))
        return web.json_response({"access_token": token.value, "token_type": "bearer", "scopes": list(token.scopes)})

    async def revoke(self, request: web.Request) -> web.Response:
        form = await request.post()
        value = _text(form, "token")
        if not value:
            raise OAuthError("invalid_request", "token is required")
        self.world.revoke_token_value(value)
        return web.json_response({})


async def _json_object(request: web.Request) -> dict:
    raw = await request.text()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise OAuthError("invalid_request", "body must be JSON") from None
    if not isinstance(body, dict):
        raise OAuthError("invalid_request", "body must be a JSON object")
    return body


def _text(fields: Mapping[str, object], name: str) -> str | None:
    value = fields.get(name)
    return value if isinstance(value, str) and value else None
