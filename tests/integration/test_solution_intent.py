"""The no-code path end to end: a qualifying number moves by Meta's solution-migration intent with no code and no
downtime; a non-qualifying one, or one whose intent the customer rejects, takes the code path."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from sandbox.state import World, read_scenario
from tests.integration.saga_support import migrate_fully, start, wait_for

NUMBER = "500000000000001"


async def wait_for_intent(world: World, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if world.intents:
            return next(iter(world.intents))
        await asyncio.sleep(0.05)
    raise AssertionError("numport never set a solution-migration intent")


async def customer_answers(services: Any, intent_id: str, decision: str) -> None:
    """The customer, in Business settings › Requests; accepting makes Meta send account_update PARTNER_ADDED."""
    async with httpx.AsyncClient(base_url=services.processes["gateway"].env["NUMPORT_GRAPH_BASE_URL"]) as sandbox:
        answered = await sandbox.post(f"/_sandbox/intents/{intent_id}/{decision}")
        assert answered.status_code == 200, answered.text


async def paths(api: httpx.AsyncClient, migration_id: str) -> list[tuple[str, str]]:
    timeline = (await api.get(f"/v1/migrations/{migration_id}/timeline")).json()["events"]
    return [(e["payload"]["path"], e["payload"]["reason_code"]) for e in timeline if e["type"] == "MigrationPathChosen"]


async def watch_number(world: World, migration_id: str, api: httpx.AsyncClient, seen: set[tuple[str, str]]) -> None:
    """Sample the number as Meta serves it until the migration completes: whether it ever stopped serving."""
    while (await api.get(f"/v1/migrations/{migration_id}")).json()["state"] != "completed":
        number = world.numbers[NUMBER]
        seen.add((number.status, number.code_verification_status))
        await asyncio.sleep(0.02)


async def test_a_qualifying_number_moves_with_no_code_and_no_downtime(services, eligible_world):
    eligible_world.load(read_scenario("solution_intent"))
    seen: set[tuple[str, str]] = set()
    async with services.client() as api:
        migration_id = await start(api)
        watcher = asyncio.create_task(watch_number(eligible_world, migration_id, api, seen))
        intent_id = await wait_for_intent(eligible_world)
        waiting = await wait_for(api, migration_id, "awaiting_intent")
        await customer_answers(services, intent_id, "accept")
        done = await wait_for(api, migration_id, "completed")
        await watcher
        chosen = await paths(api, migration_id)
        timeline = [e["type"] for e in (await api.get(f"/v1/migrations/{migration_id}/timeline")).json()["events"]]
    number = eligible_world.numbers[NUMBER]
    assert (number.waba_id, number.status) == ("200000000000002", "CONNECTED")
    assert not eligible_world.applied_writes("request_code") and not eligible_world.applied_writes("verify_code")
    assert eligible_world.applied_writes("migration_intent") == {"200000000000001": 1}
    assert seen == {("CONNECTED", "VERIFIED")}  # served all along; never waiting for an ownership code
    assert chosen == [("solution_intent", "QUALIFIES"), ("solution_intent", "INTENT_SET"),
                      ("solution_intent", "INTENT_ACCEPTED")]
    assert "PhoneRegistered" in timeline and "VerificationCodeRequested" not in timeline
    assert "OboRequested" not in timeline
    assert done["detail"]["phone_number_id"] == NUMBER
    assert "migration intent" in waiting["next_action"] and waiting["detail"]["migration_intent_id"] == intent_id


async def test_a_number_that_does_not_qualify_takes_the_code_path(services, eligible_world):
    async with services.client() as api:
        migration_id = await start(api)
        await migrate_fully(api, eligible_world, migration_id)
        chosen = await paths(api, migration_id)
    assert chosen == [("pin", "DIFFERENT_PORTFOLIO")]
    assert eligible_world.applied_writes("request_code") == {NUMBER: 1}
    assert not eligible_world.intents and not eligible_world.applied_writes("migration_intent")


async def test_a_rejected_intent_falls_back_to_the_code_path(services, eligible_world):
    eligible_world.load(read_scenario("solution_intent"))
    async with services.client() as api:
        migration_id = await start(api)
        await customer_answers(services, await wait_for_intent(eligible_world), "reject")
        await migrate_fully(api, eligible_world, migration_id)
        chosen = await paths(api, migration_id)
    assert chosen == [("solution_intent", "QUALIFIES"), ("solution_intent", "INTENT_SET"), ("pin", "INTENT_REJECTED")]
    assert eligible_world.applied_writes("request_code") == {NUMBER: 1}
    assert eligible_world.numbers[NUMBER].waba_id == "200000000000002"
