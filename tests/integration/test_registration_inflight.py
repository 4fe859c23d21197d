"""SIGKILL while Meta is still working on a write: received but applied seconds later, or applied with its answer
held back. After the restart Meta has applied each write exactly once and the migration completes; a code entry
whose answer was lost is never counted wrong and never needs a second SMS."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time

import httpx
import pytest

from tests.integration.saga_support import start, state_of

WRITES = ("obo_request", "add_number", "request_code", "verify_code", "register", "credit_line", "subscribe")
TARGETS = {"obo_request": "200000000000002", "credit_line": "200000000000002", "subscribe": "200000000000002"}
NUMBER_ID = "500000000000001"


def arm(sandbox_url: str, operation: str, mode: str) -> None:
    # Meta applies 1.5 s after receipt, or at once with the answer held back 3 s: either way longer than the
    # 1 s Graph timeout these tests give registration, and long enough to kill it meanwhile.
    seconds = 1.5 if mode == "slow_apply" else 3.0
    answer = httpx.post(f"{sandbox_url}/_sandbox/faults",
                        json={"writes": [{"operation": operation, "mode": mode, "seconds": seconds, "times": 1}]})
    assert answer.status_code == 200, answer.text


def in_flight(world, operation: str) -> bool:
    return any(r.operation == operation and r.answered is None for r in world.requests)


async def play_customer(api: httpx.AsyncClient, world, migration_id: str, state: dict) -> None:
    """Accept the OBO request, type the code the phone shows (again, if numport was away), until completed."""
    if state["state"] == "awaiting_obo":
        for request in world.obo_requests.values():
            request.status = "APPROVE"
    if state["state"] == "awaiting_code" and (sms := world.codes.get(NUMBER_ID)) is not None:
        await api.post(f"/v1/migrations/{migration_id}/verification-code", json={"code": sms.value})


@pytest.mark.parametrize("mode", ["slow_apply", "lost_answer"])
@pytest.mark.parametrize("operation", WRITES)
async def test_sigkill_while_meta_is_still_working_on_a_write(operation, mode, service_env, eligible_world,
                                                             sandbox_server, tmp_path):
    from tests.integration.gateway_support import start_services

    if operation == "subscribe":  # another app listens; ours is not subscribed yet, so the saga subscribes it
        eligible_world.wabas["200000000000002"].subscribed_apps = [{"id": "400000000000777", "name": "crm"}]
    arm(sandbox_server.url, operation, mode)
    clock = tmp_path / "clock"
    clock.write_text("0")
    services = await start_services({**service_env, "NUMPORT_GRAPH_TIMEOUT_SECONDS": "1"}, str(clock))
    registration = services.processes["registration"]
    killed = asyncio.Event()

    async def kill_while_in_flight() -> None:
        """Watch Meta apart from the customer: a code entry blocks its caller for as long as Meta holds the write."""
        while not in_flight(eligible_world, operation):
            await asyncio.sleep(0.01)
        registration.kill()  # Meta holds the write; numport dies before hearing how it went
        assert registration.process.returncode == -signal.SIGKILL
        killed.set()
        registration.start()
        await asyncio.to_thread(registration.wait_ready)

    watcher = asyncio.create_task(kill_while_in_flight())
    try:
        async with services.client() as api:
            migration_id = await start(api)
            deadline = time.monotonic() + 90
            while (state := await state_of(api, migration_id))["state"] != "completed":
                assert time.monotonic() < deadline and state["state"] != "failed", state
                if watcher.done():
                    watcher.result()  # a failed kill or restart surfaces here
                with contextlib.suppress(httpx.TransportError):  # registration died under the code entry: type again
                    await play_customer(api, eligible_world, migration_id, state)
                await asyncio.sleep(0.1)
            timeline = (await api.get(f"/v1/migrations/{migration_id}/timeline")).json()["events"]
    finally:
        watcher.cancel()
        services.stop()
        httpx.post(f"{sandbox_server.url}/_sandbox/faults", json={"writes": []})
    assert killed.is_set(), f"{operation} was never seen in flight at Meta"
    target = TARGETS.get(operation, NUMBER_ID)
    assert eligible_world.applied_writes(operation) == {target: 1}
    for other in WRITES:
        assert all(count == 1 for count in eligible_world.applied_writes(other).values()), other
    types = [e["type"] for e in timeline]
    assert "VerificationCodeRejected" not in types
    assert types.count("VerificationCodeRequested") == 1  # no second SMS
