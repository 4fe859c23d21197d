"""The escalation count of examples/postgres.yaml works on real PostgreSQL and shows monitoring a count only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
import yaml

from services.registration.main import SPEC as REGISTRATION
from shared.db import RUNTIME_MIGRATIONS, migrate, migration_files
from tests.deploy.chart import EXAMPLES


def example() -> tuple[list[str], str]:
    """The Cluster's bootstrap SQL, and the query CloudNativePG's exporter runs for the escalation metric."""
    cluster, config = list(yaml.safe_load_all((EXAMPLES / "postgres.yaml").read_text()))
    queries = yaml.safe_load(config["data"]["queries"])
    return cluster["spec"]["bootstrap"]["initdb"]["postInitApplicationSQL"], queries["numport_registration"]["query"]


@pytest.fixture
async def monitored(infra) -> AsyncIterator[tuple[asyncpg.Connection, str]]:
    """A fresh database after the example's bootstrap, and a role in pg_monitor like CloudNativePG's exporter."""
    name, role = f"numport_example_{uuid.uuid4().hex[:8]}", f"metrics_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(infra.database_url)
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.execute(f"CREATE ROLE {role} NOLOGIN IN ROLE pg_monitor")
    conn = await asyncpg.connect(infra.database_url, database=name)
    try:
        for statement in example()[0]:
            await conn.execute(statement)
        yield conn, role
    finally:
        await conn.close()
        await admin.execute(f"DROP DATABASE {name}")
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()


async def scrape(conn: asyncpg.Connection, role: str) -> int:
    async with conn.transaction():
        await conn.execute(f"SET LOCAL ROLE {role}")
        return await conn.fetchval(example()[1])


async def test_escalations_are_counted_for_the_monitoring_role_without_table_access(monitored) -> None:
    conn, role = monitored
    assert await scrape(conn, role) == 0  # before registration first started: no schema yet
    await migrate(conn, "registration", migration_files(RUNTIME_MIGRATIONS, REGISTRATION.migrations))
    now = datetime.now(UTC)
    for escalations in (["NO_CODE_WITHIN_1H"], ["NO_CODE_WITHIN_1H", "SETUP_OVER_1H"], []):
        await conn.execute(
            "INSERT INTO registration.sagas (migration_id, correlation_id, phone_number, partner_id, business_id,"
            " destination_waba_id, flow, source, state, escalations, created_at, updated_at)"
            " VALUES ($1, $1, '+5511987654321', 'p', 'b', 'w', 'programmatic', 'bsp_cloud_api', 'awaiting_code',"
            " $2, $3, $3)", uuid.uuid4(), escalations, now)
    assert await scrape(conn, role) == 3
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with conn.transaction():
            await conn.execute(f"SET LOCAL ROLE {role}")
            await conn.fetch("SELECT phone_number FROM registration.sagas")
