"""Redis Cluster safety of the key shapes, without a cluster: every key carries a hash tag, the keys each script and
transaction uses share one slot, and no Lua script builds a key of its own. (The cluster pass of CI runs the Slack
and exactly-once tests on a real 3-master cluster, where any slip is a CROSSSLOT error.)"""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from redis.crc import key_slot

import bot
from bot.hiring.record import ConversationRef
from bot.hiring.states import State
from bot.hiring.store import STATES, ConversationStore, state_index_key
from bot.infra.embedded_redis import redis_url_for
from bot.infra.scheduler import SHARDS, Scheduler
from bot.infra.settings import SettingsError, load_settings
from bot.infra.storage import key
from bot.shell.lifecycle import Board
from bot.slack.outbox import Lane, Outbox

REDIS_CALL = re.compile(r"redis\.call\(\s*'(\w+)'\s*(?:,\s*([^,)]+))?")
KEYLESS_COMMANDS = {"TIME"}


def slots(*names: str) -> set[int]:
    return {key_slot(name.encode()) for name in names}


def lua_scripts() -> dict[str, str]:
    """Every Lua source held by a module of the bot (module constants passed to register_script / eval)."""
    found = {}
    for module in pkgutil.walk_packages(bot.__path__, "bot."):
        for name, value in vars(importlib.import_module(module.name)).items():
            if isinstance(value, str) and "redis.call(" in value:
                found[f"{module.name}.{name}"] = value
    return found


def test_key_puts_the_first_two_parts_in_the_hash_tag():
    assert key("hirebot", "ws", "T1", "conv", "C1:1700.1") == "hirebot:{ws:T1}:conv:C1:1700.1"
    assert key("hirebot", "jobs", "job_1") == "hirebot:{jobs:job_1}"
    assert slots(key("n", "ws", "T1", "account"), key("n", "ws", "T1", "ledger", "cursor")) == \
        slots(key("n", "ws", "T1"))
    assert slots(key("n", "ws", "T1", "account")) != slots(key("n", "ws", "T2", "account"))


def test_every_lua_script_takes_each_key_it_touches_from_keys():
    scripts = lua_scripts()
    assert len(scripts) >= 15, sorted(scripts)  # the bot's scripts were found
    built = []
    for name, source in scripts.items():
        from_keys = set(re.findall(r"local\s+(\w+)\s*=\s*KEYS\[", source))
        for command, first in REDIS_CALL.findall(source):
            argument = first.strip()
            if command.upper() not in KEYLESS_COMMANDS and not (argument.startswith("KEYS[") or argument in from_keys):
                built.append((name, command, argument))
    assert built == [], "keys built inside Lua are invisible to Redis Cluster: pass them in KEYS"


async def test_the_keys_of_each_script_share_one_slot(redis, namespace):
    store = ConversationStore(redis, namespace, idle_seconds=60)
    for n in range(50):
        ref = ConversationRef("T1", f"C1:1700.{n}")
        record = store.record_key(ref)
        shard = int(record.split("{conv:", 1)[1].split("}", 1)[0])
        indexes = [state_index_key(namespace, state, shard) for state in STATES]
        assert len(slots(record, store.lease_key(ref), record + ":queue", record + ":queue:alive", *indexes)) == 1

    scheduler = Scheduler(redis, namespace)
    for item in ("T1:C1", "T2:C9", "job_1", "x"):
        assert len(slots(*scheduler._keys("outbox", item))) == 1
    # The due sets of one kind spread over several slots: no single key takes every process's polling.
    assert len(slots(*(scheduler._shard_keys("outbox", shard)[0] for shard in range(SHARDS)))) == SHARDS

    outbox = Outbox(redis, namespace, slack=None, scheduler=scheduler)  # type: ignore[arg-type]
    lane = Lane("T1", "C1")
    cursor = key(namespace, "ws", "T1", "ledger", "cursor")
    assert len(slots(cursor, outbox._lane(lane, "queue"), outbox._lane(lane, "inflight"), outbox._pending("T1"),
                     outbox._seq("T1"), outbox._record("T1", "p1"), outbox._post("T1", "post1"))) == 1
    assert len(slots(cursor, Board(redis, namespace, "T1").key)) == 1  # the shell's page commit

    assert state_index_key(namespace, State.DRAFTING, 0) != state_index_key(namespace, State.DRAFTING, 1)


def test_redis_cluster_without_a_node_to_ask_stops_start_up(tmp_path):
    settings = load_settings(redis_cluster=True, redis_url=None, data_dir=str(tmp_path))
    with pytest.raises(SettingsError, match="REDIS_CLUSTER=true needs REDIS_URL"):
        redis_url_for(settings)  # not an embedded single Redis in its place
