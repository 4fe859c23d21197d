"""Billing's tables over asyncpg, in bulk: one statement per kind of write per batch, COPY for new rows.

Status batches hold the timeline lock shared and holder changes hold it exclusive, so a re-attribution never races
a batch that read the timeline before it changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, timedelta

import asyncpg

from services.billing.domain import Attribution, HolderChange, MessageState, Pricing
from services.billing.ledger import Change, Key, Row
from services.billing.records import HEADERS
from shared import topics

TIMELINE_LOCK = 0x62696C6C  # one advisory lock id for the whole timeline ("bill")
EPOCH = date(1970, 1, 1)
COLUMNS = ("phone_number", "wamid", "waba_id", "sent_at_us", "first_rank", "delivered_at_us", "failed",
           "priced_at_us", "priced_rank", "category", "pricing_type", "billable_flag", "pricing_model", "version",
           "partner", "rule", "migration_id", "billable", "revision")
SELECTED = ", ".join(f"m.{c}" for c in COLUMNS)
TYPES = ("text", "text", "text", "bigint", "smallint", "bigint", "boolean", "bigint", "smallint", "text", "text",
         "smallint", "text", "integer", "text", "text", "uuid", "boolean", "integer")
UPDATE_SQL = (
    f"UPDATE messages m SET {', '.join(f'{c} = u.{c}' for c in COLUMNS[2:])} "
    f"FROM unnest({', '.join(f'${i + 1}::{t}[]' for i, t in enumerate(TYPES))}) AS u({', '.join(COLUMNS)}) "
    "WHERE m.phone_number = u.phone_number AND m.wamid = u.wamid AND m.revision = u.revision - 1")


class ConcurrentWrite(RuntimeError):
    """Another consumer (a partition's previous owner still finishing) wrote one of these messages meanwhile."""


async def lock_timeline(conn: asyncpg.Connection, exclusive: bool) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock($1)" if exclusive else
                       "SELECT pg_advisory_xact_lock_shared($1)", TIMELINE_LOCK)


async def timelines(conn: asyncpg.Connection, numbers: Iterable[str]) -> dict[str, list[HolderChange]]:
    rows = await conn.fetch(
        "SELECT phone_number, changed_at_us, kind, from_partner, to_partner, migration_id FROM holder_changes "
        "WHERE phone_number = ANY($1::text[]) ORDER BY phone_number, changed_at_us, kind, from_partner, to_partner",
        list(numbers))
    found: dict[str, list[HolderChange]] = {}
    for r in rows:
        found.setdefault(r[0], []).append(HolderChange(r[1], r[2], r[3], r[4], r[5]))
    return found


