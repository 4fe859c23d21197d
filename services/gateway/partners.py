"""Partner API keys: random, shown once, stored only as a SHA-256 hash (keys are 256-bit random, not passwords)."""

from __future__ import annotations

import re

import asyncpg

from services.gateway import repository
from shared.secrets import new_api_key

PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class PartnerExists(ValueError):
    """The id is taken: a second partner under it would share the first one's migrations."""


async def create_partner(pool: asyncpg.Pool, partner_id: str, name: str, add_key: bool = False) -> str:
    """A new partner and its first key; with `add_key`, another key for an existing partner (rotation)."""
    if not PARTNER_ID.match(partner_id):
        raise ValueError("partner id: 2-63 lowercase letters, digits or dashes")
    key, digest, prefix = new_api_key("np", partner_id)
    async with pool.acquire() as conn, conn.transaction():
        if not await repository.add_partner(conn, partner_id, name, digest, prefix) and not add_key:
            raise PartnerExists(f"partner {partner_id} exists already; to give it another API key, "
                                "run the same command with --add-key")  # raised inside: the key is rolled back
    return key


async def create_partners_at(database_url: str, *partner_ids: str, names: dict[str, str] | None = None,
                             add_key: bool = False) -> list[str]:
    """Keys for new partners, straight against the database (CLI, local stack, tests): migrations applied first."""
    from pathlib import Path

    from shared import db

    pool = await db.open_pool(database_url, "gateway", Path(__file__).with_name("migrations"), 2)
    try:
        return [await create_partner(pool, p, (names or {}).get(p) or p.replace("-", " ").title(), add_key)
                for p in partner_ids]
    finally:
        await pool.close()
