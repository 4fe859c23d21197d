"""Secrets never reach a log line; a bad setting stops the process with one line that names it."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from shared.logging import JsonFormatter, redact, redact_text

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
