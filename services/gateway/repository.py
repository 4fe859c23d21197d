"""The gateway's tables: partners and API keys, idempotency keys, and the migration status read model."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from services.gateway.status import Status
from shared import outbox
from shared.events import Event, MigrationRequested

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COLUMNS = ("id, partner_id, phone_number, phone_number_typed, business_id, destination_waba_id, source_waba_id, "
           "flow, source, state, next_action, detail, created_at, updated_at")


async def partner_of_key(pool: asyncpg.Pool, key_hash: bytes) -> str | None:
    return await pool.fetchval("SELECT partner_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL", key_hash)


async def add_partner(conn: asyncpg.Connection, partner_id: str, name: str, key_hash: bytes, prefix: str) -> bool:
    """Adds the key, and the partner unless it exists; True when the partner is new."""
    new = await conn.fetchval("INSERT INTO partners (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING "
                              "RETURNING true", partner_id, name)
    await conn.execute("INSERT INTO api_keys (key_hash, partner_id, prefix) VALUES ($1, $2, $3)",
                       key_hash, partner_id, prefix)
    return bool(new)


async def remembered(conn: asyncpg.Connection, partner_id: str, key: str) -> asyncpg.Record | None:
    """The migration an Idempotency-Key already produced (locked until this transaction ends)."""
    return await conn.fetchrow("SELECT request_hash, migration_id FROM idempotency_keys "
                               "WHERE partner_id = $1 AND key = $2 FOR UPDATE", partner_id, key)


async def remember(conn: asyncpg.Connection, partner_id: str, key: str, request_hash: bytes,
                   migration_id: uuid.UUID) -> bool:
    """False when a concurrent request claimed the key first."""
    inserted = await conn.fetchval(
        "INSERT INTO idempotency_keys (partner_id, key, request_hash, migration_id) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT DO NOTHING RETURNING true", partner_id, key, request_hash, migration_id)
    return bool(inserted)


ONE_OPEN_PER_NUMBER = "migrations_one_open_per_number"  # the unique index of migration 0003


async def open_migration(conn: asyncpg.Connection, phone_number: str,
                         terminal: frozenset[str]) -> asyncpg.Record | None:
    """The unfinished migration of this number, whichever partner requested it."""
    return await conn.fetchrow(
        "SELECT id, partner_id FROM migrations WHERE phone_number = $1 AND NOT (state = ANY($2::text[])) LIMIT 1",
        phone_number, list(terminal))


async def queue_position(pool: asyncpg.Pool, partner_id: str, migration_id: uuid.UUID,
                         terminal: frozenset[str]) -> int:
    """1 + the unfinished migrations started earlier for the same destination WABA (they go first)."""
    return 1 + await pool.fetchval(
        "SELECT count(*) FROM migrations o, migrations m WHERE m.id = $2 AND o.partner_id = $1 "
        "AND o.destination_waba_id = m.destination_waba_id AND NOT (o.state = ANY($3::text[])) "
        "AND (o.created_at, o.id) < (m.created_at, m.id)", partner_id, migration_id, list(terminal))


async def record_request(conn: asyncpg.Connection, event: MigrationRequested, status: Status) -> None:
    """The new migration's row, its first timeline entry and its MigrationRequested (outbox) as one statement."""
    queued, queued_args = outbox.queued([event], first=15)
    await conn.execute(
        f"WITH m AS (INSERT INTO migrations ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '{{}}', "
        "$12, $12) RETURNING id), "
        "t AS (INSERT INTO timeline (migration_id, event_id, type, occurred_at, payload) "
        "SELECT id, $13, 'MigrationRequested', $12, $14::jsonb FROM m), "
        f"{queued} SELECT count(*) FROM notified",
        event.migration_id, event.partner_id, event.phone_number, event.phone_number_as_typed, event.business_id,
        event.destination_waba_id, event.source_waba_id, event.flow, event.source, status.state,
        status.next_action, event.occurred_at, event.event_id, _payload(event), *queued_args)


@dataclass(frozen=True)
class Folded:
    """A migration's row as a poll found it: its status, its version (`xmin`, which every update of the row
    changes) and which of the poll's events its timeline already holds."""

    status: Status
    version: str
    seen: frozenset[uuid.UUID]


async def folded(conn: asyncpg.Connection, ids: set[uuid.UUID], event_ids: list[uuid.UUID],
                 lock: bool = False) -> dict[uuid.UUID, Folded]:
    """The rows named with what a poll needs to fold its events into them; `lock` (inside a transaction) takes
    them in id order, so two projectors never wait on each other crosswise."""
    rows = await conn.fetch(
        "SELECT m.id, m.state, m.next_action, m.xmin::text AS version, ARRAY(SELECT t.event_id FROM timeline t "
        "WHERE t.migration_id = m.id AND t.event_id = ANY($2::uuid[])) AS seen "
        f"FROM migrations m WHERE m.id = ANY($1::uuid[]) ORDER BY m.id{' FOR UPDATE OF m' if lock else ''}",
        sorted(ids), event_ids)
    return {r["id"]: Folded(Status(r["state"], r["next_action"]), r["version"], frozenset(r["seen"])) for r in rows}


