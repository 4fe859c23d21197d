"""Driving migrations as the customer would: accept the OBO request, read the SMS, enter the code."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from sandbox.state import World
from tests.integration.gateway_support import REQUEST


async def start(api: httpx.AsyncClient, **changes: Any) -> str:
    created = await api.post("/v1/migrations", json={**REQUEST, **changes})
    assert created.status_code == 202, created.text
    return created.json()["id"]


async def state_of(api: httpx.AsyncClient, migration_id: str) -> dict[str, Any]:
    return (await api.get(f"/v1/migrations/{migration_id}")).json()


async def wait_for(api: httpx.AsyncClient, migration_id: str, *states: str, timeout: float = 45) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    current: dict[str, Any] = {}
    while time.monotonic() < deadline:
        current = await state_of(api, migration_id)
        if current["state"] in states:
            return current
        await asyncio.sleep(0.1)
    raise AssertionError(f"migration {migration_id} stayed {current.get('state')}, expected {states}: {current}")


def accept_obo(world: World, waba_id: str = "200000000000002") -> None:
    for request in world.obo_requests.values():
        if request.waba_id == waba_id:
            request.status = "APPROVE"


async def enter_code(api: httpx.AsyncClient, world: World, migration_id: str, number_id: str) -> httpx.Response:
    code = world.codes[number_id].value
    return await api.post(f"/v1/migrations/{migration_id}/verification-code", json={"code": code})


async def migrate_fully(api: httpx.AsyncClient, world: World, migration_id: str) -> dict[str, Any]:
    """The customer's part: accept the OBO request, then type the code the phone shows."""
    waiting = await wait_for(api, migration_id, "awaiting_obo", "awaiting_code", "completed")
    if waiting["state"] == "awaiting_obo":
        accept_obo(world, waiting["destination_waba_id"])
        waiting = await wait_for(api, migration_id, "awaiting_code", "completed")
    if waiting["state"] == "awaiting_code":
        entered = await enter_code(api, world, migration_id, waiting["detail"]["phone_number_id"])
        assert entered.status_code == 200, entered.text
    return await wait_for(api, migration_id, "completed")


async def until_code(api: httpx.AsyncClient, world: World, migration_id: str) -> str:
    """Accept the OBO request, wait for the code to be sent, and return what the phone shows."""
    await wait_for(api, migration_id, "awaiting_obo")
    accept_obo(world)
    waiting = await wait_for(api, migration_id, "awaiting_code")
    return world.codes[waiting["detail"]["phone_number_id"]].value
