"""What the consumer runtime tells about what it handles: per record one log line and a span that continues the
producer's trace, with the migration's correlation id on every line logged meanwhile; per batch one line and one
span, so a hot batch subscription pays per poll, never per record."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from shared import tracing
from shared.kafka import Record
from shared.logging import log_context

log = logging.getLogger("numport.consumer")


class Seen:
    """One record being handled: what it turned out to be, and what became of it."""

    def __init__(self, span: Any) -> None:
        self.span, self.outcome = span, "failed"
        self.fields: dict[str, Any] = {}

    def about(self, event: Any) -> None:
        """A migration's event binds its correlation id to every line logged while it is handled."""
        self.fields = {"event_type": getattr(event, "type", type(event).__name__), "event_id": str(event.event_id)}
        correlation = getattr(event, "correlation_id", None)
        if correlation is not None:
            self.fields["correlation_id"] = str(correlation)
        log_context.set({**log_context.get(), **self.fields})
        self.span.set_attributes({f"numport.{k}": v for k, v in self.fields.items()})


@contextlib.contextmanager
def record(record: Record) -> Iterator[Seen]:
    where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
    token, started = log_context.set(where), time.perf_counter()
    try:
        with tracing.span(f"consume {record.topic}", tracing.CONSUMER, tracing.parent_of_record(record.headers),
                          **where) as span:
            seen = Seen(span)
            try:
                yield seen
            finally:
                span.set_attribute("numport.outcome", seen.outcome)
                _tell(seen, time.perf_counter() - started)
    finally:
        log_context.reset(token)


def _tell(seen: Seen, seconds: float) -> None:
    """Events of a migration at info; webhook traffic and records of types not subscribed to only at debug."""
    level = logging.INFO if "correlation_id" in seen.fields and seen.outcome != "ignored" else logging.DEBUG
    if seen.outcome == "failed":
        level = logging.WARNING
    if log.isEnabledFor(level):
        log.log(level, "event consumed", extra={**seen.fields, "outcome": seen.outcome,
                                                "duration_ms": round(seconds * 1000, 1)})


class Batch:
    """One batch of one topic; the consumer counts what it found in it."""

    def __init__(self, span: Any, records: int) -> None:
        self.span, self.records, self.events, self.malformed = span, records, 0, 0


@contextlib.contextmanager
def batch(topic: str, records: Sequence[Record]) -> Iterator[Batch]:
    """The batch's span links to each record's trace, so every migration's trace reaches it."""
    started = time.perf_counter()
    links = [c for r in records if (c := tracing.parent_of_record(r.headers)) is not None] if tracing.ON else []
    with tracing.span(f"consume batch {topic}", tracing.CONSUMER, links=links, topic=topic,
                      records=len(records)) as span:
        counts = Batch(span, len(records))
        yield counts
        span.set_attributes({"numport.events": counts.events, "numport.malformed": counts.malformed})
    log.info("batch consumed", extra={"topic": topic, "records": len(records), "events": counts.events,
                                      "malformed": counts.malformed,
                                      "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