@dataclass(frozen=True)
class Change:
    """A migration's status after a poll's events, the details they brought, and the latest of their instants."""

    status: Status
    detail: dict[str, Any]
    at: datetime
    version: str  # the row's version the change was folded from


async def apply(conn: asyncpg.Connection, changes: dict[uuid.UUID, Change], events: list[Event]) -> set[uuid.UUID]:
    """One statement: each row still at the version its change was folded from takes the change, and its events
    join its timeline. Returns the migrations written; the others were changed meanwhile (fold them again)."""
    if not changes:
        return set()
    payloads = [_payload(e) for e in events]
    rows = await conn.fetch(
        "WITH changed AS (UPDATE migrations m SET state = c.state, next_action = c.next_action, "
        "detail = m.detail || c.detail::jsonb, updated_at = greatest(m.updated_at, c.at) "
        "FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[]) "
        "AS c(id, state, next_action, detail, at, version) WHERE m.id = c.id AND m.xmin::text = c.version "
        "RETURNING m.id), "
        "added AS (INSERT INTO timeline (migration_id, event_id, type, occurred_at, payload) "
        "SELECT t.m, t.e, t.ty, t.o, t.p::jsonb "
        "FROM unnest($7::uuid[], $8::uuid[], $9::text[], $10::timestamptz[], $11::text[]) WITH ORDINALITY "
        "AS t(m, e, ty, o, p, n) WHERE t.m IN (SELECT id FROM changed) ORDER BY t.n ON CONFLICT DO NOTHING) "
        "SELECT id FROM changed",
        list(changes), [c.status.state for c in changes.values()], [c.status.next_action for c in changes.values()],
        [json.dumps(c.detail) for c in changes.values()], [c.at for c in changes.values()],
        [c.version for c in changes.values()],
        [e.migration_id for e in events], [e.event_id for e in events], [e.type for e in events],
        [e.occurred_at for e in events], payloads)
    return {r["id"] for r in rows}


def _payload(event: Event) -> str:
    """What the timeline keeps of an event: all but what its columns already say."""
    return json.dumps(event.model_dump(mode="json", exclude={"event_id", "type", "occurred_at", "migration_id"}))


async def add_to_timeline(conn: asyncpg.Connection, event: Event) -> None:
    """An event the gateway itself records (a request); one already there is skipped."""
    await conn.execute(
        "INSERT INTO timeline (migration_id, event_id, type, occurred_at, payload) VALUES ($1, $2, $3, $4, $5::jsonb) "
        "ON CONFLICT DO NOTHING", event.migration_id, event.event_id, event.type, event.occurred_at, _payload(event))


async def migration(conn: asyncpg.Connection | asyncpg.Pool, partner_id: str,
                    migration_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {COLUMNS} FROM migrations WHERE id = $1 AND partner_id = $2",
                               migration_id, partner_id)


async def timeline(pool: asyncpg.Pool, migration_id: uuid.UUID) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT event_id, type, occurred_at, payload FROM timeline WHERE migration_id = $1 "
                            "ORDER BY occurred_at, seq", migration_id)


def encode_cursor(created_at: datetime, migration_id: uuid.UUID) -> str:
    """`<microseconds since the epoch>.<id in hex>`: every string of that shape decodes (patterns.CURSOR)."""
    return f"{(created_at - EPOCH) // timedelta(microseconds=1)}.{migration_id.hex}"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    micros, ident = cursor.split(".")
    return EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=ident)


async def page(pool: asyncpg.Pool, partner_id: str, limit: int, cursor: tuple[datetime, uuid.UUID] | None,
               state: str | None, waba_id: str | None, phone_number: str | None) -> list[asyncpg.Record]:
    """Newest first; the cursor is the (created_at, id) of the last row already seen."""
    return await pool.fetch(
        f"SELECT {COLUMNS} FROM migrations WHERE partner_id = $1 "
        "AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR destination_waba_id = $3) "
        "AND ($4::text IS NULL OR phone_number = $4) "
        "AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6::uuid)) "
        "ORDER BY created_at DESC, id DESC LIMIT $7",
        partner_id, state, waba_id, phone_number, cursor[0] if cursor else None, cursor[1] if cursor else None,
        limit)


async def key_collected(pool: asyncpg.Pool, migration_id: uuid.UUID, at: datetime, next_action: str) -> None:
    """The number's key was shown (it never is again): the status says so, keeping the first moment it was."""
    await pool.execute("UPDATE migrations SET next_action = $2, detail = jsonb_build_object('api_key_collected_at', "
                       "$3::text) || detail WHERE id = $1", migration_id, next_action, at.isoformat())
