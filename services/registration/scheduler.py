"""The saga's clockwork: starts the next number of each WABA, fires due timers, and advances every runnable saga
(new ones, and those a crash left mid-way), several migrations at a time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from services.registration import domain, repository
from services.registration.saga import Registration

log = logging.getLogger("numport.registration.scheduler")
RUNNABLE = f"state NOT IN ({', '.join(repr(state) for state in sorted(domain.WAITING | domain.FINISHED))})"


async def tick(reg: Registration, concurrency: int = 8) -> None:
    """Different migrations advance side by side (each under its own lock); one migration never twice at once."""
    gate = asyncio.Semaphore(concurrency)

    async def guarded(work: Awaitable[None]) -> None:
        async with gate:
            try:
                await work
            except Exception as error:  # one saga's trouble must not stop the others
                log.warning("saga work failed, will be retried", extra={"error": repr(error)})

    await repository.start_free_wabas(reg.pool, reg.clock.now())
    timers = await repository.due_timers(reg.pool, reg.clock.now(), limit=500)
    runnable = await reg.pool.fetch(f"SELECT migration_id FROM sagas WHERE {RUNNABLE} LIMIT 500")
    await asyncio.gather(*(guarded(reg.on_timer(t["migration_id"], t["kind"])) for t in timers),
                         *(guarded(reg.advance(r["migration_id"], wait=False)) for r in runnable))


async def run(reg: Registration, every: float, concurrency: int = 8) -> None:
    while True:
        try:
            await tick(reg, concurrency)
        except Exception as error:  # Meta or PostgreSQL away: nothing is lost, the next tick tries again
            log.warning("scheduler tick failed", extra={"error": repr(error)})
        await asyncio.sleep(every)
