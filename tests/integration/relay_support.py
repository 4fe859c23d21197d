"""An outbox relay running over the session's Kafka and PostgreSQL, on a test schema of its own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from shared import db, outbox
from shared.kafka import Producer


@contextlib.asynccontextmanager
async def running_relay(clean: Any, idle: float, **options: Any) -> AsyncIterator[tuple[asyncpg.Pool, outbox.Relay]]:
    """The schema's pool and its relay, listening; drained and stopped on the way out."""
    pool = await db.open_pool(clean.database_url, "testsvc")
    producer = Producer(clean.kafka_bootstrap, client_id="numport-testsvc")
    await producer.start()
    relay = outbox.Relay(pool, producer, "testsvc", 500, idle, clean.database_url, **options)
    running = asyncio.create_task(relay.run())
    try:
        yield pool, relay
    finally:
        await relay.drain()
        await running
        await producer.stop()
        await pool.close()
