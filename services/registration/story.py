"""What a saga tells while it runs: a span per step in the migration's own trace, one line per step applied (from →
to, why), failures and escalations at warning, and how long each state and the whole migration took."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime

from services.registration import domain
from services.registration.repository import SagaRow
from services.registration.steps import Outcome
from shared import tracing
from shared.logging import bound
from shared.metrics import MIGRATION_SECONDS, SAGA_STEP_SECONDS

log = logging.getLogger("numport.registration.saga")


@contextlib.contextmanager
def step(saga: SagaRow, name: str | None = None) -> Iterator[None]:
    """Every line and Graph call of the step carries the migration; its span continues the saga's stored trace,
    even when a partner's request (a code entry) runs the step."""
    name = name or saga.state
    with bound(correlation_id=str(saga.correlation_id)), tracing.span(
            f"saga {name}", context=tracing.parent(saga.traceparent), step=name, migration_id=saga.migration_id):
        yield


def applied(saga: SagaRow, step: str, outcome: Outcome, now: datetime) -> None:
    kinds = [event.type for event in outcome.events]
    reason = next((getattr(e, "reason_code", None) for e in outcome.events if getattr(e, "reason_code", None)), None)
    message = next((getattr(e, "message", None) for e in outcome.events if e.type == "MigrationFailed"), None)
    trouble = outcome.state == "failed" or "MigrationEscalated" in kinds
    fields = {"migration_id": str(saga.migration_id), "correlation_id": str(saga.correlation_id), "step": step,
              "from": saga.state, "to": outcome.state, "reason": reason, "failure": message, "events": kinds}
    log.log(logging.WARNING if trouble else logging.INFO,
            "migration failed" if outcome.state == "failed" else
            "migration escalated" if trouble else "saga step applied",
            extra={k: v for k, v in fields.items() if v is not None})
    if outcome.state != saga.state:
        since = saga.state_since or saga.updated_at
        SAGA_STEP_SECONDS.labels(saga.state).observe(max(0.0, (now - since).total_seconds()))
    if outcome.state in domain.FINISHED and saga.state not in domain.FINISHED:
        MIGRATION_SECONDS.labels(outcome.state).observe(max(0.0, (now - saga.created_at).total_seconds()))
