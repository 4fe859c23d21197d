"""The pieces of a migration's story: Graph operations named from paths, one trace carried from a request through an
outbox row's headers into the consumer and its Graph call (the SDK's in-memory exporter), the startup noise demoted,
and `numport logs` picking one migration's lines from several services' files in time order."""

from __future__ import annotations

import json
import logging
import uuid

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from deploy.local import logs
from shared import consumed, tracing
from shared.graph import GraphClient
from shared.graph_calls import operation
from shared.kafka import Record
from shared.logging import StartupNoise
from shared.outbox import headers
from shared.request_log import RequestLog
from tests.factories import migration_requested


@pytest.mark.parametrize(("method", "path", "named"), [
    ("POST", "/106540352242922/register", "POST /{id}/register"),
    ("GET", "/106540352242922", "GET /{id}"),
    ("GET", "/2000/phone_numbers", "GET /{id}/phone_numbers"),
    ("POST", "/2000/in_progress_onbehalf_request", "POST /{id}/in_progress_onbehalf_request"),
    ("POST", "cred-LINE-1/whatsapp_credit_sharing_and_attach", "POST /{id}/whatsapp_credit_sharing_and_attach"),
])
def test_graph_operations_are_named_from_the_path_without_ids(method, path, named):
    assert operation(method, path) == named


@pytest.fixture(scope="module")
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    yield exporter
    exporter.clear()  # the provider stays: the API takes a global provider once per process


async def test_one_trace_from_a_request_through_the_outbox_to_a_consumer_and_its_graph_call(spans):
    event, found = migration_requested(), {}

    async def route(scope, receive, send):  # what the gateway's route does: queue the event with its headers
        found["headers"] = json.loads(headers(event, tracing.traceparent()))
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async with httpx.AsyncClient(transport=httpx.ASGITransport(RequestLog(route, "gateway")), base_url="http://t") as c:
        assert (await c.post("/v1/migrations")).status_code == 202
    record = Record("numport.migration.requests", 0, 7, b"+1", b"{}",
                    tuple((k, v.encode()) for k, v in found["headers"].items()))
    graph = GraphClient("https://graph.example", "v23.0", "token",
                        transport=httpx.MockTransport(lambda request: httpx.Response(200, json={"id": "1"})))
    with consumed.record(record) as seen:
        seen.about(event)
        await graph.get("/106540352242922")
        seen.outcome = "processed"
    finished = {s.name: s for s in spans.get_finished_spans()}
    request, consumer = finished["POST unmatched"], finished["consume numport.migration.requests"]
    call = finished["graph GET /{id}"]
    assert {s.context.trace_id for s in (request, consumer, call)} == {request.context.trace_id}
    assert consumer.parent.span_id == request.context.span_id and call.parent.span_id == consumer.context.span_id
    assert consumer.kind == trace.SpanKind.CONSUMER and call.kind == trace.SpanKind.CLIENT
    assert consumer.attributes["numport.correlation_id"] == str(event.correlation_id)
    assert consumer.attributes["numport.outcome"] == "processed" and call.attributes["numport.status"] == 200


def test_untraced_events_carry_no_traceparent():
    event = migration_requested()
    assert json.loads(headers(event, None)) == {"event_type": "MigrationRequested", "schema_version": "1"}


def test_the_coordinator_election_at_start_is_not_an_error():
    from aiokafka.errors import GroupCoordinatorNotAvailableError

    noise = logging.makeLogRecord({"name": "aiokafka.consumer.group_coordinator", "levelno": logging.ERROR,
                                   "levelname": "ERROR", "msg": "Group Coordinator Request failed: %s",
                                   "args": (GroupCoordinatorNotAvailableError(),)})
    other = logging.makeLogRecord({"name": "aiokafka.consumer.group_coordinator", "levelno": logging.ERROR,
                                   "levelname": "ERROR", "msg": "Heartbeat failed: boom"})
    assert StartupNoise().filter(noise) and noise.levelname == "INFO"
    assert StartupNoise().filter(other) and other.levelname == "ERROR"


def test_logs_tells_one_migrations_story_across_services_in_time_order(tmp_path, capsys):
    mine, other = str(uuid.uuid4()), str(uuid.uuid4())
    lines = {"gateway": [("12:00:00.100", mine, "request answered"), ("12:00:03.000", mine, "event consumed")],
             "registration": [("12:00:01.000", mine, "saga step applied"), ("12:00:02.000", other, "graph call")]}
    for service, entries in lines.items():
        written = [json.dumps({"ts": f"2026-01-01T{ts}+00:00", "level": "info", "service": service, "msg": msg,
                               "correlation_id": about, "route": "/v1/migrations"}) for ts, about, msg in entries]
        (tmp_path / f"{service}.log").write_text("\n".join(["Traceback (most recent call last):", *written]) + "\n")
    story = logs.story(tmp_path, mine[:8])
    assert [e["msg"] for e in story] == ["request answered", "saga step applied", "event consumed"]
    logs.logs(mine, tmp_path, as_json=False)
    shown = capsys.readouterr().out.splitlines()
    assert shown[0].startswith("12:00:00.100 gateway") and "route=/v1/migrations" in shown[0]
    assert mine not in shown[0] and len(shown) == 3
