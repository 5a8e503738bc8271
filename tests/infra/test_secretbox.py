"""ENCRYPTION_KEY rotation in the SecretBox, and background work that meets a secret no key opens."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet

from bot.infra.scheduler import UNDECRYPTABLE_MAX_BACKOFF_SECONDS, Scheduler
from bot.infra.secretbox import SecretBox, SecretBoxError, UndecryptableSecret
from bot.infra.settings import SettingsError, load_settings

A, B = Fernet.generate_key(), Fernet.generate_key()


def test_the_newest_key_encrypts_and_any_listed_key_decrypts():
    under_a = SecretBox(A).encrypt("ot_pat_ab12_secret")
    both = SecretBox([B, A])
    assert both.decrypt(under_a) == "ot_pat_ab12_secret"
    under_b = both.encrypt("ot_pat_ab12_secret")
    assert SecretBox(B).decrypt(under_b) == "ot_pat_ab12_secret"  # the newest (first) key encrypts
    with pytest.raises(UndecryptableSecret) as caught:
        SecretBox(B).decrypt(under_a)
    assert isinstance(caught.value, SecretBoxError) and "ENCRYPTION_KEY" in str(caught.value)
    assert "secret" not in str(caught.value).replace("ENCRYPTION_KEY", "")  # names no value
    assert "2 key(s)" in repr(both) and A.decode() not in repr(both)


def test_rotate_reseals_under_the_newest_key_and_leaves_current_ones_alone():
    both = SecretBox([B, A])
    fresh = both.rotate(SecretBox(A).encrypt("whsec_x"))
    assert fresh is not None and SecretBox(B).decrypt(fresh) == "whsec_x"
    assert both.rotate(fresh) is None  # already under B: nothing to write
    with pytest.raises(UndecryptableSecret):
        both.rotate(SecretBox(Fernet.generate_key()).encrypt("whsec_x"))


def test_encryption_key_takes_several_comma_separated_keys_newest_first(tmp_path):
    settings = load_settings(encryption_key=f"{B.decode()}, {A.decode()}", data_dir=tmp_path)
    box = SecretBox.from_settings(settings)
    assert box.decrypt(SecretBox(A).encrypt("x")) == "x"
    assert SecretBox(B).decrypt(box.encrypt("x")) == "x"
    with pytest.raises(SettingsError) as caught:
        load_settings(encryption_key=f"{B.decode()},notakey")
    assert "ENCRYPTION_KEY" in str(caught.value) and B.decode() not in str(caught.value)


async def test_background_work_on_an_undecryptable_secret_warns_once_and_backs_off(redis, namespace, clock, caplog):
    scheduler = Scheduler(redis, namespace, clock=clock, failure_retry_seconds=15)
    runs = []

    async def read_ledger(item):
        runs.append(clock())
        SecretBox(B).decrypt(SecretBox(A).encrypt("ot_pat_token"))  # raises UndecryptableSecret

    scheduler.register("ledger", read_ledger)
    await scheduler.schedule("ledger", "T1")
    waits = []
    with caplog.at_level(logging.DEBUG, logger="bot.infra.scheduler"):
        for _ in range(10):
            due = await scheduler.due_at("ledger", "T1")
            clock.advance(max(0.0, due - clock()))
            assert await scheduler.run_once() == 1
            waits.append(await scheduler.due_at("ledger", "T1") - clock())
    assert len(runs) == 10
    records = [r for r in caplog.records if r.name == "bot.infra.scheduler"]
    assert len(records) == 1, caplog.text  # one line for the workspace, not one per pass
    assert records[0].levelno == logging.WARNING and records[0].exc_info is None and "T1" in records[0].getMessage()
    assert "ENCRYPTION_KEY" in records[0].getMessage()
    assert waits[:4] == [15, 30, 60, 120] and waits[-1] == UNDECRYPTABLE_MAX_BACKOFF_SECONDS
