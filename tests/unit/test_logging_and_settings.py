"""Secrets never reach a log line, the story lines of a migration included; a bad setting stops the process with one
line that names it."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from services.registration.repository import SagaRow
from services.registration.steps import Outcome
from services.registration.story import applied
from shared import consumed
from shared.dead_letters import DeadLetters
from shared.events import MigrationFailed
from shared.graph import GraphClient, GraphPermanentError
from shared.kafka import Record
from shared.logging import JsonFormatter, redact, redact_text
from shared.request_log import RequestLog
from tests.factories import migration_requested

NUMPORT = str(Path(sys.executable).with_name("numport"))


def test_redacts_secret_keys_and_fragments():
    assert redact({"access_token": "EAAG", "pin": "123456", "nested": {"app_secret": "s"}, "phone": "+55"}) == {
        "access_token": "[redacted]", "pin": "[redacted]", "nested": {"app_secret": "[redacted]"}, "phone": "+55"}
    text = 'GET /v23.0/1?access_token=EAAGxyz&fields=id Authorization: Bearer EAAGabc {"pin": "654321"} code=123456'
    masked = redact_text(text)
    for secret in ("EAAGxyz", "EAAGabc", "654321", "123456"):
        assert secret not in masked
    assert "fields=id" in masked


def test_json_log_line_carries_extra_fields_redacted():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("precheck"))
    logger = logging.getLogger("numport.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.warning("registering with pin=987654", extra={"pin": "987654", "migration": "m-1"})
    line = json.loads(stream.getvalue())
    assert line["service"] == "precheck" and line["migration"] == "m-1" and line["pin"] == "[redacted]"
    assert "987654" not in stream.getvalue()


def test_missing_setting_stops_the_service_with_one_clear_line():
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMPORT_")}
    env["NUMPORT_KAFKA_BOOTSTRAP"] = "127.0.0.1:1"
    result = subprocess.run([NUMPORT, "run", "precheck"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    line = result.stderr.strip()
    assert line.startswith("numport: setting ") and "\n" not in line
    assert set(line.removeprefix("numport: setting ").split("; setting ")) == {
        "NUMPORT_DATABASE_URL is missing", "NUMPORT_GRAPH_BASE_URL is missing", "NUMPORT_GRAPH_TOKEN is missing"}


def test_invalid_setting_names_the_variable():
    env = {**os.environ, "NUMPORT_KAFKA_BOOTSTRAP": "x", "NUMPORT_DATABASE_URL": "postgresql://x",
           "NUMPORT_GRAPH_BASE_URL": "http://x", "NUMPORT_GRAPH_TOKEN": "t", "NUMPORT_HTTP_PORT": "99999"}
    result = subprocess.run([NUMPORT, "run", "precheck"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("numport: setting NUMPORT_HTTP_PORT is invalid")
    assert len(result.stderr.strip().splitlines()) == 1


class _Acked:
    """A dead-letter producer whose broker acknowledges every letter at once."""

    async def send_dead_letter(self, letter):
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_the_story_lines_of_a_migration_hold_no_secret():
    """Request, consumed event, Graph call, saga step and dead letter lines, each fed the secrets they could see."""
    token, key, pin, code = "EAAG-token-in-the-header", "np_live_partnerkey", "654321", "123456"
    stream, root = io.StringIO(), logging.getLogger()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("gateway"))
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)  # setLevel, not .level: loggers cache whether a level is enabled
    try:
        event = migration_requested()

        async def route(scope, receive, send):
            await receive()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})

        async with httpx.AsyncClient(transport=httpx.ASGITransport(RequestLog(route, "gateway")),
                                     base_url="http://t") as client:
            await client.post(f"/v1/migrations/{event.migration_id}/verification-code?access_token={token}",
                              json={"code": code}, headers={"Authorization": f"Bearer {key}", "X-Request-Id": "r-1"})
        refusal = {"error": {"message": f"(#100) the pin {pin} is not valid", "code": 100}}
        graph = GraphClient("https://graph.example", "v23.0", token,
                            transport=httpx.MockTransport(lambda request: httpx.Response(400, json=refusal)))
        record = Record("numport.migration.requests", 0, 3, b"+1", b"{}", ())
        with consumed.record(record) as seen:
            seen.about(event)
            with pytest.raises(GraphPermanentError):
                await graph.post("/106540352242922/register", {"messaging_product": "whatsapp", "pin": pin})
            letters = DeadLetters(_Acked(), "precheck", "numport.precheck")
            await letters.add(record, f"permanent failure: code={code} pin={pin}", ValueError("x"))
            seen.outcome = "processed"
        await letters.settle()
        now = datetime.now(UTC)
        saga = SagaRow(event.migration_id, event.correlation_id, "+5511987654321", "p", "b", "w", None,
                       "programmatic", "bsp_cloud_api", "register", None, None, None, 0, "SMS", 0, 0, [], None, now,
                       now)
        failed = MigrationFailed.create(cause=event, occurred_at=now, producer="registration", step="register",
                                        reason_code="META_100", message=f"Meta refused register: pin={pin}")
        applied(saga, "register", Outcome("failed", events=[failed]), now)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    text = stream.getvalue()
    lines = {line["msg"]: line for line in map(json.loads, text.splitlines())}
    told = {"request answered", "graph call", "record dead-lettered", "event consumed", "migration failed"}
    assert told <= set(lines)
    assert all(lines[msg]["correlation_id"] == str(event.correlation_id) for msg in told)
    assert lines["graph call"]["meta_error"] == 100 and lines["migration failed"]["reason"] == "META_100"
    for secret in (token, key, pin, code):
        assert secret not in text
