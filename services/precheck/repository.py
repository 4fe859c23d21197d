"""Stores precheck reports (the audit trail) in the precheck schema."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from shared.consumer import ONLY_IF_NEW
from shared.events import CheckOutcome, MigrationRequested


def report_saved(req: MigrationRequested, outcome: str, report: list[CheckOutcome],
                 decided_at: datetime) -> tuple[str, list[Any]]:
    """The report's insert, as the write of `Unit.once` (with the verdict in the same statement)."""
    return ("INSERT INTO reports (migration_id, phone_number, partner_id, outcome, report, decided_at) "
            f"SELECT $1::uuid, $2::text, $3::text, $4::text, $5::jsonb, $6::timestamptz WHERE {ONLY_IF_NEW}",
            [req.migration_id, req.phone_number, req.partner_id, outcome,
             json.dumps([c.model_dump() for c in report]), decided_at])
