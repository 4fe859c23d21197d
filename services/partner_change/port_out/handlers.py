"""Port-out handlers: a request starts one, Meta's webhooks and the periodic look at Meta move it on.

Graph is read outside the transaction; the row's change and its events (outbox) commit together under the row lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.partner_change.port_out import domain, repository, transitions
from services.partner_change.port_out.meta_api import PortOutGraph
from shared import outbox
from shared.clock import Clock
from shared.consumer import Unit
from shared.events import MetaWebhookChange, PortOutRequested
from shared.phone import to_e164
from shared.wakeup import Wakeup, fallback, looking, until

DUE_PAGE = 200  # port-outs checked per tick
log = logging.getLogger("numport.port_out")
WATCHED_FIELDS = frozenset({"security", "phone_number_quality_update"})


@dataclass
class PortOuts:
    pool: asyncpg.Pool
    graph: PortOutGraph
    clock: Clock
    limits: domain.Limits
    our_business_id: str

    async def on_requested(self, event: PortOutRequested, unit: Unit) -> None:
        owner, held_for = await self.graph.owners(event.waba_id)
        ownership = domain.ownership(owner, held_for, self.our_business_id)
        number_id = event.phone_number_id or await self.graph.number_id(event.waba_id, event.phone_number)
        now = self.clock.now()
        if number_id is None:
            row, events = transitions.gone_before_asked(event, ownership, now, self.limits)
        else:
            state = await self.graph.number_state(event.waba_id, number_id)
            row, events = transitions.start(event, number_id, ownership, state.pin_enabled, now, self.limits)
        async with unit.transaction() as tx:
            if await repository.insert(tx.conn, row, now):
                await tx.emit(*events)
                if number_id is None:
                    await repository.release(tx.conn, event.phone_number, event.waba_id)

    async def on_webhook(self, change: MetaWebhookChange, unit: Unit) -> None:
        number = number_of(change)
        if number is None or not await repository.any_open_for(self.pool, number):
            return  # most numbers Meta tells of are not leaving: one read, no transaction and no inbox mark
        async with unit.transaction() as tx:
            if (row := await repository.open_for(tx.conn, number)) is None:
                return
            port_out, now = repository.to_port_out(row), self.clock.now()
            await save(tx.conn, port_out, transitions.after_webhook(port_out, change, now, self.limits), now)

    async def check(self, port_out_id: object, waba_id: str, number_id: str) -> None:
        """One look at Meta for one open port-out."""
        state = await self.graph.number_state(waba_id, number_id)
        async with self.pool.acquire() as conn, conn.transaction():
            if (port_out := await repository.locked(conn, port_out_id)) is None:
                return
            now = self.clock.now()
            await save(conn, port_out, transitions.after_read(port_out, state, now, self.limits), now)

    async def tick(self) -> bool:
        """The due checks; True when some are left for the next tick (a full page, or a check that failed)."""
        due = await repository.due(self.pool, self.clock.now(), DUE_PAGE)
        left = len(due) == DUE_PAGE
        for row in due:
            try:
                await self.check(row["id"], row["waba_id"], row["phone_number_id"])
            except Exception as error:  # Meta away for one number must not stop the others; the next tick retries
                log.warning("port-out check failed", extra={"port_out_id": str(row["id"]), "error": repr(error)})
                left = True
        return left

    async def look(self) -> float | None:
        """The due checks; then the seconds until the next one (none: at once, after the shortest pause)."""
        if await self.tick():
            return 0.0
        following = await repository.next_check(self.pool, now := self.clock.now())
        return until(following, now)

    async def run(self, every: float, wakeup: Wakeup) -> None:
        """Woken by commits that may have moved a check (see migrations/0501) and by the next check's time."""
        await looking(wakeup, self.look, every, fallback(self.clock), "port-out tick failed")


def number_of(change: MetaWebhookChange) -> str | None:
    """The business number a watched webhook names (security webhooks carry it outside `metadata`)."""
    if change.field not in WATCHED_FIELDS:
        return None
    try:
        return change.phone_number or to_e164(str(change.value.get("display_phone_number") or ""))
    except ValueError:
        return None


async def save(conn: asyncpg.Connection, port_out: transitions.PortOut, outcome: transitions.Outcome,
               now: datetime) -> None:
    if outcome.changes:
        await repository.update(conn, port_out.id, outcome.changes, now)
    if outcome.released:
        await repository.release(conn, port_out.phone_number, port_out.waba_id)
    await outbox.append(conn, outcome.events)
