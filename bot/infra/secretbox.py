"""Encryption at rest for OpenTrain credentials kept in Redis.

ENCRYPTION_KEY (a Fernet key) is used when set. Otherwise a development key is generated once and kept in
`<DATA_DIR>/secret.key` (mode 0600), so a local bot can restart without losing its stored credentials.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken

if TYPE_CHECKING:
    from bot.infra.settings import Settings  # settings imports this module: only for the annotation


class SecretBoxError(RuntimeError):
    pass


class SecretBox:
    def __init__(self, key: bytes):
        self._fernet = Fernet(key)

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise SecretBoxError("stored credential cannot be decrypted with the configured ENCRYPTION_KEY") from None

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        # Settings has already checked the key (is_fernet_key), so a bad one never gets this far.
        if settings.encryption_key is not None:
            return cls(settings.encryption_key.get_secret_value().encode())
        return cls(development_key(Path(settings.data_dir)))


def is_fernet_key(key: str) -> bool:
    try:
        Fernet(key.encode())
    except ValueError:  # bad base64 (binascii.Error is a ValueError) or not 32 bytes
        return False
    return True


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
