"""A saga step's result is one statement that also returns the saga for the next step. What it returns must be what
a fresh read shows, above all a write still in flight (a step that missed one would send it again), and its timers,
events and the relay's wake-up must all take effect."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from services.registration import step_writes, steps
from services.registration.main import SPEC
from shared import db
from shared import events as ev

T0 = datetime(2026, 11, 24, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def saga_in(pool: asyncpg.Pool, state: str) -> uuid.UUID:
    migration_id = uuid.uuid4()
    await pool.execute("INSERT INTO sagas (migration_id, correlation_id, phone_number, partner_id, business_id, "
                       "destination_waba_id, flow, source, state, created_at, updated_at) VALUES ($1, $1, "
                       "'+4915100000000', 'p', 'b', 'w', 'programmatic', 'bsp_cloud_api', $2, $3, $3)",
                       migration_id, state, T0)
    return migration_id


async def test_the_carried_saga_is_a_fresh_read_with_the_next_write_in_flight(clean):
    pool = await db.open_pool(clean.database_url, "registration", SPEC.migrations, 2)
    try:
        migration_id = await saga_in(pool, "add_number")
        await step_writes.record_sent(pool, migration_id, "request_code", at(0))  # a crash left it unanswered
        await step_writes.record_sent(pool, migration_id, "add_number", at(1))
        carried = await step_writes.apply(pool, migration_id, "add_number", at(2),
                                          {"state": "request_code", "phone_number_id": "51"}, [], {}, ("advance",))
        assert carried is not None
        assert (carried[0].state, carried[0].phone_number_id, carried[1]) == ("request_code", "51", at(0))
        assert carried == await step_writes.load_running(pool, migration_id)

        await step_writes.record_sent(pool, migration_id, "request_code", at(3))
        stayed = await step_writes.apply(pool, migration_id, "request_code", at(4), {"state": "request_code"}, [], {},
                                         ("advance",))
        assert stayed is not None and stayed[1] is None  # this statement settled every open attempt of the step
        assert stayed == await step_writes.load_running(pool, migration_id)
        rows = await pool.fetch("SELECT step, attempt, outcome FROM step_attempts ORDER BY step, attempt")
        assert [tuple(r) for r in rows] == [("add_number", 1, "done"), ("request_code", 1, "done"),
                                            ("request_code", 2, "done")]
    finally:
        await pool.close()


async def test_timers_events_and_the_relays_wakeup_take_effect(clean):
    pool = await db.open_pool(clean.database_url, "registration", SPEC.migrations, 2)
    listener = await asyncpg.connect(clean.database_url)
    woken: list[str] = []
    await listener.add_listener("outbox_registration", lambda *args: woken.append(args[2]))
    try:
        migration_id = await saga_in(pool, "obo")
        await pool.execute("INSERT INTO timers (migration_id, kind, due_at) VALUES ($1, 'obo_expiry', $2)",
                           migration_id, at(0))
        saga = (await step_writes.load_running(pool, migration_id))[0]
        requested = steps.event(ev.OboRequested, saga, at(1), obo_request_id="9", destination_waba_id="w")
        for _ in range(2):  # the event re-emitted: still one row
            await step_writes.apply(pool, migration_id, "obo", at(1), {"state": "awaiting_obo"}, [requested],
                                    {"obo_poll": at(5), "advance": at(6)}, ("advance", "obo_expiry"))
        timers = await pool.fetch("SELECT kind, due_at FROM timers ORDER BY kind")
        assert [tuple(r) for r in timers] == [("obo_poll", at(5))]  # a kind both set and cleared ends cleared
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE event_id = $1", requested.event_id) == 1
        deadline = time.monotonic() + 5
        while not woken and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert woken
    finally:
        await listener.close()
        await pool.close()
