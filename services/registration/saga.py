"""Runs registration sagas: one migration at a time under a PostgreSQL advisory lock, one step per transaction.

Before a Graph write the attempt is committed; after it, the result, the new state, the events (outbox) and the
timers commit together. A crash in between leaves an unsettled attempt, and the next run reads Meta's state
before deciding to send again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.registration import domain, repository, solution_intent, step_writes, steps, story, timers
from services.registration.repository import SagaRow
from services.registration.step_writes import Running
from shared import attempts, failpoints, locks
from shared import events as ev
from shared.clock import Clock
from shared.errors import TransientError
from shared.graph import GraphPermanentError, certainly_not_applied
from shared.secrets import Cipher, new_api_key

log = logging.getLogger("numport.registration")


class WriteInFlight(TransientError):
    """An earlier attempt of this step was sent and never answered; wait out its window before reading Meta."""


@dataclass
class Registration:
    pool: asyncpg.Pool
    ctx_factory: steps.ContextFactory
    clock: Clock
    cipher: Cipher
    lock_pool: asyncpg.Pool | None = None  # its own connections: a lock holder must never starve the work pool

    def locked(self, migration_id: uuid.UUID, wait: bool = True) -> contextlib.AbstractAsyncContextManager[bool]:
        return locks.held(self.lock_pool or self.pool, f"saga:{migration_id}", wait)

    async def advance(self, migration_id: uuid.UUID, wait: bool = True) -> None:
        async with self.locked(migration_id, wait) as mine:
            if mine:
                await self.advance_locked(migration_id)

    async def advance_locked(self, migration_id: uuid.UUID, interactive: bool = False,
                             current: Running | None = None) -> None:
        """Run steps until the saga waits or finishes. `interactive`: a person waits on this call, so a transient
        failure is theirs to hear about (and retry), not a timer's. `current`: the saga as the caller committed it;
        each step goes on with the row its commit returned, as under the lock nothing else moves a runnable saga."""
        current = current or await step_writes.load_running(self.pool, migration_id)
        while current is not None:
            saga, in_flight_since = current
            if saga.state in domain.WAITING or saga.state in domain.FINISHED:
                return
            try:
                with story.step(saga):
                    current = await self.run_step(saga, in_flight_since)
                if current is not None and current[0].state == saga.state:
                    raise TransientError(f"step {saga.state} made no progress")  # never spin on Meta
            except GraphPermanentError as error:
                current = await self.fail(saga, saga.state, f"META_{error.code}",
                                          f"Meta refused {saga.state}: {error.message}")
            except (TransientError, LookupError) as error:
                if interactive and isinstance(error, TransientError):
                    raise
                log.warning("saga step will be retried", extra={"migration_id": str(saga.migration_id),
                                                                 "step": saga.state, "error": str(error)})
                retry_at = self.clock.now() + timedelta(seconds=getattr(error, "retry_after", None) or 5)
                await repository.set_timer(self.pool, saga.migration_id, "advance", retry_at)
                return

    async def run_step(self, saga: SagaRow, in_flight_since: datetime | None) -> Running | None:
        """Returns the saga as the step committed it."""
        step, ctx = saga.state, self.ctx_factory(self.clock.now())
        if step == "api_key":
            return await self.issue_api_key(saga)
        if in_flight_since and (wait := domain.still_in_flight(in_flight_since, ctx.now, ctx.limits)):
            raise WriteInFlight(f"an earlier {step} may still be applied by Meta", retry_after=wait.total_seconds())
        check, send = (steps.register_check, None) if step == "register" else GRAPH_STEPS[step]
        outcome = await check(saga, ctx, in_flight_since is not None)
        if outcome is None:
            pin = await self.record_sent(saga, step, ctx)
            failpoints.hit(f"registration.before_send.{step}")
            try:
                outcome = await steps.register_send(saga, ctx, pin) if send is None else await send(saga, ctx)
            except TransientError as error:
                await self.settle_if_refused(saga, step, error)
                raise
            failpoints.hit(f"registration.after_send.{step}")
        return await self.apply(saga, step, outcome)

    async def record_sent(self, saga: SagaRow, step: str, ctx: steps.Context) -> str:
        """Commit the attempt (and for a first register the new PIN, encrypted) before Meta hears of it; returns the
        PIN register sends. A code entry also gets a timer that settles it from Meta's state if its answer never
        comes."""
        pin, new_pin = "", None
        if step == "register":
            pin = self.cipher.decrypt(saga.pin_ciphertext) if saga.pin_ciphertext else ctx.new_pin()
            new_pin = None if saga.pin_ciphertext else self.cipher.encrypt(pin)
        sent_at = self.clock.now()
        check_due = sent_at + ctx.limits.write_outcome_window if step == "verify_code" else None
        await step_writes.record_sent(self.pool, saga.migration_id, step, sent_at, new_pin, check_due)
        return pin

    async def settle_if_refused(self, saga: SagaRow, step: str, error: TransientError) -> None:
        """A call Meta turned away (throttled) or never heard of needs no outcome window: settle it now."""
        if certainly_not_applied(error):
            await attempts.settle(self.pool, saga.migration_id, step, "not_applied", self.clock.now())

    @staticmethod
    def entry_in_flight(since: datetime | None, ctx: steps.Context) -> WriteInFlight | None:
        """An earlier code entry (sent at `since`, unsettled) Meta may still be acting on, as the error to answer
        with while it may."""
        if since and (wait := domain.still_in_flight(since, ctx.now, ctx.limits)):
            return WriteInFlight("Meta is still checking an earlier entry of the code", wait.total_seconds())
        return None

    async def apply(self, saga: SagaRow, step: str, outcome: steps.Outcome,
                    also: tuple[str, tuple[Any, ...]] | None = None) -> Running | None:
        """Commit the step's result (one statement, with `also`: see step_writes.apply); returns the saga as
        committed."""
        now = self.clock.now()
        if outcome.state == "awaiting_templates":
            current = await self.wait_for_templates(saga, step, outcome, now)
        else:
            current = await self.write(self.pool, saga, step, outcome, now, also)
        story.applied(saga, step, outcome, now)  # a finished saga frees its WABA: the scheduler starts the next
        return current

    @staticmethod
    async def write(conn: asyncpg.Connection | asyncpg.Pool, saga: SagaRow, step: str, outcome: steps.Outcome,
                    now: datetime, also: tuple[str, tuple[Any, ...]] | None = None) -> Running | None:
        return await step_writes.apply(conn, saga.migration_id, step, now, {"state": outcome.state, **outcome.changes},
                                       outcome.events, outcome.timers, ("advance", *outcome.clear), also)

    async def wait_for_templates(self, saga: SagaRow, step: str, outcome: steps.Outcome,
                                 now: datetime) -> Running | None:
        """Register at once when the templates are already on the destination; else wait for them, bounded."""
        limits = self.ctx_factory(now).limits
        if limits.templates_wait:
            outcome = dataclasses.replace(outcome, timers={**outcome.timers,
                                                           "templates_deadline": now + limits.templates_wait})
        async with self.pool.acquire() as conn, conn.transaction():
            waiting = await self.write(conn, saga, step, outcome, now)
            moved = await step_writes.register_if_ready(conn, saga.migration_id, now,
                                                        not domain.waits_for_templates(False, limits))
        return moved or waiting

    async def fail(self, saga: SagaRow, step: str, reason_code: str, message: str) -> Running | None:
        failed = steps.event(ev.MigrationFailed, saga, self.clock.now(), step=step, reason_code=reason_code,
                             message=message)
        return await self.apply(saga, step, steps.Outcome("failed", events=[failed], clear=TIMER_KINDS))

    async def issue_api_key(self, saga: SagaRow) -> Running | None:
        """The key is stored with the step that announces it: a crash can no longer keep one key and announce
        another's prefix."""
        now = self.clock.now()
        key, digest, prefix = new_api_key("wa", saga.phone_number.lstrip("+"))
        issued = steps.event(ev.ApiKeyIssued, saga, now, key_prefix=prefix)
        completed = steps.event(ev.MigrationCompleted, saga, now, phone_number_id=saga.phone_number_id,
                                completed_at=saga.completed_at or now)
        return await self.apply(saga, "api_key",
                                steps.Outcome("completed", events=[issued, completed], clear=TIMER_KINDS),
                                repository.store_api_key(saga, digest, prefix, self.cipher.encrypt(key)))

    async def on_timer(self, migration_id: uuid.UUID, kind: str) -> None:
        async with self.locked(migration_id, wait=False) as mine:
            if not mine:
                return  # the saga is running right now; the timer stays due and fires on the next tick
            current = await step_writes.load_running(self.pool, migration_id)
            if current is None:
                return
            saga = current[0]
            if kind != "advance" and saga.state == timers.WAITS_FOR.get(kind):
                with story.step(saga, kind):
                    outcome = await timers.HANDLERS[kind](saga, self.ctx_factory(self.clock.now()))
                    current = await self.apply(saga, timers.SETTLES.get(kind, kind), outcome)
            else:
                await repository.clear_timers(self.pool, migration_id, kind)
            await self.advance_locked(migration_id, current=current)


TIMER_KINDS = timers.ALL_TIMERS
GRAPH_STEPS = {**steps.GRAPH_STEPS, **solution_intent.GRAPH_STEPS}
