"""Who holds an API key: a partner (`np_…`), or a customer business (`nc_…`) that reaches only its own WABAs.

Customer keys are made like partner keys: random, shown once, stored only as a SHA-256 hash.
"""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg

from shared import db
from shared.parties import Party
from shared.secrets import new_api_key

CUSTOMER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
BUSINESS_ID = re.compile(r"^[0-9]{1,20}$")


Caller = Party  # the gateway's name for whoever holds the key


async def customer_of_key(pool: asyncpg.Pool, key_hash: bytes) -> Caller | None:
    row = await pool.fetchrow("SELECT c.id, c.business_id FROM customer_keys k JOIN customers c "
                              "ON c.id = k.customer_id WHERE k.key_hash = $1 AND k.revoked_at IS NULL", key_hash)
    return Caller("customer", row["id"], row["business_id"]) if row else None


async def create_customer(pool: asyncpg.Pool, customer_id: str, name: str, business_id: str) -> str:
    """A new customer (or a further key of one) for one business portfolio; returns the key, shown once."""
    if not CUSTOMER_ID.match(customer_id):
        raise ValueError("customer id: 2-63 lowercase letters, digits or dashes")
    if not BUSINESS_ID.match(business_id):
        raise ValueError("business id: Meta's numeric business portfolio id")
    key, digest, prefix = new_api_key("nc", customer_id)
    async with pool.acquire() as conn, conn.transaction():
        owner = await conn.fetchval("INSERT INTO customers (id, name, business_id) VALUES ($1, $2, $3) ON CONFLICT "
                                    "(id) DO UPDATE SET name = customers.name RETURNING business_id",
                                    customer_id, name, business_id)
        if owner != business_id:
            raise ValueError(f"customer {customer_id} belongs to another business portfolio")
        await conn.execute("INSERT INTO customer_keys (key_hash, customer_id, prefix) VALUES ($1, $2, $3)",
                           digest, customer_id, prefix)
    return key


async def create_customer_at(database_url: str, customer_id: str, business_id: str, name: str | None = None) -> str:
    """A customer key straight against the database (CLI, local stack, tests): migrations applied first."""
    pool = await db.open_pool(database_url, "gateway", Path(__file__).with_name("migrations"), 2)
    try:
        return await create_customer(pool, customer_id, name or customer_id.replace("-", " ").title(), business_id)
    finally:
        await pool.close()
