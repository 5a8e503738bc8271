"""Webhook subscriptions and deliveries to a real local receiver: signature, retries, auto-disable."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import httpx
import pytest
from aiohttp import web

from tests.sandbox.support import PUBLIC, bearer, open_job

EVENT_TYPES = ["proposal.received", "proposal.status_changed"]


class Receiver:
    """A webhook endpoint that records every delivery and answers with scripted statuses (then `default`)."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict, bytes]] = []
        self.statuses: list[int] = []
        self.default = 200
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.deliveries.append((dict(request.headers), await request.read()))
        return web.Response(status=self.statuses.pop(0) if self.statuses else self.default)


@pytest.fixture
async def receiver():
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield hook
    await runner.cleanup()


@pytest.fixture
async def http(sandbox_url):
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as client:
        yield client


async def eventually(check, timeout: float = 5.0):
    """Poll `check` until it returns something truthy (deliveries run on the sandbox's own loop)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.02)


def verify(secret: str, raw_body: bytes, header: str) -> bool:
    parts = dict(part.strip().split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return parts["t"].isdigit() and hmac.compare_digest(expected, parts["v1"])


async def setup_account(http: httpx.AsyncClient, receiver: Receiver) -> tuple[dict, str, dict]:
    token = (await http.post("/_sandbox/tokens", json={})).json()["token"]
    auth = bearer(token)
    created = await http.post(f"{PUBLIC}/webhooks", headers=auth, json={"url": receiver.url, "eventTypes": EVENT_TYPES})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["webhook"]["status"] == "ACTIVE"
    return auth, token, body


async def add_proposal(http: httpx.AsyncClient, job_id: str) -> str:
    response = await http.post(f"/_sandbox/jobs/{job_id}/proposals", json={"count": 1})
    return response.json()["proposals"][0]["id"]


async def test_signed_delivery_and_retry_with_the_same_delivery_id(http, receiver):
    await http.post("/_sandbox/config", json={"webhookRetryDelaysSeconds": [0.05, 0.05]})
    auth, token, created = await setup_account(http, receiver)
    job_id = await asyncio.to_thread(_open_job, str(http.base_url), token)

    receiver.statuses = [500]  # the first attempt fails, the retry succeeds
    proposal_id = await add_proposal(http, job_id)
    assert await eventually(lambda: _count_at_least(receiver, 2))
    (first_headers, _), (retry_headers, retry_body) = receiver.deliveries
    assert first_headers["X-OpenTrain-Delivery"] == retry_headers["X-OpenTrain-Delivery"]
    assert retry_headers["X-OpenTrain-Event"] == "proposal.received"
    assert retry_headers["User-Agent"] == "OpenTrain-Webhooks/1.0"
    assert verify(created["secret"], retry_body, retry_headers["X-OpenTrain-Signature"])
    assert not verify("whsec_wrong", retry_body, retry_headers["X-OpenTrain-Signature"])
    event = json.loads(retry_body)
    assert event["data"] == {"proposalId": proposal_id, "jobId": job_id}
    ledger = (await http.get(f"{PUBLIC}/updates", headers=auth)).json()["events"]
    assert event == ledger[-1]  # the doorbell rings with exactly the ledger's record

    log = (await http.get("/_sandbox/webhooks/deliveries")).json()["deliveries"]
    assert [(d["attempt"], d["status"], d["ok"]) for d in log] == [(1, 500, False), (2, 200, True)]

    listed = (await http.get(f"{PUBLIC}/webhooks", headers=auth)).json()["webhooks"]
    assert [w["id"] for w in listed] == [created["webhook"]["id"]] and "secret" not in listed[0]
    deleted = await http.delete(f"{PUBLIC}/webhooks/{created['webhook']['id']}", headers=auth)
    assert deleted.json()["deleted"] is True
    missing = await http.get(f"{PUBLIC}/webhooks/{created['webhook']['id']}", headers=auth)
    assert missing.status_code == 404 and missing.json()["details"]["resource"] == "webhooks"


async def test_ten_consecutive_failures_disable_the_subscription(http, receiver):
    await http.post("/_sandbox/config", json={"webhookRetryDelaysSeconds": [0.01] * 4})  # 5 attempts per event
    auth, token, created = await setup_account(http, receiver)
    job_id = await asyncio.to_thread(_open_job, str(http.base_url), token)
    receiver.default = 500
    webhook_url = f"{PUBLIC}/webhooks/{created['webhook']['id']}"

    for _ in range(2):
        await add_proposal(http, job_id)
    disabled = await eventually(lambda: _status_is(http, auth, webhook_url, "DISABLED"))
    assert disabled["disabledReason"] and disabled["disabledAt"]
    assert len(receiver.deliveries) == 10

    await add_proposal(http, job_id)  # a disabled subscription receives nothing more
    deliveries = (await http.get("/_sandbox/webhooks/deliveries")).json()
    assert deliveries["count"] == 10


async def test_subscription_rules(http, receiver):
    token = (await http.post("/_sandbox/tokens", json={"scopes": ["webhooks:manage", "messages:read"]})).json()["token"]
    auth = bearer(token)
    for body in ({"url": "http://example.com/hook", "eventTypes": ["message.received"]},
                 {"url": receiver.url, "eventTypes": []},
                 {"url": receiver.url, "eventTypes": ["job.exploded"]}):
        refused = await http.post(f"{PUBLIC}/webhooks", headers=auth, json=body)
        assert refused.status_code == 400 and refused.json()["code"] == "BAD_REQUEST", body
    needs_scope = await http.post(f"{PUBLIC}/webhooks", headers=auth,
                                  json={"url": receiver.url, "eventTypes": ["proposal.received"]})
    assert needs_scope.status_code == 403 and needs_scope.json()["details"]["requiredScopes"] == ["proposals:read"]

    for _ in range(10):
        made = await http.post(f"{PUBLIC}/webhooks", headers=auth,
                               json={"url": receiver.url, "eventTypes": ["message.received", "message.received"]})
        assert made.json()["webhook"]["eventTypes"] == ["message.received"]
    eleventh = await http.post(f"{PUBLIC}/webhooks", headers=auth,
                               json={"url": "https://example.com/hook", "eventTypes": ["message.received"]})
    assert eleventh.status_code == 409

    await http.post("/_sandbox/features", json={"public_api_webhooks": False})
    off = await http.get(f"{PUBLIC}/webhooks", headers=auth)
    assert off.status_code == 403 and off.json()["details"]["featureKey"] == "public_api_webhooks"


def _open_job(base_url: str, token: str) -> str:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        return open_job(client, token)


async def _count_at_least(receiver: Receiver, count: int) -> bool:
    return len(receiver.deliveries) >= count


async def _status_is(http: httpx.AsyncClient, auth: dict, url: str, status: str) -> dict | None:
    webhook = (await http.get(url, headers=auth)).json()["webhook"]
    return webhook if webhook["status"] == status else None
