"""Kafka-facing handlers: a new saga per eligible number, and the Embedded Signup session's result.

They only record; the scheduler runs the Graph steps, so consuming never waits on Meta.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.registration import domain, repository, solution_intent, step_writes, steps
from services.registration.saga import Registration
from shared.consumer import Tx, Unit
from shared.errors import TransientError
from shared.events import (
    EmbeddedSignupFinished,
    MetaWebhookChange,
    MigrationPathChosen,
    MigrationQueued,
    NumberEligible,
    TemplatesDuplicated,
)


@dataclass
class RegistrationHandlers:
    reg: Registration

    async def on_number_eligible(self, event: NumberEligible, unit: Unit) -> None:
        async with unit.transaction() as tx:
            await self.create_saga(tx, event)  # the scheduler starts it when its WABA is free (start_free_wabas)

    async def create_saga(self, tx: Tx, event: NumberEligible) -> None:
        """A qualifying number takes the no-code path; the timeline says which path and why, then the queue place."""
        now, qualification = self.reg.clock.now(), event.solution_migration
        flow = domain.flow_for(event.flow, qualification)
        solution = qualification.solution_id if qualification and flow == "solution_intent" else None
        if (created := await repository.create(tx.conn, event, flow, domain.first_state(flow), now, solution)) is None:
            return
        (saga, ahead), told = created, []
        if chosen := domain.path_chosen(event.flow, qualification):
            path, reason, message = chosen
            told.append(steps.event(MigrationPathChosen, saga, now, path=path, reason_code=reason, message=message))
        if domain.queues(flow):
            told.append(steps.event(MigrationQueued, saga, now, destination_waba_id=saga.destination_waba_id,
                                    position=domain.queue_position(ahead)))
        await tx.emit(*told)  # one outbox statement, in this order

    async def on_partner_added(self, change: MetaWebhookChange, unit: Unit) -> None:
        """Meta's account_update PARTNER_ADDED: the customer accepted a request on these WABAs. A saga waiting for its
        intent reads it now; the read, not the webhook, decides (the webhook names no intent)."""
        if wabas := solution_intent.wabas_of_partner_added(change):
            async with unit.transaction() as tx:
                await repository.poll_intents_now(tx.conn, wabas, self.reg.clock.now())

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
            await repository.mark_templates_ready(tx.conn, event.migration_id, event.occurred_at)
            await step_writes.register_if_ready(tx.conn, event.migration_id, now, without_templates=True)
