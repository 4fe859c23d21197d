"""The partner-change tables: partners' terms, the numbers we serve, the changes and their grants (asyncpg)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from services.partner_change.domain import ENDED, Change, Holding, PartnerTerms
from shared.consumer import ONLY_IF_NEW

Conn = asyncpg.Connection | asyncpg.Pool
CHANGE = ("id, waba_id, business_id, phone_numbers, source_partner, destination_partner, state, "
          "payment_method_required, approval, requested_at, deadline, transfer_at")
HOLDING = ("phone_number, waba_id, business_id, partner_id, managed, held, open_migration IS NOT NULL OR EXISTS "
           "(SELECT 1 FROM changes c WHERE h.phone_number = ANY(c.phone_numbers) AND NOT (c.state = ANY($2))) AS busy")


async def set_terms(conn: Conn, terms: PartnerTerms) -> None:
    await conn.execute(
        "INSERT INTO partners (id, approval, payment_processor, payment_method_required) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (id) DO UPDATE SET approval = $2, payment_processor = $3, payment_method_required = $4",
        terms.partner_id, terms.approval, terms.payment_processor, terms.payment_method_required)


async def terms(conn: Conn, partner_id: str) -> PartnerTerms | None:
    row = await conn.fetchrow("SELECT * FROM partners WHERE id = $1", partner_id)
    return PartnerTerms(row["id"], row["approval"], row["payment_processor"], row["payment_method_required"]) \
        if row else None


def _holding(row: asyncpg.Record) -> Holding:
    return Holding(row["phone_number"], row["waba_id"], row["business_id"] or "", row["partner_id"], row["busy"],
                   row["managed"])


async def waba(conn: Conn, waba_id: str, business_id: str) -> list[Holding]:
    """The WABA's numbers, held ones first (they name the partner); numbers still migrating in come after."""
    rows = await conn.fetch(f"SELECT {HOLDING} FROM holdings h WHERE waba_id = $1 AND business_id = $3 "
                            "AND (held OR open_migration IS NOT NULL) ORDER BY held DESC, phone_number",
                            waba_id, list(ENDED), business_id)
    return [_holding(r) for r in rows] if rows and rows[0]["held"] else []


async def holding(conn: Conn, phone_number: str) -> Holding | None:
    row = await conn.fetchrow(f"SELECT {HOLDING} FROM holdings h WHERE phone_number = $1 AND held",
                              phone_number, list(ENDED))
    return _holding(row) if row else None


# The holdings writes below are the writes of `Unit.once`: each acts only for an event not handled before.
Write = tuple[str, list[Any]]


def migration_requested(phone: str, migration_id: uuid.UUID, waba_id: str, business_id: str, partner_id: str) -> Write:
    """A migration starts: the number is busy until it ends (unless its end was seen first)."""
    return (
        "INSERT INTO holdings (phone_number, waba_id, business_id, partner_id, open_migration) "
        f"SELECT $1::text, $3::text, $4::text, $5::text, $2::uuid WHERE {ONLY_IF_NEW} "
        "ON CONFLICT (phone_number) DO UPDATE SET business_id = $4, "
        "open_migration = CASE WHEN holdings.settled = $2 THEN NULL ELSE $2 END, "
        "waba_id = CASE WHEN holdings.held THEN holdings.waba_id ELSE $3 END, "
        "partner_id = CASE WHEN holdings.held THEN holdings.partner_id ELSE $5 END",
        [phone, migration_id, waba_id, business_id, partner_id])


def migration_registered(phone: str, migration_id: uuid.UUID, waba_id: str, partner_id: str) -> Write:
    """The number is ours now, in this WABA, managed by the partner that migrated it."""
    return (
        "INSERT INTO holdings (phone_number, waba_id, partner_id, held, settled) "
        f"SELECT $1::text, $3::text, $4::text, true, $2::uuid WHERE {ONLY_IF_NEW} "
        "ON CONFLICT (phone_number) DO UPDATE SET waba_id = $3, partner_id = $4, held = true, managed = true, "
        "settled = $2, open_migration = CASE WHEN holdings.open_migration = $2 THEN NULL "
        "ELSE holdings.open_migration END", [phone, migration_id, waba_id, partner_id])


def migration_ended(phone: str, migration_id: uuid.UUID) -> Write:
    """The migration stopped short: no longer busy with it (a row is kept even before its start was seen)."""
    return (
        "INSERT INTO holdings (phone_number, waba_id, partner_id, settled) "
        f"SELECT $1::text, '', '', $2::uuid WHERE {ONLY_IF_NEW} "
        "ON CONFLICT (phone_number) DO UPDATE SET settled = $2, open_migration = CASE WHEN "
        "holdings.open_migration = $2 THEN NULL ELSE holdings.open_migration END", [phone, migration_id])


