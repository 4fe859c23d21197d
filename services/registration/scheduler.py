"""The saga's clockwork: starts the next number of each WABA, fires due timers, and advances every runnable saga
(new ones, and those a crash left mid-way), several migrations at a time.

It looks for work when a commit changed a saga's state or a timer (LISTEN/NOTIFY: any replica, any code path), when
the next timer falls due, and at the latest every `wakeup.FALLBACK_SECONDS`; never more often than every `every`
seconds. Each saga's work is a task of its own, so one slow saga never holds back the next look.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from services.registration import domain, repository
from services.registration.saga import Registration
from shared.wakeup import Wakeup, fallback, looking, until

log = logging.getLogger("numport.registration.scheduler")
RUNNABLE = f"state NOT IN ({', '.join(repr(state) for state in sorted(domain.WAITING | domain.FINISHED))})"
CHANNEL = "registration_work"


class Workers:
    """At most `concurrency` sagas worked on at once, each migration at most once in this process."""

    def __init__(self, concurrency: int, done: Callable[[], None]) -> None:
        self.gate, self.busy, self.done = asyncio.Semaphore(concurrency), set[uuid.UUID](), done
        self.tasks: set[asyncio.Task[None]] = set()

    def start(self, migration_id: uuid.UUID, work: Callable[[], Awaitable[None]]) -> None:
        if migration_id in self.busy:
            return
        self.busy.add(migration_id)
        task = asyncio.create_task(self._run(migration_id, work))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, migration_id: uuid.UUID, work: Callable[[], Awaitable[None]]) -> None:
        try:
            async with self.gate:
                await work()
        except Exception as error:  # one saga's trouble must not stop the others
            log.warning("saga work failed, will be retried", extra={"error": repr(error)})
        finally:
            self.busy.discard(migration_id)
            self.done()  # its commits may have made more work (a timer, the next number of the WABA)


# One look, one statement: start each free WABA's next number, and list the due timers, the runnable sagas (those it
# starts included: the statement's snapshot still shows them queued) and when the next timer falls due.
LOOK = (f"WITH started AS ({repository.START_FREE_WABAS} RETURNING s.migration_id) "
        "(SELECT 'timer' AS what, migration_id, kind, due_at FROM timers WHERE due_at <= $1 ORDER BY due_at LIMIT $2) "
        f"UNION ALL (SELECT 'saga', migration_id, NULL, NULL FROM sagas WHERE {RUNNABLE} LIMIT $2) "
        "UNION ALL SELECT 'saga', migration_id, NULL, NULL FROM started "
        "UNION ALL SELECT 'next', NULL, NULL, min(due_at) FROM timers WHERE due_at > $1")


async def tick(reg: Registration, workers: Workers) -> float | None:
    """Hand out what is due now; returns the seconds until the next timer falls due (None: no timer)."""
    now = reg.clock.now()
    found = await reg.pool.fetch(LOOK, now, 500)
    for timer in (row for row in found if row["what"] == "timer"):
        workers.start(timer["migration_id"], lambda t=timer: reg.on_timer(t["migration_id"], t["kind"]))
    for row in (row for row in found if row["what"] == "saga"):
        workers.start(row["migration_id"], lambda m=row["migration_id"]: reg.advance(m, wait=False))
    following = next((row["due_at"] for row in found if row["what"] == "next"), None)
    return until(following, now)


async def run(reg: Registration, every: float, concurrency: int = 8, listen_url: str | None = None) -> None:
    wakeup = Wakeup(listen_url, CHANNEL, "numport-scheduler")
    workers = Workers(concurrency, wakeup.event.set)
    # A clock moved from outside (tests, rehearsals) makes timers due without any commit: look every `every`.
    longest = fallback(reg.clock)
    try:
        await looking(wakeup, lambda: tick(reg, workers), every, longest, "scheduler tick failed")
    finally:
        for task in list(workers.tasks):
            task.cancel()
