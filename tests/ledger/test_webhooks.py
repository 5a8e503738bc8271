"""The webhook doorbell: signatures, replays, the subscription's life; the sandbox delivers over real HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

import httpx
from aiohttp import web
from cryptography.fernet import Fernet
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.hiring.accounts import Accounts
from bot.infra.secretbox import SecretBox
from bot.ledger.webhooks import (
    WEBHOOK_PATH,
    WebhookReceiver,
    WebhookStore,
    WebhookSubscriptions,
    verify_signature,
)
from bot.opentrain.client import OpenTrainClient
from tests.support.clock import HandClock
from tests.support.market import Market
from tests.support.proposals import TEAM

SECRET = "whsec_test-secret"


def signed(secret: str, body: bytes, at: int) -> str:
    return f"t={at},v1=" + hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()


def test_signature_checks_follow_the_contract():
    body, now = b'{"id":"1042","type":"proposal.received"}', 1_800_000_000
    assert verify_signature(SECRET, body, signed(SECRET, body, now), now=now)
    assert verify_signature(SECRET, body, f" v1={signed(SECRET, body, now).split('v1=')[1]} , t={now}", now=now)
    assert verify_signature(SECRET, body, signed(SECRET, body, now - 300), now=now)
    assert not verify_signature(SECRET, body, signed(SECRET, body, now - 301), now=now)  # stale
    assert not verify_signature(SECRET, body, signed(SECRET, body, now + 301), now=now)  # from the future
    assert not verify_signature(SECRET, body + b" ", signed(SECRET, body, now), now=now)  # body changed
    assert not verify_signature("whsec_other", body, signed(SECRET, body, now), now=now)
    for broken in (None, "", f"t={now}", "v1=abc", f"t=x{now},v1=abc", f"t={now},v1="):
        assert not verify_signature(SECRET, body, broken, now=now)


class Doorbell:
    def __init__(self):
        self.rings: list[str] = []

    async def __call__(self, workspace_id: str) -> None:
        self.rings.append(workspace_id)


async def test_deliveries_ring_once_and_forged_or_stale_ones_are_refused(redis, namespace, sandbox_url):
    market = Market(sandbox_url)
    market.control("config", {"webhookRetryDelaysSeconds": [0.05, 0.05, 0.05, 0.05]})
    token = market.account()
    job_id, _ = market.publish_job(token)
    store = WebhookStore(redis, namespace, SecretBox(Fernet.generate_key()))
    doorbell = Doorbell()
    runner, public_url = await serve_receiver(store, doorbell)
    opentrain = OpenTrainClient(sandbox_url, max_attempts=1)
    accounts = Accounts(redis, namespace, opentrain, SecretBox(Fernet.generate_key()), app_token=token)
    subscriptions = WebhookSubscriptions(store, accounts, public_url, check_seconds=0)
    client = await accounts.client_for(TEAM)

    assert await subscriptions.ensure(TEAM, client)
    first = await store.load(TEAM)
    assert first.url == f"{public_url}{WEBHOOK_PATH}?workspace={TEAM}" and first.secret not in repr(first)

    # The sandbox delivers a signed event: the doorbell rings for the workspace.
    market.propose(job_id)
    await until(lambda: doorbell.rings == [TEAM])

    async with httpx.AsyncClient(base_url=public_url) as http:
        url = f"{WEBHOOK_PATH}?workspace={TEAM}"
        body = json.dumps({"id": "77", "type": "proposal.received"}).encode()
        now = int(time.time())
        forged = await http.post(url, content=body, headers={
            "X-OpenTrain-Signature": signed("whsec_forged", body, now), "X-OpenTrain-Delivery": "d-1"})
        stale = await http.post(url, content=body, headers={
            "X-OpenTrain-Signature": signed(first.secret, body, now - 400), "X-OpenTrain-Delivery": "d-2"})
        unknown = await http.post(f"{WEBHOOK_PATH}?workspace=TOTHER", content=body, headers={
            "X-OpenTrain-Signature": signed(first.secret, body, now), "X-OpenTrain-Delivery": "d-3"})
        assert (forged.status_code, stale.status_code, unknown.status_code) == (400, 400, 400)
        genuine = {"X-OpenTrain-Signature": signed(first.secret, body, now), "X-OpenTrain-Delivery": "d-4"}
        replies = [await http.post(url, content=body, headers=genuine) for _ in range(2)]
        assert [r.status_code for r in replies] == [200, 200]
        assert [r.json()["duplicate"] for r in replies] == [False, True]
    assert doorbell.rings == [TEAM, TEAM]  # the forged, stale and repeated deliveries rang nothing

    # Deliveries keep failing (a lost secret): OpenTrain disables the subscription and the bot replaces it.
    await store.save(TEAM, first.webhook_id, first.url, "whsec_lost", checked_at=0)
    market.propose(job_id, 2)
    await until(lambda: webhook_status(market, token, first.webhook_id) == "DISABLED")
    assert await subscriptions.ensure(TEAM, client)
    second = await store.load(TEAM)
    assert second.webhook_id != first.webhook_id
    assert [w["id"] for w in webhooks(market, token)] == [second.webhook_id]
    market.propose(job_id)
    await until(lambda: len(doorbell.rings) == 3)

    await opentrain.aclose()
    await runner.cleanup()
    market.close()


class FlakyDoorbell(Doorbell):
    """The first `failures` rings find Redis gone: no read is scheduled."""

    def __init__(self, failures: int):
        super().__init__()
        self.failures = failures

    async def __call__(self, workspace_id: str) -> None:
        if self.failures:
            self.failures -= 1
            raise RedisConnectionError("Redis is restarting")
        await super().__call__(workspace_id)


async def test_a_delivery_answered_503_rings_when_opentrain_delivers_it_again(redis, namespace):
    store = WebhookStore(redis, namespace, SecretBox(Fernet.generate_key()))
    await store.save(TEAM, "wh_1", f"http://bot.invalid{WEBHOOK_PATH}?workspace={TEAM}", SECRET, checked_at=0)
    doorbell = FlakyDoorbell(failures=1)
    runner, public_url = await serve_receiver(store, doorbell)
    body = json.dumps({"id": "1042", "type": "proposal.received"}).encode()
    headers = {"X-OpenTrain-Signature": signed(SECRET, body, int(time.time())), "X-OpenTrain-Delivery": "d-9"}

    async with httpx.AsyncClient(base_url=public_url) as http:
        replies = [await http.post(f"{WEBHOOK_PATH}?workspace={TEAM}", content=body, headers=headers)
                   for _ in range(3)]  # OpenTrain retries with the same delivery id
    assert [r.status_code for r in replies] == [503, 200, 200]
    assert [r.json().get("duplicate") for r in replies[1:]] == [False, True]
    assert doorbell.rings == [TEAM]
    await runner.cleanup()


async def test_a_replayed_signature_rings_nothing_even_with_new_delivery_ids(redis, namespace):
    store = WebhookStore(redis, namespace, SecretBox(Fernet.generate_key()))
    await store.save(TEAM, "wh_1", f"http://bot.invalid{WEBHOOK_PATH}?workspace={TEAM}", SECRET, checked_at=0)
    doorbell = Doorbell()
    runner, public_url = await serve_receiver(store, doorbell)
    url = f"{WEBHOOK_PATH}?workspace={TEAM}"
    body = json.dumps({"id": "2001", "type": "proposal.received"}).encode()
    signature = signed(SECRET, body, int(time.time()))

    async with httpx.AsyncClient(base_url=public_url) as http:
        first = await http.post(url, content=body, headers={"X-OpenTrain-Signature": signature,
                                                            "X-OpenTrain-Delivery": "d-1"})
        replays = [await http.post(url, content=body, headers={"X-OpenTrain-Signature": signature,
                                                               "X-OpenTrain-Delivery": f"replay-{n}"})
                   for n in range(5)]
        no_id = await http.post(url, content=body, headers={"X-OpenTrain-Signature": signature})
        # Copies arriving at once ring once: seeing and recording are one step.
        other = json.dumps({"id": "2002", "type": "proposal.received"}).encode()
        other_signature = signed(SECRET, other, int(time.time()))
        burst = await asyncio.gather(*(http.post(url, content=other, headers={
            "X-OpenTrain-Signature": other_signature, "X-OpenTrain-Delivery": f"burst-{n}"}) for n in range(20)))
    assert first.json() == {"ok": True, "duplicate": False}
    assert [r.json()["duplicate"] for r in [*replays, no_id]] == [True] * 6
    assert sorted(r.json()["duplicate"] for r in burst) == [False] + [True] * 19
    assert doorbell.rings == [TEAM, TEAM]
    await runner.cleanup()


async def test_what_the_receiver_remembers_is_bounded_in_size_and_time(redis, namespace, monkeypatch):
    from bot.ledger import webhooks

    monkeypatch.setattr(webhooks, "MAX_REMEMBERED", 6)
    clock = HandClock(start=float(int(time.time())))
    store = WebhookStore(redis, namespace, SecretBox(Fernet.generate_key()))
    await store.save(TEAM, "wh_1", f"http://bot.invalid{WEBHOOK_PATH}?workspace={TEAM}", SECRET, checked_at=0)
    doorbell = Doorbell()
    receiver = WebhookReceiver(store, doorbell, clock=clock)

    async def deliver(n: int, delivery_id: str) -> bool:
        body = json.dumps({"id": str(n), "type": "proposal.received"}).encode()
        answer = await receiver.receive(TEAM, body, signature=signed(SECRET, body, int(clock())),
                                        delivery_id=delivery_id)
        assert answer.status == 200
        return bool(answer.body["duplicate"])

    for n in range(20):  # OpenTrain delivering a lot: the memory keeps the newest, never more than the cap
        assert not await deliver(n, f"d-{n}" + "x" * 5_000)  # however long an id is, it is stored hashed
    seen = store.seen_key(TEAM)
    assert await redis.zcard(seen) <= 6
    assert 0 < await redis.ttl(seen) <= webhooks.DELIVERY_MEMORY_SECONDS
    assert max(len(m) for m in await redis.zrange(seen, 0, -1)) < 100
    assert await deliver(19, "d-19" + "x" * 5_000)  # the newest is remembered

    # A retry of a delivery id after its signature is forgotten (re-signed later) is still a duplicate ...
    clock.advance(webhooks.SIGNATURE_MEMORY_SECONDS + 1)
    assert await deliver(1000, "d-19" + "x" * 5_000)
    # ... until a day has passed.
    clock.advance(webhooks.DELIVERY_MEMORY_SECONDS)
    assert not await deliver(1001, "d-19" + "x" * 5_000)
    assert await redis.zcard(seen) == 2  # everything older was dropped as it expired: this delivery's id and signature

    # Every key the receiver writes for a workspace expires, except the subscription itself.
    keys = [k async for k in redis.scan_iter(match=f"{namespace}:{{ws:{TEAM}}}:*")]
    assert sorted(keys) == sorted([seen, f"{namespace}:{{ws:{TEAM}}}:webhook"])


async def serve_receiver(store: WebhookStore, doorbell) -> tuple[web.AppRunner, str]:
    """The webhook endpoint alone on a free local port: (runner to clean up, its base URL)."""
    app = web.Application()
    WebhookReceiver(store, doorbell).mount(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"


def webhooks(market: Market, token: str) -> list[dict]:
    return httpx.get(f"{market.url}/api/public/v1/webhooks", headers={"authorization": f"Bearer {token}"},
                     timeout=10).json()["webhooks"]


def webhook_status(market: Market, token: str, webhook_id: str) -> str | None:
    return next((w["status"] for w in webhooks(market, token) if w["id"] == webhook_id), None)


async def until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


async def test_money_events_ring_too_and_an_older_proposal_only_subscription_is_replaced(redis, namespace,
                                                                                        sandbox_url):
    market = Market(sandbox_url)
    token = market.account()
    store = WebhookStore(redis, namespace, SecretBox(Fernet.generate_key()))
    runner, public_url = await serve_receiver(store, Doorbell())
    opentrain = OpenTrainClient(sandbox_url, max_attempts=1)
    accounts = Accounts(redis, namespace, opentrain, SecretBox(Fernet.generate_key()), app_token=token)
    subscriptions = WebhookSubscriptions(store, accounts, public_url, check_seconds=0)
    client = await accounts.client_for(TEAM)
    # A subscription made before the bot read money events: proposals only.
    old = await client.create_webhook(f"{public_url}{WEBHOOK_PATH}?workspace={TEAM}",
                                      ["proposal.received", "proposal.status_changed"])
    await store.save(TEAM, old.webhook.id, old.webhook.url, old.secret, checked_at=0)

    assert await subscriptions.ensure(TEAM, client)
    [current] = webhooks(market, token)
    assert current["id"] != old.webhook.id
    assert {"approval.confirmed", "contract.created", "contract.budget_state_changed"} <= set(current["eventTypes"])
    await opentrain.aclose()
    await runner.cleanup()
    market.close()
