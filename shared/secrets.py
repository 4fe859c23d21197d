"""Secrets at rest and API keys: Fernet encryption keyed from settings, and keys stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken


class Cipher:
    """Encrypts what must be read back later (a two-step PIN, a key shown once); never logs or returns plaintext."""

    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except (ValueError, TypeError):
            raise ValueError("the key must be 32 url-safe base64 bytes, as Fernet.generate_key() makes") from None

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(ciphertext)).decode()
        except InvalidToken:
            raise ValueError("ciphertext does not open with the configured key") from None


def new_encryption_key() -> str:
    return Fernet.generate_key().decode()


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def new_api_key(kind: str, owner: str) -> tuple[str, bytes, str]:
    """(the key to show once, its hash to store, a short prefix to recognise it by); 256 random bits."""
    key = f"{kind}_{owner}_{secrets.token_urlsafe(32)}"
    return key, hash_key(key), key[: len(kind) + len(owner) + 6]
