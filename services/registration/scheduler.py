"""The saga's clockwork: fires due timers, starts the next number of each WABA, resumes sagas after a restart."""

from __future__ import annotations

import asyncio
import logging

from services.registration import repository
from services.registration.saga import Registration

log = logging.getLogger("numport.registration.scheduler")
RUNNABLE = "state NOT IN ('queued', 'awaiting_obo', 'awaiting_code', 'awaiting_signup', 'setting_up', " \
           "'completed', 'failed')"


async def tick(reg: Registration) -> None:
    for timer in await repository.due_timers(reg.pool, reg.clock.now()):
        await reg.on_timer(timer["migration_id"], timer["kind"])
    for waba_id in await repository.wabas_with_queue(reg.pool):
        await reg.start_next_in_line(waba_id)
    for row in await reg.pool.fetch(f"SELECT migration_id FROM sagas WHERE {RUNNABLE}"):
        await reg.advance(row["migration_id"], wait=False)  # a saga left mid-way by a crash picks up here


async def run(reg: Registration, every: float) -> None:
    while True:
        try:
            await tick(reg)
        except Exception as error:  # Meta or PostgreSQL away: nothing is lost, the next tick tries again
            log.warning("scheduler tick failed", extra={"error": repr(error)})
        await asyncio.sleep(every)
