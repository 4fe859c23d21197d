"""A commit that queues outbox rows wakes the relay at once; its poll is only the fallback for a lost notification."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from deploy.local import kafkaio as kafka
from shared import db, outbox
from shared.topics import MIGRATION_REQUESTS
from tests.factories import migration_requested
from tests.integration.relay_support import running_relay

FALLBACK_SECONDS = 30.0  # far longer than the test may take: only the notification can explain a prompt publish


async def test_a_commit_that_queues_events_wakes_its_relay(clean):
    async with running_relay(clean, FALLBACK_SECONDS) as (pool, _):
        await asyncio.sleep(1.0)  # the relay's first pass found nothing; it now waits for a commit
        event = migration_requested()
        started = time.monotonic()
        async with pool.acquire() as conn, conn.transaction():
            await outbox.append(conn, [event])
        published = await kafka.read(clean.kafka_bootstrap, MIGRATION_REQUESTS.name, timeout=10.0)
        assert [r.key for r in published] == [event.phone_number.encode()]
        assert time.monotonic() - started < 5.0
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


async def _relay_backend(pool, since: float, timeout: float, other_than: int | None = None) -> int:
    """The pid of the relay's connection once it listens (a new one, given `other_than`): killed before its LISTEN
    completed, the relay would poll (in `idle` seconds) instead of being woken."""
    while time.monotonic() - since < timeout:
        pid = await pool.fetchval("SELECT pid FROM pg_stat_activity WHERE application_name = 'numport-testsvc-relay' "
                                  "AND state = 'idle' AND query LIKE 'LISTEN%' AND pid IS DISTINCT FROM $1",
                                  other_than)
        if pid is not None:
            return pid
        await asyncio.sleep(0.05)
    raise AssertionError(f"no (new) listening connection of the relay within {timeout} s")


async def test_a_relay_whose_listening_connection_dies_listens_again_at_once_and_misses_no_commit(clean):
    async with running_relay(clean, FALLBACK_SECONDS, listening=FALLBACK_SECONDS) as (pool, _):
        first = await _relay_backend(pool, time.monotonic(), 10.0)
        started = time.monotonic()
        assert await pool.fetchval("SELECT pg_terminate_backend($1)", first)
        await _relay_backend(pool, started, 5.0, other_than=first)  # woken by the loss, not by a poll 30 s away
        event = migration_requested()
        async with pool.acquire() as conn, conn.transaction():
            await outbox.append(conn, [event])
        published = await kafka.read(clean.kafka_bootstrap, MIGRATION_REQUESTS.name, timeout=10.0)
        assert [r.key for r in published] == [event.phone_number.encode()]
        assert time.monotonic() - started < 8.0


async def test_partner_change_and_port_out_tables_wake_their_loops_at_commit(clean):
    """The transfer loop and the port-out watch sleep up to the fallback; a commit that may give them work (a change
    approved, a check moved) notifies their channel, and only at commit."""
    from pathlib import Path

    import services.partner_change

    pool = await db.open_pool(clean.database_url, "partner_change", Path(services.partner_change.__file__).parent /
                              "migrations")
    heard: list[str] = []
    listener = await asyncpg.connect(clean.database_url)
    try:
        for channel in ("partner_change_work", "port_out_work"):
            await listener.add_listener(channel, lambda _c, _p, name, _payload: heard.append(name))
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO changes (id, waba_id, business_id, customer_id, phone_numbers, source_partner, "
                "destination_partner, state, payment_method_required, approval, legal_name, country, requested_at, "
                "updated_at) VALUES (gen_random_uuid(), 'w1', 'b1', 'c1', '{}', 'p1', 'p2', 'approved', false, "
                "'automatic', 'L', 'DE', now(), now())")
            await conn.execute(
                "INSERT INTO port_outs (id, phone_number, phone_number_id, waba_id, partner_id, requested_by, "
                "requested_at, ownership, path, state, steps, next_check_at, updated_at) VALUES (gen_random_uuid(), "
                "'+4915100000001', '5100', 'w1', 'p1', 'c1', now(), 'owned', 'customer', 'open', '[]', now(), now())")
            await asyncio.sleep(0.3)
            assert heard == []  # nothing before the commit: the loop would look before the row is visible
        for _ in range(50):
            if sorted(set(heard)) == ["partner_change_work", "port_out_work"]:
                break
            await asyncio.sleep(0.05)
        assert sorted(set(heard)) == ["partner_change_work", "port_out_work"]
    finally:
        await listener.close()
        await pool.close()
