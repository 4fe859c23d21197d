"""Replicas and services starting together on one empty database apply each schema migration exactly once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg

from deploy.local.processes import ServiceProcess
from services.gateway.main import SPEC as GATEWAY
from services.precheck.main import SPEC as PRECHECK
from services.registration.main import SPEC as REGISTRATION
from shared.db import RUNTIME_MIGRATIONS, migrate, migration_files, open_pool

SCHEMA = "testsvc"  # dropped before each test by the `clean` fixture


def slow_migrations(tmp_path: Path) -> Path:
    """Two migrations that would leave two rows per run: the first holds its transaction long enough to overlap."""
    folder = tmp_path / SCHEMA / "migrations"
    folder.mkdir(parents=True)
    (folder / "0001_slow.sql").write_text("CREATE TABLE runs (migration text NOT NULL);\n"
                                          "SELECT pg_sleep(0.4);\nINSERT INTO runs VALUES ('0001');\n")
    (folder / "0002_next.sql").write_text("INSERT INTO runs VALUES ('0002');\n")
    return folder


async def migrate_alone(url: str, migrations: list[tuple[str, str]]) -> tuple[float, list[str]]:
    """One replica's start: its own connection, the shared migration step; when it began and what it applied."""
    conn = await asyncpg.connect(url)
    try:
        return time.monotonic(), await migrate(conn, SCHEMA, migrations)
    finally:
        await conn.close()


async def versions(conn: asyncpg.Connection, schema: str) -> list[str]:
    return [r["version"] for r in await conn.fetch(f"SELECT version FROM {schema}.schema_migrations ORDER BY 1")]


async def test_four_replicas_at_once_apply_each_migration_once(clean, db: asyncpg.Connection, tmp_path: Path) -> None:
    migrations = migration_files(RUNTIME_MIGRATIONS, slow_migrations(tmp_path))
    started = time.monotonic()
    results = await asyncio.gather(*(migrate_alone(clean.database_url, migrations) for _ in range(4)))
    assert max(began for began, _ in results) - started < 0.4, "the replicas did not start together"
    applied = sorted(len(done) for _, done in results)
    assert applied == [0, 0, 0, len(migrations)]  # one replica applied everything, the others waited and found it
    assert await versions(db, SCHEMA) == sorted(version for version, _ in migrations)
    assert [r["migration"] for r in await db.fetch(f"SELECT migration FROM {SCHEMA}.runs ORDER BY 1")] == [
        "0001", "0002"]


async def test_services_at_once_on_an_empty_database_each_get_their_schema_once(clean, db: asyncpg.Connection) -> None:
    specs = (GATEWAY, PRECHECK, REGISTRATION) * 2  # two replicas of each, opening their pools side by side
    pools = await asyncio.gather(*(open_pool(clean.database_url, s.name, s.migrations, 2) for s in specs))
    await asyncio.gather(*(pool.close() for pool in pools))
    for spec in (GATEWAY, PRECHECK, REGISTRATION):
        expected = sorted(v for v, _ in migration_files(RUNTIME_MIGRATIONS, spec.migrations))
        assert await versions(db, spec.name) == expected, spec.name


async def test_two_registration_processes_started_together(service_env: dict[str, str], db: asyncpg.Connection,
                                                           eligible_world) -> None:
    replicas = [ServiceProcess("registration", service_env).start() for _ in range(2)]
    try:
        for replica in replicas:
            await asyncio.to_thread(replica.wait_ready)
        expected = sorted(v for v, _ in migration_files(RUNTIME_MIGRATIONS, REGISTRATION.migrations))
        assert await versions(db, "registration") == expected
    finally:
        assert [replica.terminate() for replica in replicas] == [0, 0]
