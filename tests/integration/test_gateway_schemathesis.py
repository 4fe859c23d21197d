"""schemathesis runs every check it has on the partner API as a running gateway answers it (a real process on Kafka
and PostgreSQL, with precheck and registration behind it): a bounded, derandomised run that fails on any failure.

The CLI runs in a subprocess: schemathesis' pytest plugin does not run on pytest 9, and only the CLI runs every
phase (examples, coverage, fuzzing, and stateful sequences along the document's links).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from services.gateway.partners import create_partners_at

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
EXAMPLES = 80  # per operation and phase: about 2,100 cases in 35-50 s on two busy cores
FEWEST_CASES = 1800  # what EXAMPLES yields over today's operations, less a margin: the run must not shrink unseen
# One worker: CPython 3.11's ast.parse, which Hypothesis calls to describe filters, breaks when threads share it.
CONFIG = """
[auth.wfc]
path = "partners.json"
# object_level_authorization replays each partner's reads as the other partner
peers = ["partner-a", "partner-b"]

[[operations]]
include-operation-id = "billingReport"
# 'to' on or after 'from' and at most 366 days later is a rule across two parameters, which JSON Schema cannot state
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429", "5xx"]
"""


def findings(output: str) -> str:
    """The failures section first: schemathesis prints its many warnings after it, and they would crowd it out."""
    start = output.find("FAILURES")
    return output[start:start + 20000] if start >= 0 else output[-20000:]


def partners_file(keys: dict[str, str]) -> str:
    """Web Fuzzing Commons auth: one identity per partner, each with its own key."""
    return json.dumps({"auth": [{"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {key}"}]}
                                for name, key in keys.items()]})


async def test_the_partner_api_passes_every_schemathesis_check(services, service_env, tmp_path):
    [key_b] = await create_partners_at(service_env["NUMPORT_DATABASE_URL"], "partner-b")
    (tmp_path / "partners.json").write_text(partners_file({"partner-a": services.key, "partner-b": key_b}))
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    started = time.monotonic()
    run = subprocess.run(
        [SCHEMATHESIS, "--config-file", "schemathesis.toml", "--no-color", "run", f"{services.url}/openapi.json",
         "--checks", "all", "--generation-deterministic", "--max-examples", str(EXAMPLES), "--workers", "1",
         "--report", "json", "--report-json-path", "report.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert (tmp_path / "report.json").exists(), run.stdout[-5000:] + run.stderr[-5000:]
    report = json.loads((tmp_path / "report.json").read_text())
    cases = report["test_cases"]["generated"]
    print(f"schemathesis: {cases} cases on {report['operations']['tested']} operations in "
          f"{time.monotonic() - started:.1f} s")
    assert run.returncode == 0 and not report["failures"] and not report["errors"], findings(run.stdout)
    assert report["operations"]["tested"] == report["operations"]["total"] > 0
    assert all(phase["status"] == "success" for phase in report["phases"].values()), report["phases"]
    assert cases >= FEWEST_CASES, f"only {cases} cases"
