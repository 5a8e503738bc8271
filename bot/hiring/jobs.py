"""Registry of published jobs: which workspace and conversation a job belongs to, for the proposal worker."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from redis.exceptions import WatchError

from bot.hiring.record import ConversationRef
from bot.infra.storage import Redis, key

# The scheduled-work kind that reads a workspace's OpenTrain ledger (proposals and what follows them). Publishing a
# job schedules it at once; the ledger reader registers the handler.
LEDGER_KIND = "ledger"

# `{ns}:jobs:{job_id}` lives as long as proposals may still arrive for the job: 90 days after it was published or last
# looked up (every proposal event of the job looks it up, refreshing it). `{ns}:jobs:workspaces` likewise: refreshed by
# every publish and lookup, it expires only once no job of any workspace has been touched for that long.
JOB_TTL_SECONDS = 90 * 24 * 3600
AMEND_ATTEMPTS = 10


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    workspace_id: str
    ref: ConversationRef
    requester: str
    surface: dict[str, Any] = field(default_factory=dict)
    job_url: str | None = None
    closed: bool = False  # closed from Slack: no new proposal cards
    cards_to: str = ""  # where a front end routes the job's proposal cards instead of their default place
    # The job's draft fields as last known here (the report at publish, then each edit applied): what "Edit" shows,
    # since OpenTrain documents no read of a job's own fields.
    fields: dict[str, Any] = field(default_factory=dict)


def _job_key(namespace: str, job_id: str) -> str:
    return key(namespace, "jobs", job_id)


def _workspaces_key(namespace: str) -> str:
    return key(namespace, "jobs", "workspaces")


async def record_job(redis: Redis, namespace: str, record: JobRecord) -> None:
    data = asdict(record)
    data["ref"] = list(record.ref)
    # Two hash tags (the job's, the list's), so no transaction: the workspace is listed first, so a crash between the
    # steps leaves at most a listed workspace without this job (harmless), never a job whose workspace nobody reads.
    async with redis.pipeline(transaction=False) as pipe:
        pipe.sadd(_workspaces_key(namespace), record.workspace_id)
        pipe.expire(_workspaces_key(namespace), JOB_TTL_SECONDS)
        await pipe.execute()
    await redis.set(_job_key(namespace, record.job_id), json.dumps(data), ex=JOB_TTL_SECONDS)


async def forget_workspace(redis: Redis, namespace: str, workspace_id: str) -> None:
    """A workspace that removed the app: no ledger of it is resumed after a restart."""
    await redis.srem(_workspaces_key(namespace), workspace_id)


async def lookup_job(redis: Redis, namespace: str, job_id: str) -> JobRecord | None:
    raw = await redis.getex(_job_key(namespace, job_id), ex=JOB_TTL_SECONDS)  # touched: another 90 days
    if raw is None:
        return None
    await redis.expire(_workspaces_key(namespace), JOB_TTL_SECONDS)
    data = json.loads(raw)
    data["ref"] = ConversationRef(*data["ref"])
    return JobRecord(**data)


async def mark_closed(redis: Redis, namespace: str, job_id: str) -> None:
    """The job was closed: the ledger makes no new cards for it (its record keeps its lifetime)."""
    await _amend(redis, namespace, job_id, lambda data: {**data, "closed": True})


async def route_cards(redis: Redis, namespace: str, job_id: str, to: str) -> None:
    """From now on the job's new proposal cards go to `to` (a front end's place, e.g. a Slack channel)."""
    await _amend(redis, namespace, job_id, lambda data: {**data, "cards_to": to})


async def update_fields(redis: Redis, namespace: str, job_id: str, changes: dict[str, Any]) -> None:
    """An edit was applied on OpenTrain: remember the new values (the record keeps its lifetime)."""
    await _amend(redis, namespace, job_id, lambda data: {**data, "fields": {**data.get("fields", {}), **changes}})


async def _amend(redis: Redis, namespace: str, job_id: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Change a job record in place, keeping its lifetime; optimistic (WATCH), so two amendments at once (a close and
    an edit) both land. A record that is gone stays gone."""
    record = _job_key(namespace, job_id)
    async with redis.pipeline(transaction=True) as pipe:
        for _ in range(AMEND_ATTEMPTS):
            try:
                await pipe.watch(record)
                raw = await pipe.get(record)
                if raw is None:
                    return
                pipe.multi()
                pipe.set(record, json.dumps(change(json.loads(raw))), keepttl=True)
                await pipe.execute()
                return
            except WatchError:
                continue
    raise RuntimeError(f"job record {job_id} kept changing; amendment not applied")


async def list_workspaces_with_jobs(redis: Redis, namespace: str) -> list[str]:
    return sorted(str(workspace) for workspace in await redis.smembers(_workspaces_key(namespace)))
