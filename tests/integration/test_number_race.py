"""One unfinished migration per number across all partners: a second partner cannot take over a number another one
is migrating, however the requests interleave, and learns neither who holds it nor that migration's id."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from services.gateway.commands import TAKEN
from tests.integration.gateway_support import REQUEST

ROUNDS = 20


def number(n: int) -> str:
    return f"+55 11 98765-{n:04d}"


async def test_two_partners_racing_for_a_number_start_exactly_one_migration(gateway_stack, db):
    async with gateway_stack.client(gateway_stack.key_a) as a, gateway_stack.client(gateway_stack.key_b) as b:
        for n in range(ROUNDS):
            body = {**REQUEST, "phone_number": number(n)}
            answers = await asyncio.gather(a.post("/v1/migrations", json=body), b.post("/v1/migrations", json=body))
            assert sorted(r.status_code for r in answers) == [202, 409], [r.text for r in answers]
            winner = (a, b)[[r.status_code for r in answers].index(202)]
            won, lost = sorted(answers, key=lambda r: r.status_code)
            assert lost.json()["error"]["code"] == "number_already_migrating"
            assert lost.json()["error"]["message"] == TAKEN  # the same words whoever holds the number
            for secret in (won.json()["id"], "partner-a", "partner-b"):
                assert secret not in lost.text
            assert (await winner.get(won.json()["url"])).json()["state"] == "requested"  # untouched
    rows = await db.fetch("SELECT phone_number, count(*) FROM gateway.migrations GROUP BY phone_number")
    assert len(rows) == ROUNDS and all(r["count"] == 1 for r in rows)
    assert await db.fetchval("SELECT count(*) FROM gateway.outbox") == ROUNDS


async def test_replays_return_the_original_while_the_other_partner_and_its_batch_are_refused(gateway_stack):
    body, key = {**REQUEST, "phone_number": number(100)}, {"Idempotency-Key": "order-1"}
    async with gateway_stack.client(gateway_stack.key_a) as a, gateway_stack.client(gateway_stack.key_b) as b:
        replays = await asyncio.gather(*(a.post("/v1/migrations", json=body, headers=key) for _ in range(4)))
        assert [r.status_code for r in replays] == [202] * 4, [r.text for r in replays]
        [migration_id] = {r.json()["id"] for r in replays}
        other, replay = await asyncio.gather(b.post("/v1/migrations", json=body),
                                             a.post("/v1/migrations", json=body, headers=key))
        batch = await b.post("/v1/migrations:batch", json={"items": [body, {**body, "phone_number": number(101)}]})
        own = await a.post("/v1/migrations", json=body)  # no key: a second request, which names A's own migration
    assert replay.status_code == 202 and replay.json()["id"] == migration_id
    assert other.status_code == 409 and migration_id not in other.text and "partner-a" not in other.text
    rows = batch.json()["rows"]
    assert [r["status"] for r in rows] == ["rejected", "accepted"]
    assert rows[0]["errors"] == [{"field": "phone_number", "code": "number_already_migrating", "problem": TAKEN}]
    assert migration_id not in batch.text and "partner-a" not in batch.text
    assert own.status_code == 409 and own.json()["error"]["code"] == "number_already_migrating"
    assert migration_id in own.json()["error"]["message"]


async def test_the_database_itself_refuses_a_second_unfinished_migration_of_a_number(gateway_stack, db):
    async with gateway_stack.client(gateway_stack.key_a) as a:
        await a.post("/v1/migrations", json=REQUEST)
    copy = ("INSERT INTO gateway.migrations SELECT gen_random_uuid(), 'partner-b', phone_number, phone_number_typed, "
            "business_id, destination_waba_id, source_waba_id, flow, source, $1, next_action, detail, created_at, "
            "updated_at FROM gateway.migrations")
    with pytest.raises(asyncpg.UniqueViolationError, match="migrations_one_open_per_number"):
        await db.execute(copy, "awaiting_code")
    await db.execute(copy, "failed")  # finished ones may pile up: a number can be migrated again later
