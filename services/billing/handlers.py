"""Billing's handlers: a batch of status webhooks moves the ledger; holder changes re-attribute what they move.

Both write the ledger rows, the totals' deltas and the attribution stream (through the outbox) in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import asyncpg

from services.billing import repository as repo
from services.billing.domain import HolderChange, StatusUpdate
from services.billing.holders import holder_change
from services.billing.ledger import Change, advance, fold, reattribute, total_deltas
from services.billing.records import attribution_payload
from shared import failpoints
from shared.consumer import Tx
from shared.errors import PermanentError
from shared.events import Event


@dataclass
class Statuses:
    """The batch handler; remembers which Graph ids it already recorded, so a batch writes only new ones."""

    known_ids: set[tuple[str, str]] = field(default_factory=set)

    async def __call__(self, batches: list[tuple[StatusUpdate, ...]], tx: Tx) -> None:
        conn = tx.conn
        statuses = [status for batch in batches for status in batch]
        await repo.lock_timeline(conn, exclusive=False)
        numbers = await self._numbers(conn, statuses)
        merged = fold(((numbers[s.phone_number_id] if s.phone_number is None else s.phone_number, s.message_id), s)
                      for s in statuses)
        keys = sorted(merged)
        timelines = await repo.timelines(conn, {number for number, _ in keys})
        prior = await repo.rows_of(conn, keys)
        changes = [c for key in keys
                   if (c := advance(key, prior.get(key), merged[key], timelines.get(key[0], []))) is not None]
        await save(conn, changes)

    async def _numbers(self, conn: asyncpg.Connection, statuses: list[StatusUpdate]) -> dict[str | None, str]:
        """Graph id -> number for statuses that came without the number; records the pairs seen with both."""
        seen = {(s.phone_number_id, s.phone_number) for s in statuses if s.phone_number and s.phone_number_id}
        if fresh := seen - self.known_ids:
            await repo.learn_number_ids(conn, fresh)
            self.known_ids |= fresh
        missing = {s.phone_number_id for s in statuses if s.phone_number is None}
        found = await repo.numbers_of(conn, [i for i in missing if i]) if missing else {}
        if unknown := missing - set(found):
            raise PermanentError(f"no business number is known for phone_number_id {sorted(map(str, unknown))}")
        return found  # type: ignore[return-value]


async def on_holder_events(events: list[Event], tx: Tx) -> None:
    """Numbers changed hands: put the changes on their timelines, then move the messages they affect, per number.

    A burst of migrations (a batch import) takes the exclusive timeline lock once, not once per migration.
    """
    conn = tx.conn
    await repo.lock_timeline(conn, exclusive=True)
    await repo.learn_number_ids(conn, {(e.phone_number_id, e.phone_number) for e in events
                                       if getattr(e, "phone_number_id", None)})
    added: dict[str, list[HolderChange]] = {}
    for event in events:
        change = holder_change(event)
        if await repo.add_holder_change(conn, event.phone_number, change, event.event_id):  # else a replay
            added.setdefault(event.phone_number, []).append(change)
    timelines = await repo.timelines(conn, added)
    changes: list[Change] = []
    for number in sorted(added):
        rows = await repo.rows_sent_between(conn, number, *_window(timelines[number], added[number]))
        changes += [c for key, row in sorted(rows.items()) if (c := reattribute(key, row, timelines[number]))]
    await save(conn, changes)


def _window(timeline: list[HolderChange], new: list[HolderChange]) -> tuple[int | None, int | None]:
    """Only messages sent between the changes around the new ones can change holder."""
    before = [c.at for c in timeline if c.at < min(n.at for n in new)]
    after = [c.at for c in timeline if c.at > max(n.at for n in new)]
    return (max(before) if before else None), (min(after) if after else None)


async def save(conn: asyncpg.Connection, changes: list[Change]) -> None:
    await repo.write_rows(conn, changes)
    failpoints.hit("billing.mid_batch")  # crash tests: rows written, totals and stream not yet, nothing committed
    await repo.queue_attributions(conn, list(_stream(changes)))
    # Last before the commit: a replica adding to the same day's totals waits for these rows' locks until then.
    await repo.add_totals(conn, total_deltas(changes))


def _stream(changes: Iterable[Change]) -> Iterable[tuple]:
    """A reversal of what a re-attribution cancels, then the new attribution, for each re-attributed message."""
    for change in changes:
        if not change.reattributed:
            continue
        (number, wamid), row = change.key, change.row
        if change.previous is not None:
            yield (*attribution_payload(number, wamid, "reversal", row.version - 1, change.previous, None), number)
        assert row.attribution is not None
        yield (*attribution_payload(number, wamid, "attribution", row.version, row.attribution,
                                    row.state.delivered_at), number)

