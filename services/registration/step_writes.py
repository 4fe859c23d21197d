"""A saga step's reads and writes as single statements: each commits on its own, with no BEGIN/COMMIT round trips,
and returns what the saga needs next, so a step costs two statements (its attempt, its result) and no re-reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from services.registration.repository import COLUMNS, SagaRow
from shared import outbox
from shared.events import Event

Running = tuple[SagaRow, datetime | None]  # a saga and when its current step's unsettled attempt was sent, if one is

# When the unsettled attempt of `{step}` (the saga's current step, `s.state`, unless named) was sent; `{settled}`: a
# step whose attempts the same statement settles (a CTE's change is invisible to the rest of its statement).
IN_FLIGHT = ("LEFT JOIN LATERAL (SELECT max(a.sent_at) FILTER (WHERE a.settled_at IS NULL AND a.step <> {settled}) "
             "AS in_flight_since FROM step_attempts a WHERE a.migration_id = s.migration_id AND a.step = {step}) "
             "a ON true")


def running(row: asyncpg.Record | None) -> Running | None:
    if row is None or row["migration_id"] is None:
        return None
    found = dict(row)
    return SagaRow(**{k: v for k, v in found.items() if k != "in_flight_since"}), found["in_flight_since"]


async def load_running(conn: asyncpg.Connection | asyncpg.Pool, migration_id: uuid.UUID,
                       step: str | None = None) -> Running | None:
    """The saga with the attempt in flight of its current step (or of `step`), in one read: a step needs both
    before it may send."""
    return running(await conn.fetchrow(
        f"SELECT s.*, a.in_flight_since FROM (SELECT {COLUMNS} FROM sagas WHERE migration_id = $1) s "
        f"{IN_FLIGHT.format(settled=repr(''), step='coalesce($2::text, s.state)')}", migration_id, step))


async def apply(conn: asyncpg.Connection | asyncpg.Pool, migration_id: uuid.UUID, step: str, now: datetime,
                changes: dict[str, Any], events: list[Event], timers: dict[str, datetime],
                clear: tuple[str, ...], also: tuple[str, tuple[Any, ...]] | None = None) -> Running | None:
    """A step's result in ONE statement, which commits on its own (no BEGIN/COMMIT round trips): the step's open
    attempts settled, the saga changed, its events queued for the relay, timers set and `clear`ed (a kind in both is
    cleared, as when the timers were set first). Returns the changed saga, so the saga goes on without reading it.
    `also`: one more write of the step's, as SQL over `$1` (the migration), `$2` (now) and `{0}`, `{1}`... (its
    values)."""
    kinds = [kind for kind in timers if kind not in clear]
    queued, queued_args = outbox.queued(events, first=7)
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(changes, start=12))
    write, values = also or ("SELECT", ())
    first = 12 + len(changes)
    write = write.format(*(f"${first + i}" for i in range(len(values))))
    return running(await conn.fetchrow(
        "WITH settled AS (UPDATE step_attempts SET settled_at = $2, outcome = 'done' WHERE migration_id = $1 "
        "AND step = $3 AND settled_at IS NULL), "
        f"saga AS (UPDATE sagas SET updated_at = $2, {sets} WHERE migration_id = $1 RETURNING {COLUMNS}), "
        "cleared AS (DELETE FROM timers WHERE migration_id = $1 AND kind = ANY($4::text[])), "
        "timed AS (INSERT INTO timers (migration_id, kind, due_at) SELECT $1, k, d "
        "FROM unnest($5::text[], $6::timestamptz[]) AS t(k, d) "
        "ON CONFLICT (migration_id, kind) DO UPDATE SET due_at = excluded.due_at), "
        f"also AS ({write}), {queued} "
        "SELECT s.*, a.in_flight_since FROM (SELECT count(*) FROM notified) sent LEFT JOIN saga s ON true "
        f"{IN_FLIGHT.format(settled='$3', step='s.state')}",
        migration_id, now, step, list(clear), kinds, [timers[kind] for kind in kinds], *queued_args,
        *changes.values(), *values))


async def record_sent(conn: asyncpg.Connection | asyncpg.Pool, migration_id: uuid.UUID, step: str, sent_at: datetime,
                      pin_ciphertext: bytes | None = None, verify_check_due: datetime | None = None) -> None:
    """Commit an attempt before Meta hears of it, in one statement: numbered after the step's last attempt, with the
    new PIN (encrypted) a first register sends, and the timer that settles a code entry whose answer never comes."""
    await conn.execute(
        "WITH sent AS (INSERT INTO step_attempts (migration_id, step, attempt, sent_at) "
        "SELECT $1, $2, coalesce(max(attempt), 0) + 1, $3 FROM step_attempts WHERE migration_id = $1 AND step = $2), "
        "pin AS (UPDATE sagas SET pin_ciphertext = $4, updated_at = $3 WHERE migration_id = $1 "
        "AND $4::bytea IS NOT NULL), "
        "checked AS (INSERT INTO timers (migration_id, kind, due_at) SELECT $1, 'verify_check', $5 "
        "WHERE $5::timestamptz IS NOT NULL ON CONFLICT (migration_id, kind) DO UPDATE SET due_at = excluded.due_at) "
        "SELECT", migration_id, step, sent_at, pin_ciphertext, verify_check_due)


async def register_if_ready(conn: asyncpg.Connection, migration_id: uuid.UUID, now: datetime,
                            without_templates: bool) -> Running | None:
    """A saga in `awaiting_templates` registers now (its deadline timer dropped) when its templates are on the
    destination, or when it is not to wait for them; None when it does not move. Run in a transaction that already
    locked the saga's row (entering the wait, or marking the templates ready): what the other side committed before
    that lock was granted is seen here, and what it does after sees this transaction's change."""
    return running(await conn.fetchrow(
        f"WITH moved AS (UPDATE sagas SET state = 'register', updated_at = $2 WHERE migration_id = $1 "
        "AND state = 'awaiting_templates' AND ($3 OR EXISTS (SELECT FROM templates_ready WHERE migration_id = $1)) "
        f"RETURNING {COLUMNS}), "
        "cleared AS (DELETE FROM timers WHERE migration_id = $1 AND kind = 'templates_deadline' "
        "AND EXISTS (SELECT FROM moved)) "
        f"SELECT s.*, a.in_flight_since FROM moved s {IN_FLIGHT.format(settled=repr(''), step='s.state')}",
        migration_id, now, without_templates))
