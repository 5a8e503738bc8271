"""`python -m bot rotate-keys`: re-encrypt every stored secret under the newest ENCRYPTION_KEY.

ENCRYPTION_KEY may list several Fernet keys, newest first; the SecretBox decrypts with any of them and encrypts with
the newest. After a new key is prepended, this walks every place a secret is stored and re-seals it under the newest
key, so the old key can be dropped. The places (all per workspace):

- `{ns}:{ws:{ws}}:account`  hash: `access_token`, `claim_token` (OpenTrain tokens)
- `{ns}:{ws:{ws}}:claim`    JSON string: `sealed_verification_uri` (the claim link embeds an attempt token)
- `{ns}:{ws:{ws}}:webhook`  hash: `secret` (the webhook signing secret)
- `{ns}:{ws:{ws}}:slack-install`  hash: `bot_token`, `bot_refresh_token`, `user_token`, `user_refresh_token` (an
  OAuth install's Slack tokens; `{ws}` is the org for an org-wide install)

Keys are found with SCAN (never KEYS). Each value is replaced only if it is still the one read (compare-and-set in
Lua), keeping the key's TTL, so a bot running meanwhile loses nothing. A value already sealed under the newest key is
left alone: running it twice re-encrypts nothing the second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.infra.secretbox import SecretBox, UndecryptableSecret
from bot.infra.storage import Redis, scan_keys

# KEYS: hash | ARGV: field, expected, replacement
_REPLACE_FIELD = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""

# KEYS: string | ARGV: expected, replacement (the key's TTL is kept)
_REPLACE_STRING = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
"""

HASH_FIELDS = {"account": ("access_token", "claim_token"), "webhook": ("secret",),
               "slack-install": ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")}
CLAIM_FIELD = "sealed_verification_uri"


@dataclass
class RotationReport:
    rotated: int = 0  # re-encrypted under the newest key now
    current: int = 0  # already under the newest key
    undecryptable: int = 0  # no configured key opens it: left as it is
    changed_meanwhile: int = 0  # the bot rewrote it while we worked (under the newest key, since it encrypts so)

    def line(self) -> str:
        text = (f"rotate-keys: re-encrypted {self.rotated} secret(s) under the newest key; "
                f"{self.current} already current")
        if self.changed_meanwhile:
            text += f"; {self.changed_meanwhile} rewritten by the bot meanwhile"
        if self.undecryptable:
            text += (f"; {self.undecryptable} cannot be decrypted with any configured ENCRYPTION_KEY "
                     f"(left as they are: add the key they were written with, or drop them)")
        return text


def _kind(namespace: str, redis_key: str) -> str | None:
    """"account" / "claim" / "webhook" / "slack-install" for `{ns}:{ws:<one segment>}:{kind}`, else None."""
    prefix = f"{namespace}:{{ws:"
    if not redis_key.startswith(prefix):
        return None
    rest = redis_key[len(prefix):].split(":")
    if len(rest) != 2 or not rest[0].endswith("}") or rest[1] not in ("account", "claim", "webhook", "slack-install"):
        return None
    return rest[1]


async def rotate_secrets(redis: Redis, namespace: str, box: SecretBox) -> RotationReport:
    report = RotationReport()
    replace_field = redis.register_script(_REPLACE_FIELD)
    replace_string = redis.register_script(_REPLACE_STRING)

    def reseal(sealed: str) -> str | None:
        try:
            fresh = box.rotate(sealed)
        except UndecryptableSecret:
            report.undecryptable += 1
            return None
        if fresh is None:
            report.current += 1
        return fresh

    for raw_key in await scan_keys(redis, f"{namespace}:{{ws:*"):
        redis_key = str(raw_key)
        kind = _kind(namespace, redis_key)
        if kind in HASH_FIELDS:
            for field in HASH_FIELDS[kind]:
                sealed = await redis.hget(redis_key, field)
                if not sealed or (fresh := reseal(str(sealed))) is None:
                    continue
                if await replace_field(keys=[redis_key], args=[field, str(sealed), fresh]):
                    report.rotated += 1
                else:
                    report.changed_meanwhile += 1
        elif kind == "claim":
            raw = await redis.get(redis_key)
            if not raw:
                continue
            record = json.loads(raw)
            sealed = record.get(CLAIM_FIELD)
            if not sealed or (fresh := reseal(str(sealed))) is None:
                continue
            record[CLAIM_FIELD] = fresh
            if await replace_string(keys=[redis_key], args=[raw, json.dumps(record, separators=(",", ":"))]):
                report.rotated += 1
            else:
                report.changed_meanwhile += 1
    return report
