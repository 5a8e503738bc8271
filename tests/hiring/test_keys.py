"""ENCRYPTION_KEY rotation end to end (written under A, read under B,A, rotated, read under B alone), and what the
requester hears when the stored credentials cannot be decrypted."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from bot.hiring import wording
from bot.hiring.accounts import CredentialsUnreadable
from bot.hiring.record import ConversationRef
from bot.hiring.views import Notice
from bot.infra.secretbox import SecretBox, UndecryptableSecret
from bot.infra.storage import key
from bot.ledger.webhooks import WebhookStore
from bot.rotation import rotate_secrets
from tests.hiring.conftest import DEFAULT_REF, Harness

ROOT = Path(__file__).resolve().parents[2]
A, B = Fernet.generate_key(), Fernet.generate_key()
WS = DEFAULT_REF.workspace_id


def rotate_keys_cli(redis_url: str, namespace: str, encryption_key: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REDIS_URL": redis_url, "REDIS_NAMESPACE": namespace, "ENCRYPTION_KEY": encryption_key}
    return subprocess.run([sys.executable, "-m", "bot", "rotate-keys"], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)


async def stored_secrets(harness: Harness, redis, namespace: str, box: SecretBox) -> tuple:
    """Every stored secret, read the way the bot reads them."""
    access = await harness.accounts._access_token(WS)
    claim_token = await harness.accounts.claim_token(WS)
    claim = await harness.engine.claims.current(WS)
    webhook = await WebhookStore(redis, namespace, box).load(WS)
    return access, claim_token, claim.verification_uri if claim else None, webhook.secret if webhook else None


async def test_secrets_written_under_a_are_read_under_b_a_and_after_rotate_keys_under_b_alone(
        redis, redis_url, namespace, sandbox_url, clock):
    made: list[Harness] = []

    def harness(*keys: bytes) -> Harness:
        made.append(Harness(redis, namespace, sandbox_url, SecretBox(list(keys)), clock, DEFAULT_REF))
        return made[-1]

    try:
        first = harness(A)
        await first.accounts.client_for(WS)  # registers the workspace's agent account: access + claim token
        started = await first.engine.claims.start(WS, "owner@example.com", DEFAULT_REF)
        assert started.state == "waiting" and started.verification_uri
        await WebhookStore(redis, namespace, SecretBox(A)).save(WS, "wh_1", "https://bot.example/hook", "whsec_1", 0)
        written = await stored_secrets(first, redis, namespace, SecretBox(A))
        assert all(written), written

        # A new key is prepended: everything still reads.
        assert await stored_secrets(harness(B, A), redis, namespace, SecretBox([B, A])) == written

        rotated = rotate_keys_cli(redis_url, namespace, f"{B.decode()},{A.decode()}")
        assert rotated.returncode == 0, rotated.stderr
        assert "re-encrypted 4 secret(s)" in rotated.stdout, rotated.stdout
        again = rotate_keys_cli(redis_url, namespace, f"{B.decode()},{A.decode()}")
        assert "re-encrypted 0 secret(s)" in again.stdout and "4 already current" in again.stdout  # idempotent
        for output in (rotated.stdout + rotated.stderr, again.stdout + again.stderr):
            assert "ot_" not in output and "whsec_" not in output and "Traceback" not in output

        # The old key is dropped: everything still reads, with B alone.
        assert await stored_secrets(harness(B), redis, namespace, SecretBox(B)) == written
        account = await redis.hgetall(key(namespace, "ws", WS, "account"))
        assert await redis.ttl(key(namespace, "ws", WS, "account")) == -1  # rotation changed no lifetime
        for field in ("access_token", "claim_token"):
            SecretBox(B).decrypt(account[field])
    finally:
        for made_harness in made:
            await made_harness.client.aclose()


async def test_rotation_counts_a_secret_no_key_opens_and_leaves_it(redis, namespace):
    foreign = SecretBox(Fernet.generate_key()).encrypt("whsec_lost")
    await redis.hset(key(namespace, "ws", "T9", "webhook"), mapping={"id": "w", "url": "u", "secret": foreign})
    await redis.hset(key(namespace, "ws", "T9", "slack", "conv", "C1:1.1", "account"), "access_token", "not ours")
    report = await rotate_secrets(redis, namespace, SecretBox([B, A]))
    assert (report.rotated, report.current, report.undecryptable) == (0, 0, 1)
    assert "cannot be decrypted" in report.line()
    assert await redis.hget(key(namespace, "ws", "T9", "webhook"), "secret") == foreign


async def test_hire_with_undecryptable_credentials_is_one_plain_sentence(make_harness, redis, namespace,
                                                                          sandbox_url, clock, caplog):
    before = make_harness()  # the fixture's box: the key the deployment used to have
    await before.accounts.client_for(WS)
    after = Harness(redis, namespace, sandbox_url, SecretBox(B), clock, ConversationRef(WS, "C2:200.1"))
    try:
        with caplog.at_level(logging.INFO):
            reply = await after.hire()
        said = [view.text for view in reply.views if isinstance(view, Notice)]
        assert any(wording.CREDENTIALS_UNREADABLE in text for text in said), reply.views
        assert not any(record.exc_info for record in caplog.records), caplog.text
        # The same failure is an UndecryptableSecret for background work (the scheduler backs off quietly).
        assert issubclass(CredentialsUnreadable, UndecryptableSecret)
        assert wording.refusal(UndecryptableSecret("x")) == wording.CREDENTIALS_UNREADABLE
    finally:
        await after.client.aclose()
