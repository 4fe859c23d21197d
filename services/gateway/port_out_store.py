"""The gateway's port-out SQL: who holds a number (partner_change's holdings), the requests it recorded, and their
progress as partner_change's port_outs table shows it (read like billing's views, never written)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from services.gateway.callers import Caller
from shared.events import PortOutRequested

JOIN = "LEFT JOIN partner_change.port_outs p ON p.id = r.id"
VISIBLE = "(r.partner_id = $2 OR r.business_id = $3)"  # a partner sees its numbers, a customer its business's
PROGRESS = ("p.state, p.path, p.steps, p.ticket, p.due_at, p.reminders, p.escalated_at, p.two_step_off_at, "
            "p.ticket_closed_at, p.departed_at, p.detected_by, p.subscription")


def _scope(caller: Caller) -> tuple[str | None, str | None]:
    return (caller.id, None) if caller.kind == "partner" else (None, caller.business_id)


async def holding(conn: asyncpg.Connection, caller: Caller, phone_number: str) -> asyncpg.Record | None:
    """The number as we hold it, when the caller may let it go: its partner, or the business it serves."""
    if not await _tracked(conn):
        return None  # no partner-change service has recorded any number yet
    partner, business = _scope(caller)
    return await conn.fetchrow("SELECT waba_id, business_id, partner_id FROM partner_change.holdings "
                               "WHERE phone_number = $1 AND held AND (partner_id = $2 OR business_id = $3)",
                               phone_number, partner, business)


async def open_request(conn: asyncpg.Connection, phone_number: str) -> uuid.UUID | None:
    """The number's port-out that has not ended in a departure, locked against a racing request for the number."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('port-out:' || $1))", phone_number)
    return await conn.fetchval(f"SELECT r.id FROM port_out_requests r {JOIN} WHERE r.phone_number = $1 "
                               "AND (p.state IS NULL OR p.state <> 'departed') LIMIT 1", phone_number)


async def record(conn: asyncpg.Connection, event: PortOutRequested, business_id: str | None, at: datetime) -> None:
    await conn.execute("INSERT INTO port_out_requests (id, phone_number, waba_id, partner_id, business_id, "
                       "requested_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)", event.migration_id,
                       event.phone_number, event.waba_id, event.partner_id, business_id, event.requested_by, at)


async def one(pool: asyncpg.Pool, caller: Caller, port_out_id: uuid.UUID) -> dict[str, Any] | None:
    found = await listing(pool, caller, 1, port_out_id)
    return found[0] if found else None


async def listing(pool: asyncpg.Pool, caller: Caller, limit: int,
                  port_out_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """The caller's port-outs, newest first (or the one named); none before partner_change recorded a number."""
    async with pool.acquire() as conn:
        if not await _tracked(conn):
            return []
        rows = await conn.fetch(f"SELECT r.*, {PROGRESS} FROM port_out_requests r {JOIN} WHERE {VISIBLE} "
                                "AND ($4::uuid IS NULL OR r.id = $4) ORDER BY r.created_at DESC, r.id DESC LIMIT $1",
                                limit, *_scope(caller), port_out_id)
    return [dict(r) for r in rows]


async def _tracked(conn: asyncpg.Connection) -> bool:
    """partner_change's schema is there (its holdings and port_outs come in one migration set)."""
    return bool(await conn.fetchval("SELECT to_regclass('partner_change.port_outs') IS NOT NULL"))
