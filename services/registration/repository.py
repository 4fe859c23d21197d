"""The saga's tables: saga rows, step attempts, durable timers and issued API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import asyncpg

from shared import tracing
from shared.events import NumberEligible


@dataclass
class SagaRow:
    migration_id: uuid.UUID
    correlation_id: uuid.UUID
    phone_number: str
    partner_id: str
    business_id: str
    destination_waba_id: str
    source_waba_id: str | None
    flow: str
    source: str
    state: str
    phone_number_id: str | None
    obo_request_id: str | None
    pin_ciphertext: bytes | None
    code_requests: int
    code_method: str
    wrong_codes: int
    obo_reminders: int
    escalations: list[str]
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    traceparent: str | None = None
    state_since: datetime | None = None
    intent_solution_id: str | None = None
    migration_intent_id: str | None = None


COLUMNS = ", ".join(f.name for f in fields(SagaRow))


async def create(conn: asyncpg.Connection, event: NumberEligible, flow: str, state: str, now: datetime,
                 solution_id: str | None = None) -> tuple[SagaRow, int] | None:
    """`flow`: the request's, or solution_intent for a number on the no-code path (to `solution_id`). Returns the new
    saga and how many unfinished sagas of its WABA came before it; None when it existed already."""
    row = await conn.fetchrow(
        "INSERT INTO sagas (migration_id, correlation_id, phone_number, partner_id, business_id, destination_waba_id, "
        "source_waba_id, flow, source, state, phone_number_id, created_at, updated_at, traceparent, "
        "intent_solution_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14) "
        f"ON CONFLICT DO NOTHING RETURNING {COLUMNS}, (SELECT count(*) FROM sagas a WHERE a.destination_waba_id = $6 "
        "AND a.state NOT IN ('completed', 'failed') AND (a.created_at, a.migration_id) < ($12, $1)) AS ahead",
        event.migration_id, event.correlation_id, event.phone_number, event.partner_id, event.business_id,
        event.destination_waba_id, event.source_waba_id, flow, event.source, state,
        event.phone_number_id if event.flow == "embedded_signup" else None, now, tracing.traceparent(), solution_id)
    if row is None:
        return None
    found = dict(row)
    return SagaRow(**{k: v for k, v in found.items() if k != "ahead"}), found["ahead"]


async def load(conn: asyncpg.Connection | asyncpg.Pool, migration_id: uuid.UUID) -> SagaRow | None:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM sagas WHERE migration_id = $1", migration_id)
    return SagaRow(**dict(row)) if row else None


async def update(conn: asyncpg.Connection, migration_id: uuid.UUID, now: datetime, **changes: Any) -> None:
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(changes, start=3))
    await conn.execute(f"UPDATE sagas SET updated_at = $2{', ' + sets if sets else ''} WHERE migration_id = $1",
                       migration_id, now, *changes.values())


# A started saga's first step: the intent on the no-code path, else the OBO request (domain.STEPS).
FIRST_STEP = "CASE s.flow WHEN 'solution_intent' THEN 'intent' ELSE 'obo' END"


# domain.may_start for every WABA at once: the oldest queued saga of each WABA with no active saga starts ($1: now).
# Re-checking `state = 'queued'` under the row lock keeps two replicas from starting one saga twice.
START_FREE_WABAS = (
    f"UPDATE sagas s SET state = {FIRST_STEP}, updated_at = $1 WHERE s.state = 'queued' AND s.migration_id IN ("
    " SELECT DISTINCT ON (q.destination_waba_id) q.migration_id FROM sagas q WHERE q.state = 'queued'"
    " AND NOT EXISTS (SELECT 1 FROM sagas a WHERE a.destination_waba_id = q.destination_waba_id"
    "  AND a.state NOT IN ('queued', 'completed', 'failed'))"
    " ORDER BY q.destination_waba_id, q.created_at, q.migration_id)")


async def start_free_wabas(conn: asyncpg.Connection | asyncpg.Pool, now: datetime) -> int:
    result = await conn.execute(START_FREE_WABAS, now)
    return int(result.split()[-1])


async def mark_templates_ready(conn: asyncpg.Connection, migration_id: uuid.UUID, at: datetime) -> None:
    """Record that the templates are on the destination (whether or not the saga exists yet: the two topics may
    arrive in any order), and lock the saga's row: a saga entering the wait meanwhile either sees the mark, or has
    committed its wait before this returns, for the caller's next statement to see."""
    await conn.execute("WITH marked AS (INSERT INTO templates_ready (migration_id, ready_at) VALUES ($1, $2) "
                       "ON CONFLICT DO NOTHING) SELECT FROM sagas WHERE migration_id = $1 FOR UPDATE", migration_id, at)


async def poll_intents_now(conn: asyncpg.Connection, waba_ids: list[str], now: datetime) -> None:
    """Sagas waiting for an intent on these WABAs read it at the next tick instead of at their next poll."""
    await conn.execute("UPDATE timers SET due_at = $2 WHERE kind = 'intent_poll' AND due_at > $2 AND migration_id IN ("
                       "SELECT migration_id FROM sagas WHERE state = 'awaiting_intent' AND (source_waba_id = ANY($1) "
                       "OR destination_waba_id = ANY($1)))", waba_ids, now)


async def set_timer(conn: asyncpg.Connection | asyncpg.Pool, migration_id: uuid.UUID, kind: str,
                    due_at: datetime) -> None:
    await conn.execute("INSERT INTO timers (migration_id, kind, due_at) VALUES ($1, $2, $3) "
                       "ON CONFLICT (migration_id, kind) DO UPDATE SET due_at = excluded.due_at",
                       migration_id, kind, due_at)


async def clear_timers(conn: asyncpg.Connection | asyncpg.Pool, migration_id: uuid.UUID, *kinds: str) -> None:
    await conn.execute("DELETE FROM timers WHERE migration_id = $1 AND kind = ANY($2::text[])", migration_id,
                       list(kinds))


def store_api_key(saga: SagaRow, key_hash: bytes, prefix: str, ciphertext: bytes) -> tuple[str, tuple[Any, ...]]:
    """The number's key as the `also` write of the step that announces it (step_writes.apply)."""
    return ("INSERT INTO api_keys (migration_id, partner_id, key_hash, key_prefix, key_ciphertext, issued_at) "
            "VALUES ($1, {0}, {1}, {2}, {3}, $2) ON CONFLICT DO NOTHING",
            (saga.partner_id, key_hash, prefix, ciphertext))


async def reveal_api_key(conn: asyncpg.Connection, migration_id: uuid.UUID, partner_id: str,
                         now: datetime) -> bytes | None:
    """The key's ciphertext, once; afterwards only its hash remains."""
    return await conn.fetchval(
        "UPDATE api_keys k SET key_ciphertext = NULL, revealed_at = $3 FROM (SELECT key_ciphertext AS c FROM api_keys "
        "WHERE migration_id = $1 AND partner_id = $2 AND key_ciphertext IS NOT NULL FOR UPDATE) old "
        "WHERE k.migration_id = $1 RETURNING old.c", migration_id, partner_id, now)
