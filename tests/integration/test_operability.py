"""One migration tells its story: JSON lines in every service naming it and holding no secret, no error on a normal
start, every metric family present and moving, one trace from the partner's request to MigrationCompleted, and
`numport logs ID` putting the services' lines in order."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from deploy.local import kafkaio as kafka
from deploy.local.processes import NUMPORT
from shared import topics
from tests.integration.gateway_support import start_services
from tests.integration.saga_support import accept_obo, enter_code, start, wait_for

HOUR = 3600
FAMILIES = {  # every service exports every family; the ones a migration moves are checked by value below
    "numport_migrations", "numport_migrations_finished", "numport_saga_step_seconds",
    "numport_migration_duration_seconds", "numport_saga_escalations", "numport_graph_calls",
    "numport_graph_call_seconds", "numport_graph_waba_calls", "numport_consumer_lag", "numport_outbox_oldest_seconds",
    "numport_outbox_pending", "numport_outbox_published", "numport_dead_lettered", "numport_dead_letters_shortened",
    "numport_events_consumed", "numport_handler_seconds", "numport_consumer_stuck", "numport_http_request_seconds",
    "numport_http_responses"}
Samples = dict[tuple[str, frozenset], float]


@pytest.fixture
async def observed(service_env, eligible_world, tmp_path):
    (tmp_path / "clock").write_text("0")
    spans = tmp_path / "spans.jsonl"
    running = await start_services({**service_env, "NUMPORT_TRACES_FILE": str(spans)}, str(tmp_path / "clock"))
    yield running, spans
    running.stop()


async def scrape(services) -> dict[str, tuple[set[str], Samples]]:
    """Per service: the families its /metrics names, and every sample by (name, labels)."""
    found = {}
    async with httpx.AsyncClient() as http:
        for name, process in services.processes.items():
            text = (await http.get(f"http://127.0.0.1:{process.port}/metrics")).text
            families = list(text_string_to_metric_families(text))
            samples = {(s.name, frozenset(s.labels.items())): s.value for f in families for s in f.samples}
            found[name] = ({f.name for f in families}, samples)
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when none)."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


async def migrate_with_a_wrong_code_and_an_escalation(services, world) -> tuple[str, list[str]]:
    """A Meta refusal (a wrong code) and an hour without the code (an escalation) on the way to completion."""
    async with services.client() as api:
        migration_id = await start(api)
        await wait_for(api, migration_id, "awaiting_obo")
        accept_obo(world)
        waiting = await wait_for(api, migration_id, "awaiting_code")
        number_id = waiting["detail"]["phone_number_id"]
        good = world.codes[number_id].value
        wrong = "000000" if good != "000000" else "111111"
        refused = await api.post(f"/v1/migrations/{migration_id}/verification-code", json={"code": wrong})
        assert refused.status_code == 422, refused.text
        services.advance_clock(HOUR + 5)
        await wait_for(api, migration_id, "escalated")
        assert (await enter_code(api, world, migration_id, number_id)).status_code == 200
        await wait_for(api, migration_id, "completed")
        key = (await api.post(f"/v1/migrations/{migration_id}/api-key")).json()["api_key"]
    return migration_id, [good, wrong, key, world.numbers[number_id].pin or "no pin"]


def log_lines(services) -> dict[str, list[dict]]:
    return {name: [json.loads(line) for line in p.logs().splitlines() if line.startswith("{")]
            for name, p in services.processes.items()}


async def test_one_migration_tells_its_story_in_logs_metrics_and_one_trace(observed, eligible_world, service_env,
                                                                           tmp_path):
    services, spans_file = observed
    before = await scrape(services)
    migration_id, secrets = await migrate_with_a_wrong_code_and_an_escalation(services, eligible_world)
    await asyncio.sleep(0.5)  # the gateway's projection and the relays' last passes
    after = await scrape(services)
    lines = log_lines(services)

    check_logs(lines, migration_id)
    text = "\n".join(p.logs() for p in services.processes.values())
    for secret in (*secrets, services.key, *(service_env[k] for k in (
            "NUMPORT_GRAPH_TOKEN", "NUMPORT_INTERNAL_TOKEN", "NUMPORT_SECRETS_KEY"))):
        assert secret not in text
    assert not [line for name in lines for line in lines[name] if line["level"] in ("error", "critical")]

    check_metrics(before, after)
    await check_dead_letters_counted(services, service_env)
    check_one_trace(spans_file, migration_id)
    check_story_command(services, migration_id, tmp_path)


def check_logs(lines: dict[str, list[dict]], migration_id: str) -> None:
    mine = {name: [line for line in found if line.get("correlation_id") == migration_id]
            for name, found in lines.items()}
    [request] = [line for line in mine["gateway"] if line["msg"] == "request answered" and line["status"] == 202]
    assert request["route"] == "/v1/migrations" and request["method"] == "POST"
    assert request["partner_id"] == "partner-a" and request["request_id"] and request["duration_ms"] >= 0
    consumed = {name: {line["event_type"] for line in found if line["msg"] == "event consumed"
                       and line["outcome"] == "processed"} for name, found in mine.items()}
    assert {"MigrationRequested"} <= consumed["precheck"] and {"NumberEligible"} <= consumed["registration"]
    assert {"NumberEligible"} <= consumed["templates"]
    # the gateway's read model takes batches across migrations: one line per batch, with its counts
    assert any(line["msg"] == "batch consumed" and line["topic"] == "numport.registration.events"
               and line["events"] >= 1 for line in lines["gateway"])
    steps = [(line["from"], line["to"]) for line in mine["registration"] if "to" in line]
    assert ("api_key", "completed") in steps and ("obo", "awaiting_obo") in steps
    [escalated] = [line for line in mine["registration"] if line["msg"] == "migration escalated"]
    assert escalated["reason"] == "NO_CODE_WITHIN_1H" and escalated["level"] == "warning"
    calls = [line for line in mine["registration"] if line["msg"] == "graph call"]
    assert {"operation": "POST /{id}/register", "status": 200, "outcome": "ok", "attempt": 1}.items() <= \
        next(c for c in calls if c["operation"] == "POST /{id}/register").items()
    [refusal] = [c for c in calls if c["operation"] == "POST /{id}/verify_code" and c["outcome"] == "permanent"]
    assert 400 <= refusal["status"] < 500 and isinstance(refusal["meta_error"], int) and refusal["level"] == "warning"
    assert all(c["latency_ms"] >= 0 for c in calls)
    assert any(line["msg"] == "graph call" for line in mine["precheck"])
    assert any(line["msg"] == "graph call" and line["operation"].endswith("/migrate_message_templates")
               for line in mine["templates"])  # the rounds loop runs outside any record, and still says whose call


def check_metrics(before: dict, after: dict) -> None:
    for name, (families, _) in after.items():
        assert families >= FAMILIES, f"{name} lacks {FAMILIES - families}"
    gateway, registration = after["gateway"][1], after["registration"][1]
    assert value(gateway, "numport_migrations", state="completed") == 1
    assert value(gateway, "numport_migrations_finished_total", outcome="completed") == 1
    assert value(before["gateway"][1], "numport_migrations_finished_total") == 0
    assert value(gateway, "numport_http_request_seconds_count", route="/v1/migrations", status="202") == 1
    assert value(registration, "numport_saga_step_seconds_count", step="awaiting_code") == 1
    assert value(registration, "numport_saga_step_seconds_sum", step="awaiting_code") >= HOUR
    assert value(registration, "numport_migration_duration_seconds_count", outcome="completed") == 1
    assert value(registration, "numport_saga_escalations_total", reason="NO_CODE_WITHIN_1H") == 1
    assert value(registration, "numport_graph_calls_total", operation="POST /{id}/verify_code", status="422",
                 outcome="permanent") == 1
    assert value(registration, "numport_graph_call_seconds_count", operation="POST /{id}/register") >= 1
    for name in ("precheck", "registration", "templates", "gateway"):
        moved = after[name][1]
        assert value(moved, "numport_events_consumed_total", outcome="processed") > \
            value(before[name][1], "numport_events_consumed_total", outcome="processed")
        assert any(n == "numport_consumer_lag" for n, _ in moved) and value(moved, "numport_consumer_lag") >= 0
        assert value(moved, "numport_outbox_oldest_seconds", service=name) >= 0
    assert any(n == "numport_outbox_oldest_seconds" for n, _ in registration)


async def check_dead_letters_counted(services, env: dict[str, str]) -> None:
    await kafka.produce(env["NUMPORT_KAFKA_BOOTSTRAP"], topics.MIGRATION_REQUESTS.name, b"{not json", b"+1")
    for _ in range(100):
        found = (await scrape(services))["precheck"][1]
        if value(found, "numport_dead_lettered_total", service="precheck") == 1:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the dead letter was not counted")


def check_one_trace(spans_file: Path, migration_id: str) -> None:
    spans = [json.loads(line) for line in spans_file.read_text().splitlines()]
    [request] = [s for s in spans if s["name"] == "POST /v1/migrations"]
    trace = [s for s in spans if s["trace_id"] == request["trace_id"]]
    by_service = defaultdict(set)
    for span in trace:
        by_service[span["service"]].add(span["name"])
    assert {"consume numport.migration.requests", "graph GET /{id}/phone_numbers"} <= by_service["precheck"]
    assert {"consume numport.precheck.results", "saga register", "graph POST /{id}/register",
            "saga api_key"} <= by_service["registration"]
    assert any(s["service"] == "gateway" and s["name"] == "consume batch numport.registration.events"
               and request["trace_id"] in {link["trace_id"] for link in s["links"]}
               for s in spans)  # the read model's batches span many migrations: each links to their traces
    ids = {s["span_id"] for s in trace}
    assert all(s["parent_id"] in ids for s in trace if s is not request)  # one tree, rooted at the request
    assert request["attributes"]["numport.correlation_id"] == migration_id


def check_story_command(services, migration_id: str, tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    for name, process in services.processes.items():
        shutil.copy(process.log_path, folder / f"{name}.log")
    shown = subprocess.run([NUMPORT, "logs", migration_id, "--folder", str(folder), "--json"], capture_output=True,
                           text=True, timeout=60, env=os.environ)
    assert shown.returncode == 0, shown.stderr
    story = [json.loads(row) for row in shown.stdout.splitlines()]
    assert {e["service"] for e in story} >= {"gateway", "precheck", "registration", "templates"}
    assert [e["ts"] for e in story] == sorted(e["ts"] for e in story)
    assert any(e["msg"] == "request answered" and e["status"] == 202 for e in story)
    assert story[-1]["ts"] >= next(e["ts"] for e in story if e.get("to") == "completed")
