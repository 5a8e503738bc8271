"""Registry of published jobs: which workspace and conversation a job belongs to, for the proposal worker."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.hiring.record import ConversationRef
from bot.infra.storage import Redis, key

# The scheduled-work kind that reads a workspace's OpenTrain ledger (proposals and what follows them). Publishing a
# job schedules it at once; the ledger reader registers the handler.
LEDGER_KIND = "ledger"


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    workspace_id: str
    ref: ConversationRef
    requester: str
    surface: dict[str, Any] = field(default_factory=dict)
    job_url: str | None = None


def _job_key(namespace: str, job_id: str) -> str:
    return key(namespace, "jobs", job_id)


def _workspaces_key(namespace: str) -> str:
    return key(namespace, "jobs", "workspaces")


async def record_job(redis: Redis, namespace: str, record: JobRecord) -> None:
    data = asdict(record)
    data["ref"] = list(record.ref)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(_job_key(namespace, record.job_id), json.dumps(data))
        pipe.sadd(_workspaces_key(namespace), record.workspace_id)
        await pipe.execute()


async def lookup_job(redis: Redis, namespace: str, job_id: str) -> JobRecord | None:
    raw = await redis.get(_job_key(namespace, job_id))
    if raw is None:
        return None
    data = json.loads(raw)
    data["ref"] = ConversationRef(*data["ref"])
    return JobRecord(**data)


async def list_workspaces_with_jobs(redis: Redis, namespace: str) -> list[str]:
    return sorted(str(workspace) for workspace in await redis.smembers(_workspaces_key(namespace)))
