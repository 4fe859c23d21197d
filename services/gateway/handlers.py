"""Feeds the status read model from the events of every stage (the gateway never reads other services' tables)."""

from __future__ import annotations

import uuid
from typing import Any

from services.gateway import repository, status
from shared.consumer import Tx
from shared.events import Event

DETAIL_FIELDS = ("failed", "outcome", "message", "reason_code", "step", "phone_number_id", "completed_at", "ticket",
                 "position", "attempts_left", "key_prefix", "obo_request_id", "template_counts",
                 "template_downtime_seconds", "migration_intent_id")


async def on_migration_events(events: list[Event], tx: Tx) -> None:
    """One poll in one transaction: every event joins its timeline, each migration's events fold into its status
    in the order they arrived, and each migration's row is written once."""
    current = await repository.current_statuses(tx.conn, {e.migration_id for e in events})
    await repository.add_all_to_timeline(tx.conn, events)
    changes: dict[uuid.UUID, repository.Change] = {}
    for event in events:
        if (now := current.get(event.migration_id)) is None:
            continue
        current[event.migration_id] = status.evolve(now, event) or now
        detail: dict[str, Any] = {k: v for k, v in event.model_dump(mode="json").items() if k in DETAIL_FIELDS}
        before = changes.get(event.migration_id)
        changes[event.migration_id] = repository.Change(
            current[event.migration_id], {**before.detail, **detail} if before else detail,
            max(before.at, event.occurred_at) if before else event.occurred_at)
    await repository.set_statuses(tx.conn, changes)
