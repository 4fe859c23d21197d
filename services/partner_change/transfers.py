"""The loop that finishes approved changes (every number at the approval's instant) and closes unapproved ones.

Approval and transfer commit separately: a crash between them leaves an approved change with its instant fixed,
which the next pass (after a restart, on any replica) transfers exactly once, in one transaction.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import asyncpg

from services.partner_change import announce, domain, repository
from shared import failpoints, outbox
from shared.clock import Clock
from shared.wakeup import Wakeup, fallback, looking, until

log = logging.getLogger("numport.partner_change")


@dataclass
class Transfers:
    pool: asyncpg.Pool
    clock: Clock

    async def pass_once(self) -> int:
        due = await repository.due(self.pool, self.clock.now())
        for row in due:
            await self._settle(row["id"])
        return len(due)

    async def _settle(self, change_id: uuid.UUID) -> None:
        failpoints.hit("partner_change.before_transfer")  # crash tests: approved and committed, nothing moved yet
        now = self.clock.now()
        async with self.pool.acquire() as conn, conn.transaction():
            change = await repository.load(conn, change_id, lock=True)
            if change is not None and change.state == "approved":
                await repository.transfer(conn, change)
                await repository.save(conn, domain.transfer(change), now)
                await outbox.append(conn, announce.transferred(change))
            elif change is not None and (ended := domain.expire(change, now)) is not None:
                await repository.save(conn, ended, now, "approval_expired")
                await outbox.append(conn, [announce.ended(ended, now)])

    async def look(self) -> float | None:
        """One pass; then the seconds until the next approval runs out (None: nothing waits on the clock)."""
        await self.pass_once()
        deadline = await repository.next_deadline(self.pool, now := self.clock.now())
        return until(deadline, now)

    async def run(self, every: float, wakeup: Wakeup) -> None:
        """Woken by commits that may have made work (see migrations/0002) and by the next deadline."""
        await looking(wakeup, self.look, every, fallback(self.clock), "partner change pass failed")
