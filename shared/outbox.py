"""Transactional outbox and consumer inbox: state, outgoing events and processed-event marks commit together."""

from __future__ import annotations

import asyncio
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
from shared.wakeup import Wakeup

log = logging.getLogger("numport.outbox")


def headers(event: Event, traceparent: str | None) -> str:
    """The record's headers: its type and version, and the trace it continues (the span that emitted it)."""
    found = {"event_type": event.type, "schema_version": str(event.schema_version)}
    return json.dumps({**found, "traceparent": traceparent} if traceparent else found)


async def append(conn: asyncpg.Connection, events: Iterable[Event]) -> None:
    """Queue events for publication inside the caller's transaction; a re-emitted event id is a no-op.

    One statement: the rows, and a notification to the schema's relay that PostgreSQL delivers at commit."""
    if events := list(events):
        sql, args = queued(events, first=1)
        await conn.execute(f"WITH {sql} SELECT count(*) FROM notified", *args)


def queued(events: list[Event], first: int, only_if: str = "true") -> tuple[str, list[list]]:
    """`append` as two CTEs, for a caller that writes its state and its events in one statement (no BEGIN/COMMIT):
    `queued` inserts the rows (when `only_if` holds), `notified` wakes the relay at commit. The caller's statement
    must read `notified` (PostgreSQL skips a SELECT CTE nobody reads). Parameters are numbered from `first`."""
    trace = tracing.traceparent()
    if len(migrations := {e.correlation_id for e in events}) == 1:
        request_log.note(correlation_id=str(migrations.pop()))  # the request that started it logs its id
    p = [f"${i}" for i in range(first, first + 5)]
    sql = ("queued AS (INSERT INTO outbox (event_id, topic, key, headers, payload) "
           f"SELECT e, t, k, h::jsonb, p FROM unnest({p[0]}::uuid[], {p[1]}::text[], {p[2]}::bytea[], {p[3]}::text[], "
           f"{p[4]}::bytea[]) WITH ORDINALITY AS r(e, t, k, h, p, n) WHERE {only_if} ORDER BY n "
           "ON CONFLICT (event_id) DO NOTHING "
           "RETURNING 1), notified AS (SELECT pg_notify('outbox_' || current_schema(), '') "
           "WHERE EXISTS (SELECT FROM queued))")
    return sql, [[e.event_id for e in events], [topic_of(e).name for e in events],
                 [e.phone_number.encode() for e in events], [headers(e, trace) for e in events],
                 [dump_event(e) for e in events]]


