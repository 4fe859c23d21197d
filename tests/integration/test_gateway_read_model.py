"""The status read model without an inbox or a transaction: a redelivered event folds once, and a row changed
between a poll's read and its write is folded again instead of overwritten with a stale status."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg

from services.gateway import handlers, repository
from services.gateway.main import SPEC
from services.gateway.status import AFTER
from shared import db
from shared.consumer import Tx
from shared.events import Event, OboRequested, PhoneNumberVerified
from tests.factories import migration_requested


@contextlib.asynccontextmanager
async def read_model(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, Event]]:
    pool = await db.open_pool(database_url, "gateway", SPEC.migrations)
    requested = migration_requested()
    try:
        async with pool.acquire() as conn:
            await repository.record_request(conn, requested, AFTER["MigrationRequested"])
        yield pool, requested
    finally:
        await pool.close()


def obo_requested(cause: Event) -> Event:
    return OboRequested.create(cause=cause, producer="tests", occurred_at=cause.occurred_at,
                               obo_request_id="obo-1", destination_waba_id="200000000000002")


def verified(cause: Event) -> Event:
    return PhoneNumberVerified.create(cause=cause, producer="tests", occurred_at=cause.occurred_at,
                                      phone_number_id="510000000000001")


async def project(pool: asyncpg.Pool, events: list[Event]) -> None:
    async with pool.acquire() as conn:
        await handlers.on_migration_events(events, Tx(conn))


async def state_and_timeline(pool: asyncpg.Pool, requested: Event) -> tuple[str, list[str]]:
    state = await pool.fetchval("SELECT state FROM migrations WHERE id = $1", requested.migration_id)
    types = await pool.fetch("SELECT type FROM timeline WHERE migration_id = $1 ORDER BY seq", requested.migration_id)
    return state, [r["type"] for r in types]


async def test_a_redelivered_poll_writes_nothing(clean):
    async with read_model(clean.database_url) as (pool, requested):
        obo = obo_requested(requested)
        await project(pool, [obo, obo])
        version = await pool.fetchval("SELECT xmin::text FROM migrations WHERE id = $1", requested.migration_id)
        await project(pool, [obo])
        assert await state_and_timeline(pool, requested) == ("awaiting_obo", ["MigrationRequested", "OboRequested"])
        assert await pool.fetchval("SELECT xmin::text FROM migrations WHERE id = $1",
                                   requested.migration_id) == version


async def test_a_row_changed_between_read_and_write_is_folded_again(clean, monkeypatch):
    """Poll A reads the migration at `requested`; before it writes, poll B (another replica, another topic) moves
    it to `verified`. A's stale fold (`awaiting_obo`) must not land: it is read and folded again."""
    async with read_model(clean.database_url) as (pool, requested):
        real, reads = repository.folded, []

        async def interleaved(conn, ids, event_ids, lock=False):
            found = await real(conn, ids, event_ids, lock)
            reads.append(lock)
            if len(reads) == 1:  # A has read; B's whole poll runs now
                monkeypatch.setattr(repository, "folded", real)
                await project(pool, [verified(requested)])
                monkeypatch.setattr(repository, "folded", interleaved)
            return found

        monkeypatch.setattr(repository, "folded", interleaved)
        await project(pool, [obo_requested(requested)])
        assert reads == [False, False]
        assert await state_and_timeline(pool, requested) == (
            "verified", ["MigrationRequested", "PhoneNumberVerified", "OboRequested"])
        assert await pool.fetchval("SELECT detail->>'obo_request_id' FROM migrations WHERE id = $1",
                                   requested.migration_id) == "obo-1"


async def test_a_row_changed_every_round_is_written_under_its_lock(clean, monkeypatch):
    async with read_model(clean.database_url) as (pool, requested):
        real, reads = repository.folded, []

        async def contended(conn, ids, event_ids, lock=False):
            found = await real(conn, ids, event_ids, lock)
            reads.append(lock)
            if not lock:  # someone else (the API, a replica) touches the row each time
                await pool.execute("UPDATE migrations SET updated_at = updated_at WHERE id = $1",
                                   requested.migration_id)
            return found

        monkeypatch.setattr(repository, "folded", contended)
        await project(pool, [obo_requested(requested)])
        assert reads == [False] * handlers.OPTIMISTIC_ROUNDS + [True]
        assert await state_and_timeline(pool, requested) == ("awaiting_obo", ["MigrationRequested", "OboRequested"])


async def test_the_write_is_conditional_on_the_version_read(clean):
    """The guard the two tests above depend on is in the statement itself, not in the handler's bookkeeping."""
    async with read_model(clean.database_url) as (pool, requested):
        found = await repository.folded(pool, {requested.migration_id}, [])
        stale = repository.Change(AFTER["OboRequested"], {}, requested.occurred_at,
                                  found[requested.migration_id].version)
        await pool.execute("UPDATE migrations SET updated_at = updated_at WHERE id = $1", requested.migration_id)
        assert await repository.apply(pool, {requested.migration_id: stale}, [obo_requested(requested)]) == set()
        assert await state_and_timeline(pool, requested) == ("requested", ["MigrationRequested"])