async def transfer(conn: Conn, change: Change) -> None:
    """Every number of the change at once: the new partner holds them, may read them, manages none yet."""
    await conn.execute("UPDATE holdings SET partner_id = $2, managed = false WHERE phone_number = ANY($1)",
                       list(change.phone_numbers), change.destination_partner)


def _change(row: asyncpg.Record) -> Change:
    return Change(row["id"], row["waba_id"], row["business_id"], tuple(row["phone_numbers"]), row["source_partner"],
                  row["destination_partner"], row["state"], row["payment_method_required"], row["approval"],
                  row["requested_at"], row["deadline"], row["transfer_at"])


async def insert(conn: Conn, change: Change, customer_id: str, legal_name: str, country: str) -> None:
    await conn.execute(
        f"INSERT INTO changes ({CHANGE}, customer_id, legal_name, country, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $10)",
        change.id, change.waba_id, change.business_id, list(change.phone_numbers), change.source_partner,
        change.destination_partner, change.state, change.payment_method_required, change.approval,
        change.requested_at, change.deadline, change.transfer_at, customer_id, legal_name, country)


async def load(conn: Conn, change_id: uuid.UUID, lock: bool = False) -> Change | None:
    row = await conn.fetchrow(f"SELECT {CHANGE} FROM changes WHERE id = $1" + (" FOR UPDATE" if lock else ""),
                              change_id)
    return _change(row) if row else None


async def save(conn: Conn, change: Change, now: datetime, ended_reason: str | None = None) -> None:
    await conn.execute("UPDATE changes SET state = $2, deadline = $3, transfer_at = $4, updated_at = $5, "
                       "ended_reason = coalesce($6, ended_reason) WHERE id = $1",
                       change.id, change.state, change.deadline, change.transfer_at, now, ended_reason)


async def due(conn: Conn, now: datetime) -> list[asyncpg.Record]:
    """Approved changes still to transfer, and manual approvals past their deadline."""
    return await conn.fetch("SELECT id, state FROM changes WHERE state = 'approved' "
                            "OR (state = 'awaiting_approval' AND deadline <= $1) ORDER BY requested_at", now)


async def next_deadline(conn: Conn, now: datetime) -> datetime | None:
    """When the next manual approval runs out (the loop expires it then, with no commit to wake it)."""
    return await conn.fetchval("SELECT min(deadline) FROM changes WHERE state = 'awaiting_approval' AND deadline > $1",
                               now)


async def listing(conn: Conn, business_id: str | None, partner_id: str | None) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {CHANGE} FROM changes WHERE business_id = $1 OR source_partner = $2 "
                            "OR destination_partner = $2 ORDER BY requested_at DESC LIMIT 200",
                            business_id, partner_id)


async def details(conn: Conn, change_id: uuid.UUID) -> asyncpg.Record:
    return await conn.fetchrow("SELECT ended_reason, updated_at, (SELECT managed_numbers FROM grants g WHERE "
                               "g.change_id = c.id ORDER BY seq DESC LIMIT 1) AS managed FROM changes c "
                               "WHERE id = $1", change_id)


async def add_grant(conn: Conn, change: Change, numbers: list[str], now: datetime) -> int:
    """The latest grant is the whole truth: the listed numbers are managed, the rest of the WABA only read."""
    seq = await conn.fetchval("INSERT INTO grants (change_id, seq, managed_numbers, granted_at) SELECT $1, "
                              "coalesce(max(seq), 0) + 1, $2, $3 FROM grants WHERE change_id = $1 RETURNING seq",
                              change.id, numbers, now)
    await conn.execute("UPDATE holdings SET managed = (phone_number = ANY($2)) WHERE phone_number = ANY($1) "
                       "AND partner_id = $3", list(change.phone_numbers), numbers, change.destination_partner)
    return int(seq)


async def remembered(conn: Conn, customer_id: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT request_hash, change_id FROM idempotency_keys WHERE customer_id = $1 "
                               "AND key = $2 FOR UPDATE", customer_id, key)


async def remember(conn: Conn, customer_id: str, key: str, request_hash: bytes, change_id: uuid.UUID) -> None:
    await conn.execute("INSERT INTO idempotency_keys (customer_id, key, request_hash, change_id) "
                       "VALUES ($1, $2, $3, $4)", customer_id, key, request_hash, change_id)
