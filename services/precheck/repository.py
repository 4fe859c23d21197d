"""Stores precheck reports (the audit trail) in the precheck schema."""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from shared.events import CheckOutcome, MigrationRequested


async def save_report(conn: asyncpg.Connection, req: MigrationRequested, outcome: str,
                      report: list[CheckOutcome], decided_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO reports (migration_id, phone_number, partner_id, outcome, report, decided_at) "
        "VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
        req.migration_id, req.phone_number, req.partner_id, outcome,
        json.dumps([c.model_dump() for c in report]), decided_at)
