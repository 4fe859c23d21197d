"""Attempts of side-effecting Graph writes: committed before the call, settled after, so a crash leaves a trace.

An attempt sent and never settled may still be carried out by Meta until its outcome window has passed; only then
may a service read Meta's state to learn whether it happened, and send again only if it did not. Each service keeps
these rows in its own `step_attempts` table (same columns), keyed by migration and step.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only typing: pure callers (a domain module) import this without the driver
    import asyncpg


def still_in_flight(sent_at: datetime, now: datetime, window: timedelta) -> timedelta | None:
    """How long Meta may still act on a write sent at `sent_at` and never answered; None once its state can be
    trusted. Reading earlier could show "not done" for a write about to land, and sending again would repeat it."""
    remaining = sent_at + window - now
    return remaining if remaining > timedelta(0) else None


async def open_attempt(conn: asyncpg.Connection | asyncpg.Pool, migration_id: uuid.UUID,
                       step: str) -> tuple[int, datetime | None]:
    """(next attempt number, when the latest attempt still unsettled was sent: Meta may have acted on it, or may
    still be acting on it; None when every earlier attempt settled)."""
    row = await conn.fetchrow("SELECT max(attempt) AS last, max(sent_at) FILTER (WHERE settled_at IS NULL) AS open "
                              "FROM step_attempts WHERE migration_id = $1 AND step = $2", migration_id, step)
    return (row["last"] or 0) + 1, row["open"]


async def record_sent(conn: asyncpg.Connection, migration_id: uuid.UUID, step: str, attempt: int,
                      now: datetime) -> None:
    await conn.execute("INSERT INTO step_attempts (migration_id, step, attempt, sent_at) VALUES ($1, $2, $3, $4)",
                       migration_id, step, attempt, now)


async def settle(conn: asyncpg.Connection | asyncpg.Pool, migration_id: uuid.UUID, step: str, outcome: str,
                 now: datetime) -> None:
    """Close every open attempt of the step: `done`, `not_applied` (Meta certainly did nothing) or what a read of
    Meta's state showed."""
    await conn.execute("UPDATE step_attempts SET settled_at = $4, outcome = $3 WHERE migration_id = $1 AND step = $2 "
                       "AND settled_at IS NULL", migration_id, step, outcome, now)
