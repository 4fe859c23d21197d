"""One Kafka broker and one PostgreSQL server per test session; state reset between integration tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from deploy.local import infra as local_infra
from deploy.local import kafkaio as kafka
from deploy.local.processes import ThreadedServer
from deploy.local.stack import services_env
from sandbox.app import create_app
from sandbox.state import World, read_scenario

SERVICE_SCHEMAS = ("precheck", "registration", "templates", "billing", "partner_change", "gateway", "testsvc")


@pytest.fixture(scope="session")
def infra() -> Iterator[local_infra.Infra]:
    started = local_infra.start()
    print(f"\ninfra: kafka {started.kafka_bootstrap} ({started.kafka_source}), "
          f"postgres ({started.database_source}), startup {started.startup_seconds}")
    yield started
    started.stop()


@pytest.fixture
async def clean(infra: local_infra.Infra) -> AsyncIterator[local_infra.Infra]:
    """Empty topics, no consumer groups, no service schemas: every integration test starts from nothing."""
    conn = await asyncpg.connect(infra.database_url)
    try:
        for schema in SERVICE_SCHEMAS:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()
    await kafka.reset(infra.kafka_bootstrap)
    yield infra


@pytest.fixture(scope="session")
def world() -> World:
    return World()


@pytest.fixture(scope="session")
def sandbox_server(world: World) -> Iterator[ThreadedServer]:
    with ThreadedServer(create_app(world)) as server:
        yield server


@pytest.fixture
def eligible_world(world: World) -> World:
    world.load(read_scenario("eligible"))
    return world


@pytest.fixture
def service_env(clean: local_infra.Infra, sandbox_server: ThreadedServer) -> dict[str, str]:
    return services_env(clean.kafka_bootstrap, clean.database_url, sandbox_server.url,
                        NUMPORT_GRAPH_TOKEN="sandbox-token-not-a-secret", NUMPORT_CONSUMER_BACKOFF_SECONDS="0.05",
                        NUMPORT_CONSUMER_GROUP_PREFIX=f"test-{uuid.uuid4().hex[:12]}",
                        NUMPORT_OBO_POLL_SECONDS="0.2", NUMPORT_SCHEDULER_TICK_SECONDS="0.1",
                        NUMPORT_GRAPH_MAX_ATTEMPTS="4", NUMPORT_GRAPH_TIMEOUT_SECONDS="2",
                        NUMPORT_GRAPH_SETTLE_MARGIN_SECONDS="1")


@pytest.fixture
async def db(clean: local_infra.Infra) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(clean.database_url)
    yield conn
    await conn.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.fspath) or "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)




@pytest.fixture
async def gateway_stack(service_env: dict[str, str], eligible_world: World):
    from tests.integration.gateway_support import start_gateway

    stack = await start_gateway(service_env)
    yield stack
    assert stack.gateway.terminate() == 0, stack.gateway.logs()[-3000:]



@pytest.fixture
async def services(service_env: dict[str, str], eligible_world: World, tmp_path):
    from tests.integration.gateway_support import start_services

    clock_file = tmp_path / "clock-offset"
    clock_file.write_text("0")
    running = await start_services(service_env, str(clock_file))
    yield running
    running.stop()
