"""Published outbox rows and inbox marks are deleted once older than the retention; nothing unpublished ever is."""

from __future__ import annotations

import asyncio
import uuid

from shared import db, outbox
from tests.integration.relay_support import running_relay

OLD, RECENT = "now() - interval '9 days'", "now() - interval '1 hour'"


async def test_prune_deletes_only_old_published_rows_and_old_inbox_marks(clean, monkeypatch):
    monkeypatch.setattr(outbox, "PRUNE_ROWS", 3)  # several statements, so the loop is exercised too
    pool = await db.open_pool(clean.database_url, "testsvc")
    try:
        async with pool.acquire() as conn:
            kinds = {"old published": (7, OLD, OLD), "recent published": (2, RECENT, RECENT),
                     "old unpublished": (2, OLD, "NULL")}
            for kind, (count, created, published) in kinds.items():
                for _ in range(count):
                    await conn.execute(
                        "INSERT INTO outbox (event_id, topic, key, payload, created_at, published_at) "
                        f"VALUES ($1, $2, 'k', 'p', {created}, {published})", uuid.uuid4(), kind)
            for processed, count in ((OLD, 8), (RECENT, 2)):
                for _ in range(count):
                    await conn.execute("INSERT INTO inbox (consumer, event_id, processed_at) "
                                       f"VALUES ('c', $1, {processed})", uuid.uuid4())

            assert await outbox.prune(conn, retention_hours=192) == (7, 8)

            left = dict(await conn.fetch("SELECT topic, count(*) FROM outbox GROUP BY topic"))
            assert left == {"recent published": 2, "old unpublished": 2}
            assert await conn.fetchval("SELECT count(*) FROM inbox") == 2
            assert await outbox.prune(conn, retention_hours=192) == (0, 0)
            assert await outbox.prune(conn, retention_hours=0.5) == (2, 2)  # an hour old is past half an hour
    finally:
        await pool.close()


async def test_a_running_relay_prunes(clean):
    pool = await db.open_pool(clean.database_url, "testsvc")
    try:
        await pool.execute("INSERT INTO outbox (event_id, topic, key, payload, created_at, published_at) "
                           f"VALUES ($1, 'old', 'k', 'p', {OLD}, {OLD})", uuid.uuid4())
    finally:
        await pool.close()
    async with running_relay(clean, 30.0, retention_hours=192) as (pool, _):
        for _ in range(50):
            if not await pool.fetchval("SELECT count(*) FROM outbox"):
                break
            await asyncio.sleep(0.1)
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
