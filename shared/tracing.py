"""OpenTelemetry traces, off unless configured: one migration is one trace, its context carried by the W3C
`traceparent` in Kafka headers and outbox rows, and kept by a saga between its steps."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

PROPAGATOR = TraceContextTextMapPropagator()
CLIENT, CONSUMER, SERVER = SpanKind.CLIENT, SpanKind.CONSUMER, SpanKind.SERVER
ON = False  # set by `configure`: work done only for spans (reading every record's context) is skipped while off


def traceparent() -> str | None:
    """The current span's W3C traceparent, or None when nothing is traced."""
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def parent(traceparent: str | None) -> Context | None:
    """The context a span continues from: a stored or received traceparent; None starts from the current one."""
    return PROPAGATOR.extract({"traceparent": traceparent}) if traceparent else None


def parent_of_record(headers: Sequence[tuple[str, bytes]]) -> Context | None:
    for key, value in headers:
        if key == "traceparent":
            return parent(value.decode("ascii", "replace"))
    return None


MAX_LINKS = 128  # a batch links to the traces of its records, up to this many


@contextlib.contextmanager
def span(name: str, kind: SpanKind = SpanKind.INTERNAL, context: Context | None = None,
         links: Sequence[Context] = (), **attributes: Any) -> Iterator[trace.Span]:
    """A span (a no-op unless tracing is configured); attributes whose value is None are left out. `links`: the
    traces this span serves without belonging to one (a batch of records from many migrations)."""
    attrs = {f"numport.{k}": v if isinstance(v, bool | int | float) else str(v)
             for k, v in attributes.items() if v is not None}
    linked = [trace.Link(trace.get_current_span(c).get_span_context()) for c in links[:MAX_LINKS]]
    with trace.get_tracer("numport").start_as_current_span(name, context, kind, attrs, linked) as current:
        yield current


class JsonLinesExporter(SpanExporter):
    """Appends each finished span as one JSON line to a file (tests collect the spans of every process there)."""

    def __init__(self, path: str, service: str) -> None:
        self.path, self.service = path, service

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(json.dumps(self._line(s)) + "\n" for s in spans).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, lines)  # one append per export: lines of several processes never interleave
        finally:
            os.close(fd)
        return SpanExportResult.SUCCESS

    def _line(self, span: ReadableSpan) -> dict[str, Any]:
        context, up = span.get_span_context(), span.parent
        return {"service": self.service, "name": span.name, "kind": span.kind.name,
                "trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}",
                "parent_id": f"{up.span_id:016x}" if up else None, "attributes": dict(span.attributes or {}),
                "links": [{"trace_id": f"{link.context.trace_id:032x}", "span_id": f"{link.context.span_id:016x}"}
                          for link in span.links],
                "start_ns": span.start_time, "end_ns": span.end_time, "status": span.status.status_code.name}

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def configure(service: str, endpoint: str | None = None, spans_file: str | None = None) -> Any:
    """Install the SDK when an OTLP endpoint (numport's setting or the standard OTEL_EXPORTER_OTLP_ENDPOINT) or a
    spans file is named; returns the provider to shut down at exit, or None when tracing stays off."""
    standard = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if not (endpoint or standard or spans_file):
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": f"numport-{service}"}))
    if endpoint or standard:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # numport's setting names the traces URL itself; the standard variables are read by the exporter
        exporter = OTLPSpanExporter(endpoint=endpoint) if endpoint else OTLPSpanExporter()
        provider.add_span_processor(BatchSpanProcessor(exporter))
    if spans_file:
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(spans_file, service)))
    trace.set_tracer_provider(provider)
    global ON
    ON = True
    return provider
