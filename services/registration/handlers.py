"""Kafka-facing handlers: a new saga per eligible number, and the Embedded Signup session's result.

They only record; the scheduler runs the Graph steps, so consuming never waits on Meta.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.registration import domain, repository, steps
from services.registration.saga import Registration
from shared.consumer import Unit
from shared.errors import TransientError
from shared.events import EmbeddedSignupFinished, MigrationQueued, NumberEligible, TemplatesDuplicated


@dataclass
class RegistrationHandlers:
    reg: Registration

    async def on_number_eligible(self, event: NumberEligible, unit: Unit) -> None:
        now = self.reg.clock.now()
        async with unit.transaction() as tx:
            created = await repository.create(tx.conn, event, domain.first_state(event.flow), now)
            if created and domain.queues(event.flow):
                saga = await repository.load(tx.conn, event.migration_id)
                position = domain.queue_position(await repository.ahead_in_waba(tx.conn, saga))
                await tx.emit(steps.event(MigrationQueued, saga, now, destination_waba_id=saga.destination_waba_id,
                                          position=position))
        await self.reg.start_next_in_line(event.destination_waba_id)

    async def on_signup_finished(self, event: EmbeddedSignupFinished, unit: Unit) -> None:
        async with unit.transaction() as tx:
            saga = await repository.load(tx.conn, event.migration_id)
            if saga is None:
                raise TransientError("the eligible verdict of this migration has not reached registration yet", 1.0)
            if saga.state == "awaiting_signup":
                await repository.update(tx.conn, saga.migration_id, self.reg.clock.now(),
                                        state=domain.after(saga.flow, "awaiting_signup"),
                                        destination_waba_id=event.waba_id, phone_number_id=event.phone_number_id)

    async def on_templates_duplicated(self, event: TemplatesDuplicated, unit: Unit) -> None:
        """The templates are on the destination: a saga waiting for them registers now (the scheduler runs it)."""
        now = self.reg.clock.now()
        async with unit.transaction() as tx:
            if await repository.mark_templates_ready(tx.conn, event.migration_id, event.occurred_at) == \
                    "awaiting_templates":
                await repository.update(tx.conn, event.migration_id, now, state="register")  # in both flows
                await repository.clear_timers(tx.conn, event.migration_id, "templates_deadline")
