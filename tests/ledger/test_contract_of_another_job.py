"""A contract event whose contract belongs to another job than the one it names: no card goes in the named job's
thread (the event's ids are hints; the contract as OpenTrain serves it says which job it is for)."""

from __future__ import annotations

import httpx
from cryptography.fernet import Fernet

from bot.hiring.accounts import Accounts
from bot.hiring.approvals import ApprovalTracker
from bot.hiring.jobs import JobRecord
from bot.infra.scheduler import Scheduler
from bot.infra.secretbox import SecretBox
from bot.ledger.money import CONTRACT_CREATED, MoneyLedger
from bot.opentrain.client import OpenTrainClient
from bot.opentrain.models import Contract, Event
from tests.ledger.test_ledger import publish_from_slack
from tests.support.market import Market
from tests.support.proposals import TEAM


class ShownContracts:
    """A front end that records which contract it was asked to show under which job."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []

    def shows(self, job: JobRecord) -> bool:
        return True

    async def contract_created(self, workspace_id: str, job: JobRecord, contract: Contract) -> None:
        self.shown.append((job.job_id, contract.id))

    async def contract_changed(self, workspace_id: str, job: JobRecord, contract: Contract) -> None:
        self.shown.append((job.job_id, contract.id))

    async def budget_changed(self, workspace_id, job, contract, change) -> None:
        self.shown.append((job.job_id, contract.id))


def hired(market: Market, token: str, job_id: str) -> str:
    """A contract on `job_id`, hired and confirmed without the bot."""
    [proposal_id] = market.propose(job_id)
    with httpx.Client(base_url=market.url, timeout=10, headers={"authorization": f"Bearer {token}"}) as api:
        hire = api.post(f"/api/public/v1/proposals/{proposal_id}/hire", json={"milestone": {
            "name": "First", "amount": 10, "dueDate": "2026-12-31"}}).json()["approval"]
    resolved = market.control(f"approvals/{hire['id']}/resolve", {"decision": "confirm"})
    return resolved["approval"]["result"]["contractId"]


async def test_a_contract_event_naming_another_jobs_contract_shows_no_card(redis, namespace, sandbox_url):
    market = Market(sandbox_url)
    token = market.account()
    ours = await publish_from_slack(market, token, redis, namespace)
    other_job, _ = market.publish_job(token)
    theirs, own = hired(market, token, other_job), hired(market, token, ours)
    async with OpenTrainClient(sandbox_url, token) as client:
        accounts = Accounts(redis, namespace, client, SecretBox(Fernet.generate_key()), app_token=token)
        sink = ShownContracts()
        ledger = MoneyLedger(redis, namespace, ApprovalTracker(redis, namespace, accounts, Scheduler(redis, namespace)),
                             sink)
        for event_id, contract_id in (("evt_crafted", theirs), ("evt_true", own)):
            await ledger.handle(TEAM, client, Event(id=event_id, type=CONTRACT_CREATED, job_id=ours,
                                                    resource_id=contract_id, data={"contractId": contract_id}))
    assert sink.shown == [(ours, own)]
    market.close()
