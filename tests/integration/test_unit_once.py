"""An event's effect as one statement: claimed, written and emitted together, and nothing at all for a duplicate."""

from __future__ import annotations

import pytest

from shared import db
from shared.consumer import ONLY_IF_NEW, Unit
from shared.errors import DuplicateEvent
from tests.factories import migration_requested


async def test_a_duplicate_writes_nothing_and_emits_nothing(clean):
    pool = await db.open_pool(clean.database_url, "testsvc")
    try:
        await pool.execute("CREATE TABLE seen (phone text, n int)")
        event, emitted = migration_requested(), migration_requested()
        unit = Unit(pool, "numport.testsvc", event)
        write = f"INSERT INTO seen SELECT $1::text, $2::int WHERE {ONLY_IF_NEW}"
        await unit.once(write, [event.phone_number, 1], events=[emitted])
        with pytest.raises(DuplicateEvent):
            await unit.once(write, [event.phone_number, 2], events=[migration_requested()])
        assert [tuple(r) for r in await pool.fetch("SELECT * FROM seen")] == [(event.phone_number, 1)]
        assert await pool.fetchval("SELECT array_agg(event_id) FROM outbox") == [emitted.event_id]
        assert await pool.fetchval("SELECT count(*) FROM inbox") == 1
    finally:
        await pool.close()
