"""The control API (`/_sandbox/...`) that tests and the demo use to play the human and the marketplace,
plus the claim page a human opens from `verification_uri`."""

from __future__ import annotations

import html
from collections.abc import Mapping

from aiohttp import web

from bot.sandbox.hostile import Hostility
from bot.sandbox.records import ALL_SCOPES, Fault, PublicError, bad_request, iso, not_found
from bot.sandbox.routes_public import read_json
from bot.sandbox.world import World

CLAIM_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Claim your OpenTrain agent (sandbox)</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto">
<h1>Claim your agent account</h1>
<p>{message}</p>
<form method="post" action="/claim">
  <input type="hidden" name="token" value="{token}">
  <p><label>Email <input name="email" type="email" required></label></p>
  <p><label>Code <input name="user_code" inputmode="numeric" pattern="[0-9]{{6}}" required></label></p>
  <p><button type="submit">Claim</button></p>
</form>
</body></html>"""


class ControlRoutes:
    def __init__(self, world: World) -> None:
        self.world = world

    def register(self, app: web.Application) -> None:
        add = app.router.add_route
        add("POST", "/_sandbox/reset", self.reset)
        add("POST", "/_sandbox/claims/confirm", self.confirm_claim)
        add("POST", "/_sandbox/jobs/{job_id}/proposals", self.add_proposals)
        add("POST", "/_sandbox/proposals/{proposal_id}/status", self.set_proposal_status)
        add("POST", "/_sandbox/conversations/{conversation_id}/reply", self.candidate_reply)
        add("POST", "/_sandbox/conversations/{conversation_id}/next-send", self.arm_next_send)
        add("POST", "/_sandbox/credits", self.set_credits)
        add("GET", "/_sandbox/features", self.features)
        add("POST", "/_sandbox/features", self.set_features)
        add("GET", "/_sandbox/config", self.config)
        add("POST", "/_sandbox/config", self.set_config)
        add("GET", "/_sandbox/clock", self.clock)
        add("POST", "/_sandbox/clock", self.advance_clock)
        add("POST", "/_sandbox/users", self.add_user)
        add("POST", "/_sandbox/tokens", self.app_token)
        add("POST", "/_sandbox/accounts/tokens", self.owner_token)
        add("GET", "/_sandbox/faults", self.faults)
        add("POST", "/_sandbox/faults", self.add_fault)
        add("DELETE", "/_sandbox/faults", self.clear_faults)
        add("GET", "/_sandbox/hostile", self.hostility)
        add("POST", "/_sandbox/hostile", self.set_hostile)
        add("DELETE", "/_sandbox/hostile", self.clear_hostile)
        add("GET", "/_sandbox/requests", self.requests)
        add("DELETE", "/_sandbox/requests", self.clear_requests)
        add("GET", "/_sandbox/webhooks/deliveries", self.deliveries)
        add("GET", "/_sandbox/jobs/{job_id}/source", self.job_source)
        add("GET", "/claim", self.claim_page)
        add("POST", "/claim", self.claim_form)

    async def _body(self, request: web.Request) -> dict:
        body = await read_json(request, required=False) or {}
        if not isinstance(body, dict):
            raise bad_request("The body must be a JSON object.")
        return body

    async def reset(self, request: web.Request) -> web.Response:
        self.world.reset()
        return web.json_response({"ok": True})

    async def confirm_claim(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        account = self.world.confirm_claim(body.get("user_code"), body.get("email"))
        return web.json_response({"ok": True, "accountId": account.id, "email": account.email})

    async def add_proposals(self, request: web.Request) -> web.Response:
        count = (await self._body(request)).get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100:
            raise bad_request("count must be an integer from 1 to 100.", field="count")
        proposals = self.world.add_proposals(request.match_info["job_id"], count)
        return web.json_response({"proposals": [self.world.proposal_summary(p) for p in proposals]}, status=201)

    async def set_proposal_status(self, request: web.Request) -> web.Response:
        status = (await self._body(request)).get("status")
        if not isinstance(status, str):
            raise bad_request("status is required.", field="status")
        proposal = self.world.set_proposal_status(request.match_info["proposal_id"], status)
        return web.json_response({"proposal": self.world.proposal_summary(proposal)})

    async def candidate_reply(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        message = self.world.messaging.reply(request.match_info["conversation_id"], body.get("content"),
                                             body.get("attachments", 0))
        return web.json_response({"message": message}, status=201)

    async def arm_next_send(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        armed = self.world.messaging.arm_next_send(request.match_info["conversation_id"], body.get("refusal"),
                                                   body.get("retryAfterSeconds"))
        return web.json_response({"armed": armed})

    async def set_credits(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        values = {name: body.get(name, 0) for name in ("availableCents", "reservedCents")}
        if not all(isinstance(v, int) and v >= 0 for v in values.values()):
            raise bad_request("Expected availableCents and reservedCents as non-negative integers.")
        self.world.credits = values
        return web.json_response({"credits": values})

    async def features(self, request: web.Request) -> web.Response:
        return web.json_response({"features": self.world.features})

    async def set_features(self, request: web.Request) -> web.Response:
        changes = await self._body(request)
        unknown = sorted(set(changes) - set(self.world.features))
        if unknown or not all(isinstance(v, bool) for v in changes.values()):
            raise bad_request("Expected {featureKey: boolean} with known keys.", unknownKeys=unknown,
                              supportedKeys=sorted(self.world.features))
        self.world.features.update(changes)
        return web.json_response({"features": self.world.features})

    async def config(self, request: web.Request) -> web.Response:
        return web.json_response({"config": self.world.config})

    async def set_config(self, request: web.Request) -> web.Response:
        self.world.update_config(await self._body(request))
        return web.json_response({"config": self.world.config})

    async def clock(self, request: web.Request) -> web.Response:
        return web.json_response({"now": iso(self.world.now()), "offsetSeconds": self.world.clock.offset})

    async def advance_clock(self, request: web.Request) -> web.Response:
        seconds = (await self._body(request)).get("advanceSeconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise bad_request("advanceSeconds must be a non-negative number.", field="advanceSeconds")
        self.world.clock.advance(seconds)
        return await self.clock(request)

    async def add_user(self, request: web.Request) -> web.Response:
        email = (await self._body(request)).get("email")
        if not isinstance(email, str) or "@" not in email:
            raise bad_request("email is required.", field="email")
        return web.json_response({"email": email, "userId": self.world.add_user(email)}, status=201)

    async def app_token(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        claimed = body.get("claimed", True) is not False
        account, token = self.world.app_token(body.get("scopes"), body.get("email"), claimed)
        return web.json_response({"token": token.value, "accountId": account.id, "email": account.email,
                                  "scopes": token.scopes}, status=201)

    async def owner_token(self, request: web.Request) -> web.Response:
        """The owner of a claimed account, signed in to the app, mints a token for it (the post-claim token lacks
        `payments:write`; contract §1.3): `{"email", "scopes"?}` (default every scope)."""
        body = await self._body(request)
        email, scopes = str(body.get("email") or "").strip().lower(), body.get("scopes") or ALL_SCOPES
        if not isinstance(scopes, list) or set(map(str, scopes)) - set(ALL_SCOPES):
            raise bad_request("scopes must be an array of known scopes.", field="scopes", supportedScopes=ALL_SCOPES)
        account = next((a for a in self.world.accounts.values()
                        if a.claimed and (a.email or "").lower() == email and email), None)
        if account is None:
            raise not_found("No claimed account is owned by that email.", email=email)
        token = self.world.mint_token(account, [str(scope) for scope in scopes], "App token")
        return web.json_response({"token": token.value, "accountId": account.id, "email": account.email,
                                  "scopes": token.scopes}, status=201)

    async def faults(self, request: web.Request) -> web.Response:
        return web.json_response({"faults": [f.wire() for f in self.world.faults if f.times > 0]})

    async def add_fault(self, request: web.Request) -> web.Response:
        fault = _fault_from(await self._body(request))
        self.world.add_fault(fault)
        return web.json_response({"fault": fault.wire()}, status=201)

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.world.faults.clear()
        return web.json_response({"ok": True})

    async def hostility(self, request: web.Request) -> web.Response:
        return web.json_response({"hostile": self.world.hostile.wire() if self.world.hostile else None})

    async def set_hostile(self, request: web.Request) -> web.Response:
        self.world.hostile = Hostility.read(await self._body(request))
        return web.json_response({"hostile": self.world.hostile.wire()}, status=201)

    async def clear_hostile(self, request: web.Request) -> web.Response:
        self.world.hostile = None
        return web.json_response({"ok": True})

    async def requests(self, request: web.Request) -> web.Response:
        return web.json_response({"count": self.world.request_count, "requests": list(self.world.request_log)})

    async def clear_requests(self, request: web.Request) -> web.Response:
        self.world.request_log.clear()
        self.world.request_count = 0
        return web.json_response({"ok": True})

    async def job_source(self, request: web.Request) -> web.Response:
        """What a draft was created from: its import format and the fields read from it (any account's job)."""
        job = self.world.jobs.get(request.match_info["job_id"])
        if job is None:
            raise not_found("No such job.", jobId=request.match_info["job_id"])
        return web.json_response({"jobId": job.id, "format": job.source_format, "externalId": job.external_id,
                                  "fields": job.fields})

    async def deliveries(self, request: web.Request) -> web.Response:
        deliveries = self.world.webhooks.deliveries
        return web.json_response({"count": len(deliveries), "deliveries": deliveries})

    # ---- the human's claim page

    async def claim_page(self, request: web.Request) -> web.Response:
        return _claim_html(request.query.get("token", ""), "Sign in with the email your agent gave and type the "
                                                           "6-digit code it showed you.")

    async def claim_form(self, request: web.Request) -> web.Response:
        form = await request.post()
        try:
            self.world.confirm_claim(_form_text(form, "user_code"), _form_text(form, "email"))
        except PublicError as exc:
            return _claim_html(str(form.get("token", "")), exc.message, status=exc.status)
        return web.Response(text="<p>Claimed. Your agent will pick this up on its next poll.</p>",
                            content_type="text/html")


def _form_text(form: Mapping[str, object], name: str) -> str | None:
    """A text field of a posted form (a file upload in its place counts as missing)."""
    value = form.get(name)
    return value if isinstance(value, str) else None


def _claim_html(token: str, message: str, status: int = 200) -> web.Response:
    page = CLAIM_PAGE.format(token=html.escape(token, quote=True), message=html.escape(message))
    return web.Response(text=page, content_type="text/html", status=status)


def _fault_from(body: dict) -> Fault:
    path = body.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise bad_request("path is required: an exact path or a glob such as /api/public/v1/job-drafts*.",
                          field="path")
    status, times = body.get("status"), body.get("times", 1)
    latency_ms, drop, drop_after = body.get("latencyMs") or 0, bool(body.get("drop")), bool(body.get("dropAfter"))
    if status is None and not drop and not drop_after and not latency_ms:
        raise bad_request("A fault needs a status, latencyMs, drop or dropAfter.")
    if status is not None and not (isinstance(status, int) and 400 <= status <= 599):
        raise bad_request("status must be an HTTP error status (400-599).", field="status")
    if not isinstance(times, int) or times < 1:
        raise bad_request("times must be a positive integer.", field="times")
    return Fault(path=path, method=body.get("method"), status=status,
                 retry_after_seconds=body.get("retryAfterSeconds"), latency_ms=latency_ms, drop=drop, times=times,
                 drop_after=drop_after)
