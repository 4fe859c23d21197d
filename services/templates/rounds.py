"""A migration's duplication rounds: plan from fresh reads, copy, check the destination, report. Each phase commits
on its own, so a restart resumes at the phase it left; round 0 starts when the number is eligible, each manual retry
adds one that copies only what is still missing, by id."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from services.templates import domain, outcomes, reports, repository
from services.templates.copying import Copier
from services.templates.repository import MigrationRow
from shared import events as ev
from shared import locks, outbox
from shared.errors import TransientError
from shared.graph import GraphPermanentError
from shared.logging import bound

log = logging.getLogger("numport.templates")
MAX_RESENDS = 3  # times a round sends again by id what unanswered calls may not have copied
MAX_BACKOFF = timedelta(minutes=5)


@dataclass
class Rounds:
    copier: Copier
    lock_pool: asyncpg.Pool
    page_size: int = domain.MAX_PER_CALL
    parallel: int = 4  # Meta's pages may be sent side by side

    @property
    def pool(self) -> asyncpg.Pool:
        return self.copier.pool

    def locked(self, key: str) -> contextlib.AbstractAsyncContextManager[bool]:
        """One migration at a time per destination WABA: two would both find a template missing and copy it twice."""
        return locks.held(self.lock_pool, f"templates:{key}", wait=False)

    async def work(self, migration_id: uuid.UUID, destination: str | None) -> None:
        async with self.locked(destination or str(migration_id)) as mine:
            m = await repository.load(self.pool, migration_id) if mine else None
            if m is None:
                return
            with bound(correlation_id=str(m.correlation_id), migration_id=str(m.migration_id)):
                await self._work(m)

    async def _work(self, m: MigrationRow) -> None:
        """Runs outside any consumed record, so the migration's ids are bound here for every Graph call's log line."""
        try:
            await self.advance(m)
        except GraphPermanentError as error:  # the source or destination cannot be read: nothing to copy
            async with self.pool.acquire() as conn, conn.transaction():
                await self.finish(conn, m, f"Meta refused to show the templates: {error.message}")
        except TransientError as error:
            await self.back_off(m, error)

    async def advance(self, m: MigrationRow | None) -> None:
        """Phase after phase, each going on with the row the previous one committed (None: stop here)."""
        while m is not None:
            if m.phase == "done" and m.round < await repository.retries(self.pool, m.migration_id):
                m = await repository.update(self.pool, m.migration_id, self.copier.clock.now(), round=m.round + 1,
                                            phase="plan")
            elif m.phase == "plan":
                m = await self.plan(m)
            elif m.phase == "copy":
                m = await self.copy(m)
            elif m.phase == "verify":
                m = await self.verify(m)
            else:
                return

    async def plan(self, m: MigrationRow) -> MigrationRow | None:
        if not m.source_waba_id or not m.destination_waba_id:
            async with self.pool.acquire() as conn, conn.transaction():
                return await self.finish(conn, m, "No source WABA was named, so there are no templates to copy.")
        source, destination, limit = await self._read(m.source_waba_id, m.destination_waba_id)
        decisions = domain.decide(source, destination, limit or 0)
        planned = domain.calls(source, decisions, self.page_size, exact=m.round > 0)
        now = self.copier.clock.now()
        async with self.pool.acquire() as conn, conn.transaction():
            await repository.save_decisions(conn, m.migration_id, decisions, now)
            await repository.save_calls(conn, m.migration_id, m.round, planned, 0)
            copying = await repository.update(conn, m.migration_id, now, phase="copy", template_limit=limit)
            return copying if planned or copying is None else await self.finish(conn, copying)

    async def _read(self, source_id: str, destination_id: str) -> tuple[list, list, int | None]:
        """The source's templates; the destination's and its limit only when something could be copied."""
        source = await self.copier.api.templates(source_id)
        if all(domain.skip_reason(t) for t in source):
            return source, [], None
        destination, facts = await asyncio.gather(self.copier.api.templates(destination_id),
                                                  self.copier.api.limit_facts(destination_id))
        return source, destination, domain.template_limit(*facts)

    async def copy(self, m: MigrationRow) -> MigrationRow | None:
        """Send the round's open calls side by side; the row in `verify` once every call is answered or settled,
        None while some must wait."""
        open_calls = [c for c in await repository.calls(self.pool, m.migration_id, m.round) if c["state"] == "open"]
        gate = asyncio.Semaphore(self.parallel)

        async def one(row: asyncpg.Record) -> timedelta | None:
            async with gate:
                return await self.copier.send(m, row)

        waits = [w for w in await asyncio.gather(*(one(c) for c in open_calls)) if w is not None]
        now = self.copier.clock.now()
        if waits:
            await repository.update(self.pool, m.migration_id, now, not_before=now + min(waits))
            return None
        return await repository.update(self.pool, m.migration_id, now, phase="verify")

    async def verify(self, m: MigrationRow) -> MigrationRow | None:
        """What the destination holds decides each template; what unanswered calls may have missed goes again."""
        on_destination = {t.key: t for t in await self.copier.api.templates(m.destination_waba_id or "")}
        calls = await repository.calls(self.pool, m.migration_id, m.round)
        generation = max((c["generation"] for c in calls), default=0)
        may_resend = any(c["state"] == "unknown" for c in calls) and generation < MAX_RESENDS
        errors = "; ".join(sorted({c["error"] for c in calls if c["error"]})) or None
        now, resend = self.copier.clock.now(), []
        async with self.pool.acquire() as conn, conn.transaction():
            for row in [r for r in await repository.templates(conn, m.migration_id) if r["outcome"] == "migrate"]:
                key, copy = (row["name"], row["language"]), on_destination.get((row["name"], row["language"]))
                settled = outcomes.settle(copy, row["meta_reason"] or errors, now, may_resend)
                if settled is None:
                    resend.append(row["source_id"])
                else:
                    await repository.settle_template(conn, m.migration_id, key, settled, copy and copy.status)
            if resend:  # smaller calls: one that is never answered may have run past Meta's time limit
                size = max(1, min(self.page_size, len(resend)) // 2 ** (generation + 1))
                await repository.save_calls(conn, m.migration_id, m.round, domain.by_ids(resend, size), generation + 1)
                return await repository.update(conn, m.migration_id, now, phase="copy")
            return await self.finish(conn, m)

    async def finish(self, conn: asyncpg.Connection, m: MigrationRow,
                     problem: str | None = None) -> MigrationRow | None:
        """Report the round and close it; after registration, measure the downtime too. The row is updated first:
        its lock orders this against a registration arriving meanwhile, so one of the two measures."""
        now = self.copier.clock.now()
        if (done := await repository.update(conn, m.migration_id, now, phase="done", problem=problem,
                                            failures=0)) is None:
            return None  # stopped by the migration's failure: nothing to report
        m = done  # as this transaction left it (the limit, say)
        rows = await repository.templates(conn, m.migration_id)
        await outbox.append(conn, [reports.duplicated(m, rows, now, problem)])
        if (registered := await repository.registered_at(conn, m.migration_id)) is not None:
            await outbox.append(conn, await after_registration(conn, m, rows, registered, now))
        return m

    async def back_off(self, m: MigrationRow, error: TransientError) -> None:
        wait = timedelta(seconds=error.retry_after) if error.retry_after else min(
            MAX_BACKOFF, timedelta(seconds=2 ** min(m.failures, 10)))
        log.warning("template duplication will be retried", extra={
            "migration_id": str(m.migration_id), "phase": m.phase, "error": str(error), "in": wait.total_seconds()})
        now = self.copier.clock.now()
        await repository.update(self.pool, m.migration_id, now, failures=m.failures + 1, not_before=now + wait)


async def after_registration(conn: asyncpg.Connection, m: MigrationRow, rows: list[asyncpg.Record],
                             registered_at: datetime, now: datetime) -> list[ev.Event]:
    """A finished round of a registered number: its downtime. Templates left out for the limit get one more round
    (once), since the registered number's approved display name may have raised the destination's limit."""
    if any(r["reason_code"] == "LIMIT" for r in rows):
        await repository.add_retry(conn, m.migration_id, ev.derive_id(m.migration_id, "limit after registration"),
                                   now)
    return [reports.downtime(m, rows, registered_at, now)]
