"""Partner API keys: random, shown once, stored only as a SHA-256 hash (keys are 256-bit random, not passwords)."""

from __future__ import annotations

import hashlib
import re
import secrets

import asyncpg

from services.gateway import repository

PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def new_key(partner_id: str) -> tuple[str, bytes, str]:
    """(the key to show once, its hash to store, a short prefix to recognise it by)."""
    key = f"np_{partner_id}_{secrets.token_urlsafe(32)}"
    return key, hash_key(key), key[: len(partner_id) + 8]


async def create_partner(pool: asyncpg.Pool, partner_id: str, name: str) -> str:
    if not PARTNER_ID.match(partner_id):
        raise ValueError("partner id: 2-63 lowercase letters, digits or dashes")
    key, digest, prefix = new_key(partner_id)
    async with pool.acquire() as conn, conn.transaction():
        await repository.add_partner(conn, partner_id, name, digest, prefix)
    return key
