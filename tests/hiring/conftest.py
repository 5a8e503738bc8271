"""A hiring engine wired to the sandbox over HTTP and a real Redis, plus helpers to talk to it like a requester."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import httpx
import pytest
from cryptography.fernet import Fernet

from bot.hiring.accounts import Accounts
from bot.hiring.authz import Authorizer, Everyone
from bot.hiring.engine import ConversationRef, HiringEngine
from bot.hiring.views import ClaimInstructions, Reply
from bot.infra.scheduler import Scheduler
from bot.infra.secretbox import SecretBox
from bot.opentrain.client import OpenTrainClient
from tests.support.clock import HandClock

DEMO = "We need 10 annotators for 50,000 dashcam images, $18/hour, English"
REQUESTER = "U_REQ"
DEFAULT_REF = ConversationRef("T1", "C1:100.1")


@dataclass
class RecordingObserver:
    changes: list[tuple[ConversationRef, ClaimInstructions, dict]] = field(default_factory=list)

    async def claim_changed(self, ref, claim, surface) -> None:
        self.changes.append((ref, claim, surface))


class Harness:
    """One engine process: its own HTTP client, Accounts and Scheduler over the shared Redis namespace."""

    _ids = itertools.count()

    def __init__(self, redis, namespace: str, sandbox_url: str, box: SecretBox, clock: HandClock,
                 ref: ConversationRef, app_token: str | None = None, **engine_options):
        self.sandbox_url = sandbox_url
        self.client = OpenTrainClient(sandbox_url, max_attempts=1)
        self.accounts = Accounts(redis, namespace, self.client, box, app_token=app_token)
        self.scheduler = Scheduler(redis, namespace, clock=clock)
        engine_options.setdefault("authorizer", Authorizer(Everyone()))  # one person holding every role
        self.engine = HiringEngine(redis, namespace, self.accounts, self.scheduler, clock=clock, **engine_options)
        self.engine.register_workers(self.scheduler)
        self.observer = RecordingObserver()
        self.engine.add_claim_observer(self.observer)
        self.ref = ref

    @classmethod
    def message_id(cls) -> str:
        return f"msg-{next(cls._ids)}"

    async def hire(self, text: str = DEMO, **kwargs) -> Reply:
        return await self.engine.start(self.ref, REQUESTER, self.message_id(), text, **kwargs)

    async def say(self, text: str, *, message_id: str | None = None, user: str = REQUESTER,
                  private: bool = True) -> Reply:
        return await self.engine.handle(self.ref, user, message_id or self.message_id(), text, private=private)

    def control(self, path: str, body: dict | None = None) -> dict:
        response = httpx.post(f"{self.sandbox_url}/_sandbox/{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()

    def app_token(self, scopes: list[str] | None = None) -> str:
        return self.control("tokens", {"scopes": scopes} if scopes else {})["token"]

    def requests(self, method: str, path_part: str) -> int:
        log = httpx.get(f"{self.sandbox_url}/_sandbox/requests", timeout=10).json()["requests"]
        return sum(1 for r in log if r["method"] == method and path_part in r["path"])


@pytest.fixture
def secretbox() -> SecretBox:
    return SecretBox(Fernet.generate_key())


@pytest.fixture
async def make_harness(redis, namespace, sandbox_url, secretbox, clock):
    made: list[Harness] = []

    def make(ref: ConversationRef = DEFAULT_REF, app_token: str | None = None, **options) -> Harness:
        harness = Harness(redis, namespace, sandbox_url, secretbox, clock, ref, app_token, **options)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        await harness.client.aclose()


@pytest.fixture
async def bot(make_harness) -> Harness:
    return make_harness()
