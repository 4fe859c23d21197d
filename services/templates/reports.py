"""The templates service's events, built from its rows: a round's outcome, the downtime, a re-categorisation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from services.templates import outcomes
from services.templates.outcomes import TemplateChange
from services.templates.repository import MigrationRow
from shared import events as ev

UNFINISHED = ("failed", "NOT_COPIED", "The round stopped before this template was copied; retry the templates.")


Who = tuple[uuid.UUID, str, uuid.UUID]  # the migration, its number (the Kafka key), its correlation id


def who(m: MigrationRow) -> Who:
    return m.migration_id, m.phone_number, m.correlation_id


def event(cls: type[ev.Event], about: Who, now: datetime, **fields: Any) -> Any:
    migration_id, phone_number, correlation_id = about
    return cls.create(migration_id=migration_id, phone_number=phone_number, correlation_id=correlation_id,
                      occurred_at=now, producer="templates", **fields)


def outcome_of(row: asyncpg.Record) -> ev.TemplateOutcome:
    outcome, code, reason = (row["outcome"], row["reason_code"], row["reason"]) if row["outcome"] != "migrate" \
        else UNFINISHED
    return ev.TemplateOutcome(name=row["name"], language=row["language"], category=row["category"], outcome=outcome,
                              reason_code=code, reason=reason, template_id=row["template_id"],
                              rating_window_ends_at=row["rating_window_ends_at"])


def duplicated(m: MigrationRow, rows: list[asyncpg.Record], now: datetime,
               problem: str | None) -> ev.TemplatesDuplicated:
    listed = tuple(outcome_of(r) for r in rows)
    return event(ev.TemplatesDuplicated, who(m), now, round=m.round, source_waba_id=m.source_waba_id or "",
                 destination_waba_id=m.destination_waba_id or "", template_limit=m.template_limit, templates=listed,
                 template_counts=outcomes.counts([t.outcome for t in listed]), problem=problem)


def downtime(m: MigrationRow, rows: list[asyncpg.Record], registered_at: datetime,
             now: datetime) -> ev.TemplateDowntimeMeasured:
    usable = [r["usable_at"] for r in rows if r["outcome"] in outcomes.ON_DESTINATION and r["usable_at"]]
    last, seconds = outcomes.downtime(registered_at, usable)
    return event(ev.TemplateDowntimeMeasured, who(m), now, round=m.round, registered_at=registered_at,
                 last_usable_at=last, template_downtime_seconds=round(seconds, 3), templates_counted=len(usable))


def recategorised(copy: asyncpg.Record, waba_id: str, change: TemplateChange, outcome: str,
                  now: datetime) -> ev.TemplateRecategorised:
    about = (copy["migration_id"], copy["phone_number"], copy["correlation_id"])
    return event(ev.TemplateRecategorised, about, now, destination_waba_id=waba_id, template_id=change.template_id,
                 name=change.name, language=change.language, status=change.status or copy["status"] or "APPROVED",
                 category=change.category or copy["category"], correct_category=change.correct_category,
                 reason=change.reason, template_outcome=outcome)
