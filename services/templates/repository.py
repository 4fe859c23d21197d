"""The templates service's tables: migrations and their rounds, templates and their outcomes, calls, retries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import asyncpg

from services.templates.domain import Call, Decision
from services.templates.outcomes import Settled
from shared.consumer import ONLY_IF_NEW
from shared.events import NumberEligible

Db = asyncpg.Connection | asyncpg.Pool


@dataclass
class MigrationRow:
    migration_id: uuid.UUID
    correlation_id: uuid.UUID
    phone_number: str
    source_waba_id: str | None
    destination_waba_id: str | None
    round: int
    phase: str
    template_limit: int | None
    problem: str | None
    failures: int
    not_before: datetime


COLUMNS = ", ".join(f.name for f in fields(MigrationRow))


def created(event: NumberEligible, phase: str, now: datetime) -> tuple[str, list[Any]]:
    """A migration whose failure came first is born stopped (the write of `Unit.once`)."""
    return (
        "INSERT INTO migrations (migration_id, correlation_id, phone_number, source_waba_id, destination_waba_id, "
        "phase, not_before, created_at, updated_at) SELECT $1::uuid, $2::uuid, $3::text, $4::text, $5::text, "
        "CASE WHEN EXISTS (SELECT 1 FROM stopped WHERE migration_id = $1) THEN 'stopped' ELSE $6::text END, "
        f"$7::timestamptz, $7, $7 WHERE {ONLY_IF_NEW} ON CONFLICT DO NOTHING",
        [event.migration_id, event.correlation_id, event.phone_number, event.source_waba_id,
         event.destination_waba_id if phase != "awaiting_signup" else None, phase, now])


async def load(conn: Db, migration_id: uuid.UUID, lock: bool = False) -> MigrationRow | None:
    """`lock`: hold the row until the transaction ends (a round finishing and a registration arriving meet here)."""
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM migrations WHERE migration_id = $1"
                              f"{' FOR UPDATE' if lock else ''}", migration_id)
    return MigrationRow(**dict(row)) if row else None


async def update(conn: Db, migration_id: uuid.UUID, now: datetime, **changes: Any) -> MigrationRow | None:
    """The row as changed, so the round goes on without reading it again; None when the migration was stopped
    meanwhile: a round still under way changes nothing after that."""
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(changes, start=3))
    row = await conn.fetchrow(f"UPDATE migrations SET updated_at = $2{', ' + sets if sets else ''} "
                              f"WHERE migration_id = $1 AND phase <> 'stopped' RETURNING {COLUMNS}",
                              migration_id, now, *changes.values())
    return MigrationRow(**dict(row)) if row else None


async def stop(conn: Db, migration_id: uuid.UUID, reason_code: str, now: datetime) -> None:
    """No more template work for a migration that failed; what was copied stays on the destination."""
    await conn.execute("INSERT INTO stopped (migration_id, reason_code, stopped_at) VALUES ($1, $2, $3) "
                       "ON CONFLICT DO NOTHING", migration_id, reason_code, now)
    await conn.execute("UPDATE migrations SET phase = 'stopped', updated_at = $2, problem = $3 "
                       "WHERE migration_id = $1 AND phase NOT IN ('done', 'stopped')", migration_id, now,
                       f"The migration failed ({reason_code}), so copying stopped.")


async def runnable(conn: Db, now: datetime, limit: int = 200) -> list[asyncpg.Record]:
    """Migrations with work due: a round under way, or a retry asked for after the last round finished."""
    return await conn.fetch(
        "SELECT migration_id, destination_waba_id FROM migrations m "
        "WHERE (phase NOT IN ('done', 'awaiting_signup', 'stopped') AND not_before <= $1) "
        "OR (phase = 'done' AND round < (SELECT count(*) FROM retry_requests r "
        "WHERE r.migration_id = m.migration_id)) ORDER BY not_before LIMIT $2", now, limit)


async def next_due(conn: Db, now: datetime) -> datetime | None:
    """When the earliest waiting round (a backoff, an outcome window) falls due."""
    return await conn.fetchval("SELECT min(not_before) FROM migrations WHERE phase NOT IN ('done', 'awaiting_signup', "
                               "'stopped') AND not_before > $1", now)


async def retries(conn: Db, migration_id: uuid.UUID) -> int:
    return await conn.fetchval("SELECT count(*) FROM retry_requests WHERE migration_id = $1", migration_id)


async def add_retry(conn: Db, migration_id: uuid.UUID, request_id: uuid.UUID, at: datetime) -> None:
    await conn.execute("INSERT INTO retry_requests (migration_id, request_id, requested_at) VALUES ($1, $2, $3) "
                       "ON CONFLICT DO NOTHING", migration_id, request_id, at)


async def save_decisions(conn: asyncpg.Connection, migration_id: uuid.UUID, decisions: list[Decision],
                         now: datetime) -> None:
    """A template numport copied in an earlier round stays migrated (or rejected) though it is now 'already there';
    one found already there counts as usable since it was first seen."""
    await conn.executemany(
        "INSERT INTO templates (migration_id, name, language, source_id, category, outcome, reason_code, reason) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (migration_id, name, language) DO UPDATE SET "
        "source_id = excluded.source_id, category = excluded.category, outcome = excluded.outcome, "
        "reason_code = excluded.reason_code, reason = excluded.reason, meta_reason = NULL "
        "WHERE templates.outcome NOT IN ('migrated', 'rejected') OR excluded.outcome <> 'already_present'",
        [(migration_id, *d.template.key, d.template.id, d.template.category, d.outcome, d.reason_code, d.reason)
         for d in decisions])
    await conn.execute("UPDATE templates SET usable_at = $2 WHERE migration_id = $1 AND outcome = 'already_present' "
                       "AND usable_at IS NULL", migration_id, now)


async def templates(conn: Db, migration_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM templates WHERE migration_id = $1 ORDER BY name, language", migration_id)


async def note_meta_reasons(conn: Db, migration_id: uuid.UUID, reasons: dict[str, str]) -> None:
    """What Meta answered about templates it did not copy, by their source ids."""
    await conn.executemany("UPDATE templates SET meta_reason = $3 WHERE migration_id = $1 AND source_id = $2 "
                           "AND outcome = 'migrate'", [(migration_id, k, v) for k, v in reasons.items()])


async def settle_template(conn: asyncpg.Connection, migration_id: uuid.UUID, key: tuple[str, str], s: Settled,
                          status: str | None) -> None:
    await conn.execute(
        "UPDATE templates SET outcome = $4, reason_code = $5, reason = $6, template_id = $7, usable_at = $8, "
        "rating_window_ends_at = $9, status = coalesce($10, status) WHERE migration_id = $1 AND name = $2 "
        "AND language = $3", migration_id, *key, s.outcome, s.reason_code, s.reason, s.template_id, s.usable_at,
        s.rating_window_ends_at, status)


async def save_calls(conn: Db, migration_id: uuid.UUID, round_: int, planned: list[Call], generation: int) -> None:
    first = await conn.fetchval("SELECT coalesce(max(number) + 1, 0) FROM calls WHERE migration_id = $1 "
                                "AND round = $2", migration_id, round_)
    await conn.executemany(
        "INSERT INTO calls (migration_id, round, number, generation, page_number, count, template_ids) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [(migration_id, round_, first + i, generation, c.page_number, c.count, list(c.template_ids))
         for i, c in enumerate(planned)])


async def calls(conn: Db, migration_id: uuid.UUID, round_: int) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM calls WHERE migration_id = $1 AND round = $2 ORDER BY number",
                            migration_id, round_)


async def set_call(conn: Db, migration_id: uuid.UUID, round_: int, number: int, state: str,
                   error: str | None = None) -> None:
    await conn.execute("UPDATE calls SET state = $4, error = $5 WHERE migration_id = $1 AND round = $2 "
                       "AND number = $3", migration_id, round_, number, state, error)


async def copies(conn: Db, waba_id: str, key: tuple[str, str]) -> list[asyncpg.Record]:
    """The templates of migrations into this WABA that numport copied, or is copying, under this name and language."""
    return await conn.fetch(
        "SELECT m.migration_id, m.correlation_id, m.phone_number, t.outcome, t.category, t.status "
        "FROM templates t JOIN migrations m USING (migration_id) WHERE m.destination_waba_id = $1 "
        "AND t.name = $2 AND t.language = $3 AND t.outcome IN ('migrate', 'migrated', 'rejected') "
        "FOR UPDATE OF t", waba_id, *key)


async def change_copy(conn: Db, migration_id: uuid.UUID, key: tuple[str, str], **changes: Any) -> None:
    sets = ", ".join(f"{name} = coalesce(${i}, {name})" for i, name in enumerate(changes, start=4))
    await conn.execute(f"UPDATE templates SET {sets} WHERE migration_id = $1 AND name = $2 AND language = $3",
                       migration_id, *key, *changes.values())


async def record_registration(conn: Db, migration_id: uuid.UUID, registered_at: datetime) -> None:
    await conn.execute("INSERT INTO registrations (migration_id, registered_at) VALUES ($1, $2) "
                       "ON CONFLICT DO NOTHING", migration_id, registered_at)


async def registered_at(conn: Db, migration_id: uuid.UUID) -> datetime | None:
    return await conn.fetchval("SELECT registered_at FROM registrations WHERE migration_id = $1", migration_id)
