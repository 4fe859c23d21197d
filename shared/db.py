"""asyncpg pool bound to one service schema, and versioned SQL migrations applied at start."""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg

RUNTIME_MIGRATIONS = Path(__file__).with_name("migrations")
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def migration_files(*folders: Path) -> list[tuple[str, str]]:
    """(version, sql) pairs: runtime first, then the service's own, each folder in file-name order."""
    found: list[tuple[str, str]] = []
    for folder in folders:
        for path in sorted(folder.glob("*.sql")):
            found.append((f"{folder.parent.name}/{path.stem}", path.read_text()))
    return found


async def migrate(conn: asyncpg.Connection, schema: str, migrations: list[tuple[str, str]]) -> list[str]:
    """Apply what is not yet applied, each in its own transaction, under an advisory lock per schema."""
    if not SCHEMA_NAME.match(schema):
        raise ValueError(f"not a valid schema name: {schema!r}")
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock(hashtext($1))", schema)
    try:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(f"CREATE TABLE IF NOT EXISTS {schema}.schema_migrations "
                           "(version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        done = {r["version"] for r in await conn.fetch(f"SELECT version FROM {schema}.schema_migrations")}
        for version, sql in migrations:
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(f"SET LOCAL search_path TO {schema}")
                await conn.execute(sql)
                await conn.execute(f"INSERT INTO {schema}.schema_migrations (version) VALUES ($1)", version)
            applied_now.append(version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", schema)
    return applied_now


async def open_pool(url: str, schema: str, service_migrations: Path | None = None, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections see the service schema first; migrations are applied before it is returned."""
    folders = [RUNTIME_MIGRATIONS] + ([service_migrations] if service_migrations else [])
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, schema, migration_files(*folders))
    finally:
        await conn.close()
    return await asyncpg.create_pool(url, min_size=1, max_size=max_size, reset=keep_session,
                                     server_settings={"search_path": schema, "application_name": f"numport-{schema}"})


async def keep_session(conn: asyncpg.Connection) -> None:
    """A released connection is not reset: work on this pool leaves no session state behind (locks are
    transaction-level, settings `SET LOCAL`; session-level advisory locks live on registration's lock pool, whose
    connections are closed when an unlock did not complete). asyncpg still rolls back a transaction left open before
    this runs."""
