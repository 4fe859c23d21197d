"""Numbers of one WABA migrate strictly one after another; different WABAs migrate side by side."""

from __future__ import annotations

import asyncio
import time

from sandbox.state import read_scenario
from tests.integration.gateway_support import REQUEST
from tests.integration.saga_support import state_of

ONE_WABA = [f"+55 11 91111-000{i}" for i in range(1, 6)]
OTHERS = [("+55 21 92222-0001", "2"), ("+55 31 93333-0001", "3"), ("+55 41 94444-0001", "4")]


def request(phone: str, customer: str) -> dict:
    return {**REQUEST, "phone_number": phone, "business_id": f"10000000000000{customer}",
            "source_waba_id": f"21000000000000{customer}", "destination_waba_id": f"22000000000000{customer}"}


async def test_one_waba_in_sequence_other_wabas_in_parallel(services, eligible_world):
    eligible_world.load(read_scenario("sequencing"))
    rows = [request(p, "1") for p in ONE_WABA] + [request(p, c) for p, c in OTHERS]
    async with services.client() as api:
        batch = (await api.post("/v1/migrations:batch", json={"items": rows})).json()
        ids = [r["migration"]["id"] for r in batch["rows"]]
        assert [r["queue_position"] for r in batch["rows"]] == [1, 2, 3, 4, 5, 1, 1, 1]
        deadline, done = time.monotonic() + 120, set()
        while len(done) < len(ids) and time.monotonic() < deadline:  # the customers type each code they receive
            for migration_id in set(ids) - done:
                current = await state_of(api, migration_id)
                if current["state"] == "completed":
                    done.add(migration_id)
                elif current["state"] == "awaiting_code":
                    sms = eligible_world.codes.get(current["detail"]["phone_number_id"])
                    if sms:
                        await api.post(f"/v1/migrations/{migration_id}/verification-code", json={"code": sms.value})
            await asyncio.sleep(0.1)
        assert len(done) == len(ids)
        spans, positions = {}, {}
        for migration_id in ids:
            events = (await api.get(f"/v1/migrations/{migration_id}/timeline")).json()["events"]
            times = {e["type"]: e["occurred_at"] for e in events}
            spans[migration_id] = (times["OboRequested"], times["MigrationCompleted"])
            positions[migration_id] = next(e["payload"]["position"] for e in events if e["type"] == "MigrationQueued")
    sequence = sorted(spans[i] for i in ids[:5])
    assert all(earlier[1] <= later[0] for earlier, later in zip(sequence, sequence[1:], strict=False)), sequence
    assert all(1 <= positions[i] <= 5 for i in ids[:5]) and all(positions[i] == 1 for i in ids[5:])
    first_of_waba = min(spans[i] for i in ids[:5])
    assert any(spans[i][0] < first_of_waba[1] for i in ids[5:]), "other WABAs should not wait for this one"
