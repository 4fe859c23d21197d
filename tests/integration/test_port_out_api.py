"""`/v1/port-outs` on a running gateway: the number's partner or its customer may start one, others get 404;
Idempotency-Key replays, a second port-out of the number is a 409, a malformed number a 422 naming the field."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

from deploy.local.processes import NUMPORT
from services.gateway.callers import create_customer_at
from tests.integration.billing_support import until
from tests.integration.gateway_support import start_gateway
from tests.integration.port_out_support import (
    CUSTOMER,
    OWNED_NUMBER,
    OWNED_WABA,
    SHARED_NUMBER,
    SHARED_WABA,
    ShiftedClock,
    hold,
    port_out_service,
    scenario,
)


async def test_who_may_start_and_follow_a_port_out(service_env, world, db, clean):
    world.load(scenario())
    stack = await start_gateway(service_env)
    customer_key = await create_customer_at(clean.database_url, "padaria", CUSTOMER)
    try:
        async with port_out_service(service_env, ShiftedClock()), stack.client(stack.key_a) as a, \
                stack.client(stack.key_b) as b, stack.client(customer_key) as customer:
            await hold(clean.kafka_bootstrap, SHARED_NUMBER, SHARED_WABA)
            await hold(clean.kafka_bootstrap, OWNED_NUMBER, OWNED_WABA)
            await until(lambda: _held(db, 2), 20, "partner change to hold both numbers")
            shared = {"phone_number": "+55 11 98765-0001"}
            assert (await b.post("/v1/port-outs", json=shared)).status_code == 404  # another partner's number
            malformed = await a.post("/v1/port-outs", json={"phone_number": "12"})
            assert malformed.status_code == 422
            assert [f["field"] for f in malformed.json()["error"]["fields"]] == ["phone_number"]
            first = await a.post("/v1/port-outs", json=shared, headers={"Idempotency-Key": "k1"})
            assert first.status_code == 202, first.text
            again = await a.post("/v1/port-outs", json=shared, headers={"Idempotency-Key": "k1"})
            assert (again.status_code, again.json()["id"]) == (202, first.json()["id"])
            reused = await a.post("/v1/port-outs", json={"phone_number": OWNED_NUMBER[1]},
                                  headers={"Idempotency-Key": "k1"})
            assert (reused.status_code, reused.json()["error"]["code"]) == (409, "conflict")
            twice = await customer.post("/v1/port-outs", json=shared)
            assert (twice.status_code, twice.json()["error"]["code"]) == (409, "port_out_in_progress")
            url = first.json()["url"]
            assert (await b.get(url)).status_code == 404
            ticket = await _state(customer, url, "awaiting_two_step_off")
            assert ticket["path"] == "operations_ticket" and ticket["ticket"]["topic"] == "2FA disable request"
            owned = await customer.post("/v1/port-outs", json={"phone_number": OWNED_NUMBER[1]})
            assert owned.status_code == 202 and owned.json()["requested_by"] == "customer:padaria"
            steps = await _state(a, owned.json()["url"], "awaiting_two_step_off")
            assert steps["path"] == "customer_switches_off" and "WhatsApp Manager" in steps["next_step"]
            assert {p["id"] for p in (await b.get("/v1/port-outs")).json()["data"]} == set()
            assert len((await customer.get("/v1/port-outs")).json()["data"]) == 2
            shown = await _cli(stack.url, customer_key, "status", first.json()["id"], "--json")
            assert shown.returncode == 0 and json.loads(shown.stdout)["path"] == "operations_ticket"
            refused = await _cli(stack.url, stack.key_b, "start", "--phone", OWNED_NUMBER[1])
            assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "not_found" in refused.stderr
    finally:
        assert stack.gateway.terminate() == 0, stack.gateway.logs()[-3000:]


async def _cli(url: str, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NUMPORT_API_URL": url, "NUMPORT_API_KEY": key}
    return await asyncio.to_thread(subprocess.run, [NUMPORT, "port-out", *args], env=env, capture_output=True,
                                   text=True, timeout=60)


async def _held(db, count: int) -> bool:
    if not await db.fetchval("SELECT to_regclass('partner_change.holdings') IS NOT NULL"):
        return False
    return await db.fetchval("SELECT count(*) FROM partner_change.holdings WHERE held") == count


async def _state(client, url: str, state: str) -> dict:
    found: dict = {}

    async def reached() -> bool:
        nonlocal found
        found = (await client.get(url)).json()
        return found.get("state") == state

    await until(reached, 20, f"{url} to be {state}")
    return found
