"""Kafka-facing handlers of precheck: parse, load facts, decide, save and emit."""

from __future__ import annotations

from dataclasses import dataclass

from services.precheck import repository
from services.precheck.evaluate import evaluate
from services.precheck.meta_api import MetaGraphFacts
from shared.clock import Clock
from shared.consumer import Unit
from shared.events import MigrationRequested


@dataclass
class Precheck:
    facts: MetaGraphFacts
    clock: Clock

    async def on_migration_requested(self, event: MigrationRequested, unit: Unit) -> None:
        outcome, report, verdict = await evaluate(event, self.facts, self.clock.now())
        await unit.once(*repository.report_saved(event, outcome, report, verdict.occurred_at), events=[verdict])
