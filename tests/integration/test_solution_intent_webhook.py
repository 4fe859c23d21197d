"""Meta's account_update PARTNER_ADDED wakes a saga waiting for its solution-migration intent: with the poll a
minute away, the customer's acceptance still moves the number within seconds."""

from __future__ import annotations

import asyncio
import time

import pytest

from deploy.local.stack import APP_SECRET
from sandbox.state import World, read_scenario
from tests.integration.saga_support import start, wait_for
from tests.integration.templates_support import sandbox
from tests.integration.test_solution_intent import customer_answers, paths, wait_for_intent

POLL_SECONDS = 60


async def first_read(world: World, intent_id: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not any(m == "GET" and p.endswith(f"/{intent_id}") for m, p, _ in world.calls):
        assert time.monotonic() < deadline, "numport never read the intent"
        await asyncio.sleep(0.05)


@pytest.fixture
def service_env(service_env: dict[str, str]) -> dict[str, str]:
    return {**service_env, "NUMPORT_OBO_POLL_SECONDS": str(POLL_SECONDS)}


async def test_partner_added_reads_the_intent_at_once(services, eligible_world, sandbox_server):
    eligible_world.load(read_scenario("solution_intent"))
    sandbox(sandbox_server.url, "settings", {"webhook_url": f"{services.url}/webhooks/meta", "app_secret": APP_SECRET})
    try:
        async with services.client() as api:
            migration_id = await start(api)
            intent_id = await wait_for_intent(eligible_world)
            await first_read(eligible_world, intent_id)  # it saw INITIATED; the next poll is a minute away
            accepted_at = time.monotonic()
            await customer_answers(services, intent_id, "accept")
            await wait_for(api, migration_id, "completed", timeout=POLL_SECONDS / 2)
            took = time.monotonic() - accepted_at
            chosen = await paths(api, migration_id)
    finally:
        sandbox(sandbox_server.url, "settings", {"webhook_url": None})
    assert took < POLL_SECONDS / 2
    assert ("solution_intent", "INTENT_ACCEPTED") in chosen
    assert not eligible_world.applied_writes("request_code")
