"""Feeds the status read model from the events of every stage (the gateway never reads other services' tables)."""

from __future__ import annotations

from services.gateway import repository, status
from shared.consumer import Unit
from shared.events import Event

DETAIL_FIELDS = ("failed", "outcome", "message", "reason_code", "step", "phone_number_id", "completed_at", "ticket",
                 "position", "attempts_left", "key_prefix", "obo_request_id", "template_counts",
                 "template_downtime_seconds")


async def on_migration_event(event: Event, unit: Unit) -> None:
    async with unit.transaction() as tx:
        current = await repository.current_status(tx.conn, event.migration_id)
        await repository.add_to_timeline(tx.conn, event)
        if current is None:
            return
        detail = {k: v for k, v in event.model_dump(mode="json").items() if k in DETAIL_FIELDS}
        moved = status.evolve(current, event)
        await repository.set_status(tx.conn, event, moved or current, detail)
