"""Contracts, milestones and approvals (contract §2.9-§2.11) on the public API, and the control calls that play the
human co-signing them and the annotation platform reporting usage (`/_sandbox/approvals/...`, `/_sandbox/contracts/
.../usage`, `/_sandbox/accounts/.../payment-method`). The rules are in contracts.py."""

from __future__ import annotations

from aiohttp import web

from bot.sandbox.contracts import approval_wire
from bot.sandbox.records import Token, bad_request
from bot.sandbox.routes_public import PREFIX, PublicRoutes, read_json

WRITE = ("payments:write", "public_api_payments_write", "move money")


class PaymentRoutes(PublicRoutes):
    def register(self, app: web.Application) -> None:
        public = [
            ("GET", "/contracts", self.list_contracts),
            ("GET", "/contracts/{contract_id}", self.get_contract),
            ("POST", "/contracts/{contract_id}/milestones", self.add_milestone),
            ("POST", "/contracts/{contract_id}/end", self.end_contract),
            ("POST", "/milestones/{milestone_id}/fund", self.fund),
            ("POST", "/milestones/{milestone_id}/approve", self.release),
            ("GET", "/approvals/{approval_id}", self.get_approval),
        ]
        for method, path, handler in public:
            app.router.add_route(method, PREFIX + path, handler)
        app.router.add_route("POST", "/_sandbox/approvals/{approval_id}/resolve", self.resolve)
        app.router.add_route("POST", "/_sandbox/contracts/{contract_id}/usage", self.report_usage)
        app.router.add_route("POST", "/_sandbox/accounts/{account_id}/payment-method", self.payment_method)

    def _writer(self, request: web.Request) -> Token:
        return self._gated(request, *WRITE)

    async def list_contracts(self, request: web.Request) -> web.Response:
        token = self._gated(request, "payments:read")
        contracts = self.world.payments.list_contracts(token, request.query.get("jobId"), request.query.get("status"))
        return web.json_response({"contracts": contracts})

    async def get_contract(self, request: web.Request) -> web.Response:
        token = self._gated(request, "payments:read")
        contract = self.world.payments.own_contract(token, request.match_info["contract_id"])
        return web.json_response({"contract": self.world.payments.contract_wire(contract, detail=True)})

    async def add_milestone(self, request: web.Request) -> web.Response:
        token = self._writer(request)
        milestone = self.world.payments.add_milestone(token, request.match_info["contract_id"],
                                                      await read_json(request))
        return web.json_response({"milestone": milestone.wire(False)}, status=201)

    async def end_contract(self, request: web.Request) -> web.Response:
        token = self._writer(request)
        ended = self.world.payments.end(token, request.match_info["contract_id"])
        if "ok" in ended:
            return web.json_response(ended)
        return _approval_response(ended, "Contract end request recorded.")

    async def fund(self, request: web.Request) -> web.Response:
        token = self._writer(request)
        return _approval_response(self.world.payments.fund(token, request.match_info["milestone_id"]),
                                  "Funding request recorded.")

    async def release(self, request: web.Request) -> web.Response:
        token = self._writer(request)
        return _approval_response(self.world.payments.release(token, request.match_info["milestone_id"]),
                                  "Release request recorded.")

    async def get_approval(self, request: web.Request) -> web.Response:
        token = self._gated(request, "payments:read")
        approval = self.world.payments.get(token, request.match_info["approval_id"])
        return web.json_response({"approval": approval_wire(approval)})

    # ---- control

    async def _control_body(self, request: web.Request) -> dict:
        body = await read_json(request, required=False) or {}
        if not isinstance(body, dict):
            raise bad_request("The body must be a JSON object.")
        return body

    async def resolve(self, request: web.Request) -> web.Response:
        decision = (await self._control_body(request)).get("decision")
        approval = self.world.payments.resolve(request.match_info["approval_id"], decision)
        return web.json_response({"approval": approval_wire(approval)})

    async def report_usage(self, request: web.Request) -> web.Response:
        contract = self.world.payments.report_usage(request.match_info["contract_id"],
                                                    await self._control_body(request))
        return web.json_response({"budget": self.world.payments.budget(contract)})

    async def payment_method(self, request: web.Request) -> web.Response:
        on_file = (await self._control_body(request)).get("onFile")
        if not isinstance(on_file, bool):
            raise bad_request("onFile must be a boolean.", field="onFile")
        account_id = request.match_info["account_id"]
        if on_file:
            self.world.payments.without_payment_method.discard(account_id)
        else:
            self.world.payments.without_payment_method.add(account_id)
        return web.json_response({"accountId": account_id, "onFile": on_file})


def _approval_response(approval: dict, said: str) -> web.Response:
    return web.json_response({
        "approval": approval_wire(approval),
        "message": f"{said} A signed-in human must confirm this approval in the OpenTrain app before any money moves.",
    }, status=202)
