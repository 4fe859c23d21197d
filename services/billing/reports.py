"""What analysts, partners (through the gateway) and the dispute chart read: billing's documented SQL views only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import asyncpg


@dataclass(frozen=True)
class DayLine:
    day: date
    pricing_category: str
    messages: int
    billable: int


@dataclass(frozen=True)
class Traffic:
    """One number's billed messages per time bucket and partner, and the instants its holder changed."""

    buckets: list[tuple[datetime, str, int]]  # (bucket start, partner, messages)
    changes: list[tuple[datetime, str, str]]  # (instant, from partner, to partner)
    bucket: timedelta


async def daily_report(conn: asyncpg.Connection | asyncpg.Pool, partner: str, start: date, end: date) -> list[DayLine]:
    """Per day and pricing category, `start` to `end` inclusive; empty before billing has ever run."""
    if not await conn.fetchval("SELECT to_regclass('billing.daily_totals') IS NOT NULL"):
        return []
    rows = await conn.fetch(
        "SELECT day, pricing_category, messages, billable FROM billing.daily_totals "
        "WHERE partner = $1 AND day BETWEEN $2 AND $3 ORDER BY day, pricing_category", partner, start, end)
    return [DayLine(*row) for row in rows]


async def number_traffic(conn: asyncpg.Connection, phone_number: str, partner: str | None = None,
                         buckets: int = 60) -> Traffic:
    """The number's traffic around its holder changes; with `partner`, only that partner's messages."""
    span = await conn.fetchrow("SELECT min(sent_at), max(sent_at) FROM billing.ledger WHERE phone_number = $1 "
                               "AND ($2::text IS NULL OR partner = $2)", phone_number, partner)
    changes = [tuple(r) for r in await conn.fetch(
        "SELECT changed_at, from_partner, to_partner FROM billing.holder_timeline WHERE phone_number = $1 "
        "AND ($2::text IS NULL OR $2 IN (from_partner, to_partner)) ORDER BY changed_at", phone_number, partner)]
    if span[0] is None:
        return Traffic([], changes, timedelta(minutes=1))  # type: ignore[arg-type]
    width = max(timedelta(seconds=1), (span[1] - span[0]) / buckets)
    rows = await conn.fetch(
        "SELECT date_bin($3::interval, sent_at, $4::timestamptz) AS bucket, partner, count(*) FROM billing.ledger "
        "WHERE phone_number = $1 AND ($2::text IS NULL OR partner = $2) GROUP BY 1, 2 ORDER BY 1, 2",
        phone_number, partner, width, span[0])
    return Traffic([tuple(r) for r in rows], changes, width)  # type: ignore[misc]