async def add_holder_change(conn: asyncpg.Connection, number: str, change: HolderChange, event_id: uuid.UUID) -> bool:
    """False when this change is already on the timeline (a replayed event)."""
    status = await conn.execute(
        "INSERT INTO holder_changes (phone_number, changed_at_us, kind, from_partner, to_partner, migration_id, "
        "source_event_id) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        number, change.at, change.kind, change.from_partner, change.to_partner, change.migration_id, event_id)
    return status.endswith(" 1")


async def numbers_of(conn: asyncpg.Connection, number_ids: Iterable[str]) -> dict[str, str]:
    rows = await conn.fetch("SELECT phone_number_id, phone_number FROM number_ids "
                            "WHERE phone_number_id = ANY($1::text[])", list(number_ids))
    return {r[0]: r[1] for r in rows}


async def learn_number_ids(conn: asyncpg.Connection, pairs: Iterable[tuple[str, str]]) -> None:
    pairs = sorted(pairs)
    if pairs:
        await conn.execute("INSERT INTO number_ids (phone_number_id, phone_number) SELECT * FROM "
                           "unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
                           [p[0] for p in pairs], [p[1] for p in pairs])


async def rows_of(conn: asyncpg.Connection, keys: list[Key]) -> dict[Key, Row]:
    records = await conn.fetch(
        f"SELECT {SELECTED} FROM unnest($1::text[], $2::text[]) AS k(phone_number, wamid) "
        "JOIN messages m ON m.phone_number = k.phone_number AND m.wamid = k.wamid",
        [k[0] for k in keys], [k[1] for k in keys])
    return {(r[0], r[1]): _row(r) for r in records}


async def rows_sent_between(conn: asyncpg.Connection, number: str, start: int | None,
                            end: int | None) -> dict[Key, Row]:
    """The number's messages sent in [start, end): those a holder change at an instant in between may move."""
    records = await conn.fetch(
        f"SELECT {SELECTED} FROM messages m WHERE m.phone_number = $1 AND m.priced_at_us IS NOT NULL "
        "AND ($2::bigint IS NULL OR m.sent_at_us >= $2) AND ($3::bigint IS NULL OR m.sent_at_us < $3)",
        number, start, end)
    return {(r[0], r[1]): _row(r) for r in records}


def _row(r: asyncpg.Record) -> Row:
    pricing = Pricing(r[7], r[8], r[9], r[10], r[11], r[12]) if r[7] is not None else None
    attribution = Attribution(r[14], r[15], r[16], r[3], r[9], r[10], r[17]) if r[14] is not None else None
    return Row(MessageState(r[3], r[4], r[2], r[5], r[6], pricing), r[13], attribution, r[18])


def _values(change: Change) -> tuple[object, ...]:
    state, attribution = change.row.state, change.row.attribution
    pricing = state.pricing or Pricing(None, None, None, None, None, None)  # type: ignore[arg-type]
    who = (attribution.partner, attribution.rule, attribution.migration_id, attribution.billable) \
        if attribution else (None, None, None, None)
    return (*change.key, state.waba_id, state.sent_at, state.first_rank, state.delivered_at, state.failed, *pricing,
            change.row.version, *who, change.row.revision)


async def write_rows(conn: asyncpg.Connection, changes: list[Change]) -> None:
    """New messages by COPY, changed ones by one UPDATE that refuses rows another writer changed meanwhile."""
    new = [_values(c) for c in changes if c.is_new]
    if new:
        await conn.copy_records_to_table("messages", records=new, columns=COLUMNS)
    changed = [_values(c) for c in changes if not c.is_new]
    if changed:
        status = await conn.execute(UPDATE_SQL, *(list(column) for column in zip(*changed, strict=True)))
        if int(status.split()[-1]) != len(changed):
            raise ConcurrentWrite(f"{len(changed) - int(status.split()[-1])} messages were changed meanwhile")


async def add_totals(conn: asyncpg.Connection, deltas: dict[tuple[str, int, str], list[int]]) -> None:
    """Sorted, so two writers lock the same total rows in the same order and never deadlock."""
    rows = sorted((partner, EPOCH + timedelta(days=day), category, count, billable)
                  for (partner, day, category), (count, billable) in deltas.items())
    if rows:
        await conn.execute(
            "INSERT INTO day_totals AS t (partner, day, category, messages, billable) "
            "SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::bigint[], $5::bigint[]) "
            "ON CONFLICT (partner, day, category) DO UPDATE "
            "SET messages = t.messages + excluded.messages, billable = t.billable + excluded.billable",
            *(list(column) for column in zip(*rows, strict=True)))


async def queue_attributions(conn: asyncpg.Connection, records: list[tuple[str, bytes, str]]) -> None:
    """Into the outbox in the batch's transaction: (event_id, payload, number) each."""
    if records:
        await conn.copy_records_to_table(
            "outbox", columns=("event_id", "topic", "key", "headers", "payload"),
            records=[(event_id, topics.BILLING_ATTRIBUTIONS.name, number.encode(), HEADERS, payload)
                     for event_id, payload, number in records])
        # COPY bypasses outbox.append, which tells the schema's relay at commit; a relay that listens looks only
        # once a minute otherwise.
        await conn.execute("SELECT pg_notify('outbox_' || current_schema(), '')")
