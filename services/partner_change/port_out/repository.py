"""Port-out rows in partner_change's schema (asyncpg): insert once, lock one, list the due and the open by number."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

from services.partner_change.port_out.transitions import PortOut

ONE_OPEN_PER_NUMBER = "port_outs_one_open_per_number"
JSON_COLUMNS = ("steps", "ticket")
COLUMNS = ("id", "phone_number", "waba_id", "partner_id", "requested_at", "state", "ticket", "due_at", "reminders",
           "next_reminder_at", "escalated_at")


def to_port_out(row: asyncpg.Record) -> PortOut:
    data = {name: row[name] for name in COLUMNS}
    data["ticket"] = json.loads(row["ticket"]) if row["ticket"] else None
    return PortOut(**data)


def _value(name: str, value: Any) -> Any:
    return json.dumps(value) if name in JSON_COLUMNS and value is not None else value


async def insert(conn: asyncpg.Connection, row: dict[str, Any], now: datetime) -> bool:
    """False when this port-out is already saved (a redelivered request)."""
    names = [*row, "updated_at"]
    values = [_value(name, row[name]) for name in row] + [now]
    placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    done = await conn.execute(f"INSERT INTO port_outs ({', '.join(names)}) VALUES ({placeholders}) "
                              "ON CONFLICT (id) DO NOTHING", *values)
    return done.endswith(" 1")


async def update(conn: asyncpg.Connection, port_out_id: Any, changes: dict[str, Any], now: datetime) -> None:
    changes = {**changes, "updated_at": now}
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(changes, start=2))
    await conn.execute(f"UPDATE port_outs SET {sets} WHERE id = $1", port_out_id,
                       *(_value(name, value) for name, value in changes.items()))


async def locked(conn: asyncpg.Connection, port_out_id: Any) -> PortOut | None:
    row = await conn.fetchrow("SELECT * FROM port_outs WHERE id = $1 FOR UPDATE", port_out_id)
    return to_port_out(row) if row else None


async def open_for(conn: asyncpg.Connection, phone_number: str) -> asyncpg.Record | None:
    """The number's open port-out (at most one), locked."""
    return await conn.fetchrow("SELECT * FROM port_outs WHERE phone_number = $1 AND state <> 'departed' FOR UPDATE",
                               phone_number)


async def any_open_for(pool: asyncpg.Pool, phone_number: str) -> bool:
    return bool(await pool.fetchval("SELECT EXISTS (SELECT FROM port_outs WHERE phone_number = $1 "
                                    "AND state <> 'departed')", phone_number))


async def due(pool: asyncpg.Pool, now: datetime, limit: int = 200) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT id, phone_number_id, waba_id FROM port_outs WHERE state <> 'departed' "
                            "AND next_check_at <= $1 ORDER BY next_check_at LIMIT $2", now, limit)


async def next_check(pool: asyncpg.Pool, now: datetime) -> datetime | None:
    return await pool.fetchval("SELECT min(next_check_at) FROM port_outs WHERE state <> 'departed' "
                               "AND next_check_at > $1", now)


async def one(pool: asyncpg.Pool, port_out_id: Any) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM port_outs WHERE id = $1", port_out_id)


async def release(conn: asyncpg.Connection, phone_number: str, waba_id: str) -> None:
    """The number left: partner change's holdings no longer count it as ours (same schema, same transaction)."""
    await conn.execute("UPDATE holdings SET held = false WHERE phone_number = $1 AND waba_id = $2",
                       phone_number, waba_id)
