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


OPTIMISTIC_ROUNDS = 3  # then the rows are locked: a poll always ends, however busy its migrations are


async def on_migration_events(events: list[Event], tx: Tx) -> None:
    """Fold a poll's events into their migrations' statuses, two statements a round and no transaction: read the
    rows (with which events each timeline already holds, so a redelivered one is not folded twice), then write
    every change with its timeline entries where the row is still as read. A migration changed meanwhile (another
    replica's poll, the API) is folded again; after a few rounds under its row lock."""
    pending = list({e.event_id: e for e in reversed(events)}.values())[::-1]  # a poll's duplicate: its first
    for _ in range(OPTIMISTIC_ROUNDS):
        if not (pending := await _fold(tx, pending, lock=False)):
            return
    async with tx.conn.transaction():
        await _fold(tx, pending, lock=True)


async def _fold(tx: Tx, events: list[Event], lock: bool) -> list[Event]:
    """One round; returns the events of migrations whose row another writer changed since it was read."""
    found = await repository.folded(tx.conn, {e.migration_id for e in events}, [e.event_id for e in events], lock)
    fresh = [e for e in events if (row := found.get(e.migration_id)) is not None and e.event_id not in row.seen]
    changes: dict[uuid.UUID, repository.Change] = {}
    for event in fresh:
        before = changes.get(event.migration_id)
        now = before.status if before else found[event.migration_id].status
        detail: dict[str, Any] = {k: v for k, v in event.model_dump(mode="json").items() if k in DETAIL_FIELDS}
        changes[event.migration_id] = repository.Change(
            status.evolve(now, event) or now, {**before.detail, **detail} if before else detail,
            max(before.at, event.occurred_at) if before else event.occurred_at, found[event.migration_id].version)
    written = await repository.apply(tx.conn, changes, fresh)
    return [e for e in fresh if e.migration_id not in written]
