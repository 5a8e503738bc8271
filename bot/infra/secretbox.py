"""Encryption at rest for OpenTrain credentials kept in Redis.

ENCRYPTION_KEY is one Fernet key, or several separated by commas, newest first: the newest encrypts, any of them
decrypts (`MultiFernet`), so a key can be rotated without downtime (README, "Rotating ENCRYPTION_KEY"). Unset, a
development key is generated once and kept in `<DATA_DIR>/secret.key` (mode 0600), so a local bot can restart
without losing its stored credentials.

A stored secret no configured key can open raises `UndecryptableSecret` (never Fernet's `InvalidToken`): callers
turn it into one plain sentence or a 503, not a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

if TYPE_CHECKING:
    from bot.infra.settings import Settings  # settings imports this module: only for the annotation


class SecretBoxError(RuntimeError):
    pass


class UndecryptableSecret(SecretBoxError):
    """A stored secret that none of the configured ENCRYPTION_KEY keys can decrypt (the key changed without
    rotation). The message names no secret and no key."""


UNDECRYPTABLE = "a stored credential cannot be decrypted with the configured ENCRYPTION_KEY"


def split_keys(value: str) -> list[str]:
    """`"new,old"` -> ["new", "old"]: blanks around commas and empty entries are ignored."""
    return [part.strip() for part in value.split(",") if part.strip()]


class SecretBox:
    def __init__(self, key: bytes | list[bytes]):
        keys = key if isinstance(key, list) else [key]
        if not keys:
            raise ValueError("SecretBox needs at least one key")
        self._fernet = MultiFernet([Fernet(k) for k in keys])
        self._newest = Fernet(keys[0])
        self._key_count = len(keys)

    def __repr__(self) -> str:
        return f"SecretBox(<{self._key_count} key(s) hidden>)"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise UndecryptableSecret(UNDECRYPTABLE) from None

    def rotate(self, ciphertext: str) -> str | None:
        """The same secret sealed under the newest key, or None when it already is (nothing to write).
        Raises UndecryptableSecret when no configured key opens it."""
        token = ciphertext.encode()
        try:
            self._newest.decrypt(token)
            return None
        except InvalidToken:
            pass
        try:
            return self._fernet.rotate(token).decode()
        except InvalidToken:
            raise UndecryptableSecret(UNDECRYPTABLE) from None

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        # Settings has already checked every key (is_fernet_key), so a bad one never gets this far.
        if settings.encryption_key is not None:
            return cls([k.encode() for k in split_keys(settings.encryption_key.get_secret_value())])
        return cls(development_key(Path(settings.data_dir)))


def is_fernet_key(key: str) -> bool:
    try:
        Fernet(key.encode())
    except ValueError:  # bad base64 (binascii.Error is a ValueError) or not 32 bytes
        return False
    return True


def are_fernet_keys(value: str) -> bool:
    """One Fernet key or several, comma-separated (newest first)."""
    keys = split_keys(value)
    return bool(keys) and all(is_fernet_key(k) for k in keys)


def development_key(data_dir: Path) -> bytes:
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