async def claim(conn: asyncpg.Connection, consumer: str, event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Mark events processed by `consumer`; returns the ids that were new (the rest are duplicates)."""
    rows = await conn.fetch(
        "INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING "
        "RETURNING event_id", consumer, event_ids)
    return {r["event_id"] for r in rows}


PRUNE_EVERY_SECONDS = 3600.0
PRUNE_ROWS = 10_000  # per statement, so one pass never holds many row locks or runs long


async def prune(conn: asyncpg.Connection, retention_hours: float) -> tuple[int, int]:
    """Delete published outbox rows and inbox marks older than the retention; (rows, marks) deleted.

    Without it both tables grow by every event a service ever emitted or consumed (billing: one attribution per
    message). Unpublished rows are never touched, however old."""
    rows = marks = 0
    while True:
        found = await conn.fetchrow(
            "WITH o AS (DELETE FROM outbox WHERE id IN (SELECT id FROM outbox "
            "WHERE published_at < now() - make_interval(secs => $1::float8 * 3600) ORDER BY id LIMIT $2) RETURNING 1), "
            "i AS (DELETE FROM inbox WHERE (consumer, event_id) IN (SELECT consumer, event_id FROM inbox "
            "WHERE processed_at < now() - make_interval(secs => $1::float8 * 3600) LIMIT $2) RETURNING 1) "
            "SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM i)", retention_hours, PRUNE_ROWS)
        rows, marks = rows + found[0], marks + found[1]
        if max(found[0], found[1]) < PRUNE_ROWS:
            return rows, marks


class Relay:
    """Publishes outbox rows in commit order; one relay per schema at a time (advisory lock) keeps key order.

    A commit that queued rows wakes it through LISTEN/NOTIFY on a connection of its own, and losing that connection
    wakes it too. So while it listens, the look every `listening` seconds only guards against a connection that died
    without telling (no TCP keepalive); `idle` is the poll while it cannot listen, after a failed pass, and while
    another replica holds the lock (whose rows are ours to publish if that replica dies with no commit to follow).
    """

    def __init__(self, pool: asyncpg.Pool, producer: Producer, service: str, batch_size: int, idle: float,
                 listen_url: str | None = None, listening: float = 60.0, retention_hours: float | None = None) -> None:
        self.pool, self.producer, self.service = pool, producer, service
        self.retention_hours, self._pruned_at = retention_hours, -PRUNE_EVERY_SECONDS
        self.batch_size, self.idle, self.listen_url, self.listening = batch_size, idle, listen_url, listening
        self._stopping = asyncio.Event()
        self._wakeup = Wakeup(listen_url, f"outbox_{service}", f"numport-{service}-relay")
        self._locked_out = False  # the last pass found the lock held by another replica
        self.oldest: float | None = None  # creation time of the oldest row known to wait, while one does
        OUTBOX_AGE.labels(service).set_function(lambda: time.time() - self.oldest if self.oldest else 0.0)

    async def publish_batch(self) -> int:
        """Mark the oldest rows published and send them; the mark commits only once the broker has them all."""
        async with self.pool.acquire() as conn, conn.transaction():
            found = await conn.fetch(
                "WITH mine AS (SELECT pg_try_advisory_xact_lock(hashtext('relay:' || current_schema())) AS got), "
                "claimed AS (UPDATE outbox SET published_at = now() WHERE id IN (SELECT id FROM outbox, mine "
                "WHERE mine.got AND published_at IS NULL ORDER BY id LIMIT $1) "
                "RETURNING id, topic, key, headers, payload, created_at) "
                "SELECT claimed.*, mine.got FROM mine LEFT JOIN claimed ON true", self.batch_size)
            self._locked_out = not found[0]["got"]
            rows = sorted((r for r in found if r["id"] is not None), key=lambda r: r["id"])
            if not rows:
                OUTBOX_PENDING.labels(self.service).set(0)
                self.oldest = None
                return 0
            self.oldest = rows[0]["created_at"].timestamp()
            failpoints.hit("relay.before_publish")
            await self.producer.send_all(
                (r["topic"], r["key"], r["payload"], json.loads(r["headers"])) for r in rows)
            failpoints.hit("relay.after_publish")
        OUTBOX_PUBLISHED.labels(self.service).inc(len(rows))
        if len(rows) < self.batch_size:
            self.oldest = None
        return len(rows)

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                self._wakeup.event.clear()  # from here on, a commit or a lost connection wakes the next pass
                await self._wakeup.listen()
                pause = await self._pass()
                await self._prune()  # when due, whether or not rows are waiting: a busy relay prunes too
                if pause:
                    await self._wakeup.wait(pause)
        finally:
            self._wakeup.close()

    async def _prune(self) -> None:
        """At most hourly, between passes; a failure waits for the next hour (nothing is lost by waiting)."""
        if self.retention_hours is None or time.monotonic() - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = time.monotonic()
        try:
            async with self.pool.acquire() as conn:
                rows, marks = await prune(conn, self.retention_hours)
        except Exception as exc:
            log.warning("pruning the outbox and inbox failed, will retry in an hour", extra={"error": repr(exc)})
            return
        if rows or marks:
            log.info("pruned the outbox and inbox", extra={"outbox_rows": rows, "inbox_marks": marks})

    async def _pass(self) -> float:
        """Publish a batch; returns how long to wait for a commit before the next pass (0: more rows wait now)."""
        try:
            published = await self.publish_batch()
        except Exception as exc:  # Kafka or PostgreSQL away: rows stay queued, try again
            log.warning("outbox relay pass failed, will retry", extra={"error": repr(exc)})
            await asyncio.sleep(1.0)
            return self.idle
        if published >= self.batch_size:
            return 0.0
        return self.listening if self._wakeup.listening and not self._locked_out else self.idle

    async def drain(self) -> None:
        """Publish what is left, then stop the loop (graceful shutdown)."""
        while await self.publish_batch():
            pass
        self._stopping.set()
        self._wakeup.event.set()
