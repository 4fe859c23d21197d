"""Transactional outbox and consumer inbox: state, outgoing events and processed-event marks commit together."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Iterable

import asyncpg

from shared import failpoints, request_log, tracing
from shared.events import Event, dump_event
from shared.kafka import Producer
from shared.metrics import OUTBOX_AGE, OUTBOX_PENDING, OUTBOX_PUBLISHED
from shared.topics import topic_of

log = logging.getLogger("numport.outbox")


def headers(event: Event, traceparent: str | None) -> str:
    """The record's headers: its type and version, and the trace it continues (the span that emitted it)."""
    found = {"event_type": event.type, "schema_version": str(event.schema_version)}
    return json.dumps({**found, "traceparent": traceparent} if traceparent else found)


async def append(conn: asyncpg.Connection, events: Iterable[Event]) -> None:
    """Queue events for publication inside the caller's transaction; a re-emitted event id is a no-op."""
    events, trace = list(events), tracing.traceparent()
    rows = [(e.event_id, topic_of(e).name, e.phone_number.encode(), headers(e, trace), dump_event(e)) for e in events]
    if len(migrations := {e.correlation_id for e in events}) == 1:
        request_log.note(correlation_id=str(migrations.pop()))  # the request that started it logs its id
    await conn.executemany(
        "INSERT INTO outbox (event_id, topic, key, headers, payload) VALUES ($1, $2, $3, $4::jsonb, $5) "
        "ON CONFLICT (event_id) DO NOTHING", rows)


async def claim(conn: asyncpg.Connection, consumer: str, event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Mark events processed by `consumer`; returns the ids that were new (the rest are duplicates)."""
    rows = await conn.fetch(
        "INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING "
        "RETURNING event_id", consumer, event_ids)
    return {r["event_id"] for r in rows}


async def seen(pool: asyncpg.Pool, consumer: str, event_id: uuid.UUID) -> bool:
    return bool(await pool.fetchval("SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2", consumer, event_id))


class Relay:
    """Publishes outbox rows in commit order; one relay per schema at a time (advisory lock) keeps key order."""

    def __init__(self, pool: asyncpg.Pool, producer: Producer, service: str, batch_size: int, idle: float) -> None:
        self.pool, self.producer, self.service = pool, producer, service
        self.batch_size, self.idle = batch_size, idle
        self._stopping = asyncio.Event()
        self.oldest: float | None = None  # creation time of the oldest row known to wait, while one does
        OUTBOX_AGE.labels(service).set_function(lambda: time.time() - self.oldest if self.oldest else 0.0)

    async def publish_batch(self) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext('relay:' || current_schema()))"):
                return 0
            rows = await conn.fetch(
                "SELECT id, topic, key, headers, payload, created_at FROM outbox WHERE published_at IS NULL "
                "ORDER BY id LIMIT $1", self.batch_size)
            if not rows:
                OUTBOX_PENDING.labels(self.service).set(0)
                self.oldest = None
                return 0
            self.oldest = rows[0]["created_at"].timestamp()
            failpoints.hit("relay.before_publish")
            await self.producer.send_all(
                (r["topic"], r["key"], r["payload"], json.loads(r["headers"])) for r in rows)
            failpoints.hit("relay.after_publish")
            await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
                               [r["id"] for r in rows])
        OUTBOX_PUBLISHED.labels(self.service).inc(len(rows))
        if len(rows) < self.batch_size:
            self.oldest = None
        return len(rows)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                published = await self.publish_batch()
            except Exception as exc:  # Kafka or PostgreSQL away: rows stay queued, try again
                log.warning("outbox relay pass failed, will retry", extra={"error": repr(exc)})
                published = 0
                await asyncio.sleep(1.0)
            if published < self.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.idle)

    async def drain(self) -> None:
        """Publish what is left, then stop the loop (graceful shutdown)."""
        while await self.publish_batch():
            pass
        self._stopping.set()
