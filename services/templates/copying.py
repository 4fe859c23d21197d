"""One migration call with its attempt committed first: Meta hears of it at most once unless Meta certainly did
nothing. An attempt whose answer never came waits out its outcome window, then is settled as `unknown` so the
round's check of the destination decides what is still missing (sent again by id, never by page)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from services.templates import domain, repository
from services.templates.meta_api import MetaTemplatesApi
from services.templates.repository import MigrationRow
from shared import attempts, failpoints
from shared.clock import Clock
from shared.errors import TransientError
from shared.graph import GraphPermanentError, certainly_not_applied

log = logging.getLogger("numport.templates")
RETRY_THROTTLED = timedelta(seconds=30)  # Meta turned the call away without a Retry-After: ask again later


@dataclass
class Copier:
    pool: asyncpg.Pool
    api: MetaTemplatesApi
    clock: Clock
    window: timedelta  # how long Meta may still act on a migration call we never heard back from

    async def send(self, m: MigrationRow, row: asyncpg.Record) -> timedelta | None:
        """Make one call of the round, or settle an earlier attempt; returns how long to wait before trying again."""
        step = f"round{m.round}.call{row['number']}"
        attempt, since = await attempts.open_attempt(self.pool, m.migration_id, step)
        if since is not None:
            if wait := attempts.still_in_flight(since, self.clock.now(), self.window):
                return wait
            return await self._unknown(m, row, step)
        async with self.pool.acquire() as conn, conn.transaction():
            await attempts.record_sent(conn, m.migration_id, step, attempt, self.clock.now())
        failpoints.hit("templates.before_send")
        call = domain.Call(row["page_number"], row["count"], tuple(row["template_ids"]))
        try:
            answer = await self.api.migrate(m.destination_waba_id or "", m.source_waba_id or "", call)
        except GraphPermanentError as error:
            await self._answered(m, row, step, {i: error.message for i in call.template_ids}, error.message)
            return None
        except TransientError as error:
            return await self._not_answered(m, step, error)
        failpoints.hit("templates.after_send")
        await self._answered(m, row, step, domain.failures(answer))
        return None

    async def _answered(self, m: MigrationRow, row: asyncpg.Record, step: str, failed: dict[str, str],
                        error: str | None = None) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await repository.note_meta_reasons(conn, m.migration_id, failed)
            await repository.set_call(conn, m.migration_id, m.round, row["number"], "answered", error)
            await attempts.settle(conn, m.migration_id, step, "done", self.clock.now())

    async def _unknown(self, m: MigrationRow, row: asyncpg.Record, step: str) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await repository.set_call(conn, m.migration_id, m.round, row["number"], "unknown")
            await attempts.settle(conn, m.migration_id, step, "unknown", self.clock.now())
        log.warning("a migration call was never answered; the destination's templates will tell",
                    extra={"migration_id": str(m.migration_id), "step": step})

    async def _not_answered(self, m: MigrationRow, step: str, error: TransientError) -> timedelta:
        if certainly_not_applied(error):  # throttled, or never connected: Meta did nothing, so ask again later
            await attempts.settle(self.pool, m.migration_id, step, "not_applied", self.clock.now())
            return timedelta(seconds=error.retry_after) if error.retry_after else RETRY_THROTTLED
        log.warning("a migration call's outcome is unknown; waiting out its window",
                    extra={"migration_id": str(m.migration_id), "step": step, "error": str(error)})
        return self.window

