"""What each request to Meta's Graph API leaves behind: one log line, its metrics and a span, under one operation
name derived from the path in one place."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from types import TracebackType

from shared import tracing
from shared.metrics import GRAPH_CALLS, GRAPH_SECONDS

log = logging.getLogger("numport.graph")
EDGE = re.compile(r"^[a-z][a-z_]*$")  # an edge or field name; anything else in a path is an id


def operation(method: str, path: str) -> str:
    """`POST /123/register` is `POST /{id}/register`: ids never become label values, so the series stay few."""
    parts = [part if EDGE.match(part) else "{id}" for part in path.split("?")[0].strip("/").split("/") if part]
    return f"{method} /{'/'.join(parts)}"


class Call:
    """One attempt of a Graph request; the client sets what it learnt (status, Meta's code, outcome) as it goes."""

    def __init__(self, method: str, path: str, attempt: int) -> None:
        self.operation, self.attempt = operation(method, path), attempt
        self.status: int | None = None
        self.meta_error: int | None = None  # Meta's error code ("code" would be masked as a secret)
        self.fbtrace_id: str | None = None
        self.outcome: str | None = None
        self.retry_in: float | None = None
        self._span = contextlib.ExitStack()
        self._started = 0.0

    def __enter__(self) -> Call:
        self.span = self._span.enter_context(tracing.span(f"graph {self.operation}", tracing.CLIENT,
                                                          operation=self.operation, attempt=self.attempt))
        self._started = time.perf_counter()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        seconds = time.perf_counter() - self._started
        outcome = self.outcome or ("failed" if error is not None else "ok")
        status = str(self.status) if self.status else "none"
        GRAPH_CALLS.labels(self.operation, status, outcome).inc()
        GRAPH_SECONDS.labels(self.operation).observe(seconds)
        fields = {"operation": self.operation, "status": self.status, "outcome": outcome, "attempt": self.attempt,
                  "latency_ms": round(seconds * 1000, 1), "meta_error": self.meta_error, "fbtrace_id": self.fbtrace_id,
                  "retry_in": None if self.retry_in is None else round(self.retry_in, 3)}
        fields = {k: v for k, v in fields.items() if v is not None}
        log.log(logging.INFO if outcome == "ok" else logging.WARNING, "graph call", extra=fields)
        self.span.set_attributes({f"numport.{k}": v for k, v in fields.items() if k != "operation"})
        self._span.__exit__(kind, error, tb)
