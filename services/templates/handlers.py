"""Kafka-facing handlers: they only record (a new migration, a registration, a retry, what Meta's webhooks say);
the rounds loop makes the Graph calls, so consuming never waits on Meta."""

from __future__ import annotations

from dataclasses import dataclass

from services.templates import outcomes, reports, repository
from services.templates.domain import language_key
from services.templates.rounds import after_registration
from shared.clock import Clock
from shared.consumer import Unit
from shared.errors import TransientError
from shared.events import (
    EmbeddedSignupFinished,
    MetaWebhookChange,
    MigrationFailed,
    NumberEligible,
    PhoneRegistered,
    TemplatesRetryRequested,
)


@dataclass
class TemplatesHandlers:
    clock: Clock

    async def on_number_eligible(self, event: NumberEligible, unit: Unit) -> None:
        """Round 0 starts at once: the earlier the copy, the likelier it lands before registration."""
        phase = "awaiting_signup" if event.flow == "embedded_signup" else "plan"
        await unit.once(*repository.created(event, phase, self.clock.now()))

    async def on_signup_finished(self, event: EmbeddedSignupFinished, unit: Unit) -> None:
        async with unit.transaction() as tx:
            m = await repository.load(tx.conn, event.migration_id)
            if m is None:
                raise TransientError("the eligible verdict of this migration has not reached templates yet", 1.0)
            if m.phase == "awaiting_signup":
                await repository.update(tx.conn, m.migration_id, self.clock.now(), phase="plan",
                                        destination_waba_id=event.waba_id)

    async def on_registration_event(self, event: PhoneRegistered | MigrationFailed, unit: Unit) -> None:
        if isinstance(event, MigrationFailed):
            async with unit.transaction() as tx:
                await repository.stop(tx.conn, event.migration_id, event.reason_code, self.clock.now())
            return
        await self.on_phone_registered(event, unit)

    async def on_phone_registered(self, event: PhoneRegistered, unit: Unit) -> None:
        """The registration instant the downtime runs from; a round still under way measures it when it ends."""
        async with unit.transaction() as tx:
            await repository.record_registration(tx.conn, event.migration_id, event.completed_at)
            m = await repository.load(tx.conn, event.migration_id, lock=True)
            if m is not None and m.phase == "done":
                rows = await repository.templates(tx.conn, m.migration_id)
                await tx.emit(*await after_registration(tx.conn, m, rows, event.completed_at, self.clock.now()))

    async def on_retry_requested(self, event: TemplatesRetryRequested, unit: Unit) -> None:
        async with unit.transaction() as tx:
            await repository.add_retry(tx.conn, event.migration_id, event.request_id, event.occurred_at)

    async def on_webhook(self, change: MetaWebhookChange, unit: Unit) -> None:
        """Meta's word on a copy after duplication: its outcome follows, and a re-categorisation is announced."""
        found = outcomes.change_of(change.field, change.value)
        if found is None:
            return
        now, key = self.clock.now(), (found.name, language_key(found.language))
        async with unit.transaction() as tx:
            for copy in await repository.copies(tx.conn, change.waba_id, key):
                after = outcomes.outcome_after(copy["outcome"], found)
                await repository.change_copy(tx.conn, copy["migration_id"], key, outcome=after,
                                             status=found.status, category=found.category, quality=found.quality,
                                             template_id=found.template_id)
                if outcomes.recategorised(found, copy["category"]):
                    await tx.emit(reports.recategorised(copy, change.waba_id, found, after, now))
