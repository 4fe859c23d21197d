"""SIGKILL at every step boundary of the saga: after a restart the migration completes, Meta saw each write once."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from deploy.local import kafkaio as kafka
from shared import topics
from shared.events import parse_event
from tests.integration.saga_support import start, state_of

BOUNDARIES = [f"registration.{when}.{step}" for step in ("obo", "add_number", "request_code", "register",
                                                          "credit_line") for when in ("before_send", "after_send")]


async def drive_through_crash(api: httpx.AsyncClient, world, services, migration_id: str, timeout: float = 60) -> int:
    """Play the customer while the registration process dies once; restart it like an orchestrator would."""
    registration, kills, deadline = services.processes["registration"], 0, time.monotonic() + timeout
    entered = False
    while time.monotonic() < deadline:
        if registration.process.poll() is not None:
            assert registration.process.returncode == -signal.SIGKILL, registration.logs()[-2000:]
            kills += 1
            registration.start(NUMPORT_FAILPOINTS="")  # same service, no failpoint this time
            registration.wait_ready()
        current = await state_of(api, migration_id)
        if current["state"] == "awaiting_obo":
            for request in world.obo_requests.values():
                request.status = "APPROVE"
        if current["state"] == "awaiting_code" and not entered:
            sms = world.codes.get(current["detail"]["phone_number_id"])
            if sms is None:  # the crash came before Meta sent the code: the customer asks for another one
                await api.post(f"/v1/migrations/{migration_id}/verification-code:resend", json={"method": "SMS"})
                continue
            entered = (await api.post(f"/v1/migrations/{migration_id}/verification-code",
                                      json={"code": sms.value})).status_code == 200
        if current["state"] == "completed":
            return kills
        await asyncio.sleep(0.1)
    raise AssertionError(f"stuck in {current['state']}")


@pytest.mark.parametrize("failpoint", BOUNDARIES)
async def test_saga_survives_sigkill_at_each_step_boundary(failpoint, service_env, eligible_world, tmp_path):
    from tests.integration.gateway_support import start_services

    clock = tmp_path / "clock"
    clock.write_text("0")
    services = await start_services(service_env, str(clock), NUMPORT_FAILPOINTS=failpoint)
    try:
        async with services.client() as api:
            migration_id = await start(api)
            kills = await drive_through_crash(api, eligible_world, services, migration_id)
    finally:
        services.stop()
    assert kills == 1, f"the failpoint {failpoint} never fired"
    assert eligible_world.succeeded("POST", "/phone_numbers") == 1
    assert eligible_world.succeeded("POST", "/register") == 1
    assert eligible_world.succeeded("POST", "/in_progress_onbehalf_request") == 1
    records = await kafka.read(service_env["NUMPORT_KAFKA_BOOTSTRAP"], topics.REGISTRATION_EVENTS.name, settle=0.5,
                               until=lambda rs: any(parse_event(r.value).type == "MigrationCompleted" for r in rs))
    # The relay may resend a row if the kill lands between its send and its mark (at least once on the wire);
    # consumers deduplicate by event id, so what any downstream consumer sees is the distinct ids.
    registered = {e.event_id for e in map(parse_event, (r.value for r in records)) if e.type == "PhoneRegistered"}
    assert len(registered) == 1
