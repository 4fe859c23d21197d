"""`numport migrate …` against a running gateway: tables for people, --json for scripts, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess

from deploy.local.ports import free_port
from deploy.local.processes import NUMPORT

REQUEST_FLAGS = ["--business-id", "100000000000001", "--destination-waba-id", "200000000000002",
                 "--source-waba-id", "200000000000001", "--admin-access"]


def numport(stack, *args: str, key: str | None = None, url: str | None = None,
            columns: int = 160) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMPORT_API_URL": url or stack.url, "NUMPORT_API_KEY": key or stack.key_a,
           "COLUMNS": str(columns)}
    return subprocess.run([NUMPORT, "migrate", *args], env=env, capture_output=True, text=True, timeout=60)


def test_dry_run_start_status_and_list(gateway_stack):
    dry = numport(gateway_stack, "dry-run", "--phone", "+55 11 98765-4321", *REQUEST_FLAGS, "--json")
    assert dry.returncode == 0 and dry.stdout, (dry.stdout, dry.stderr)
    assert json.loads(dry.stdout)["outcome"] == "eligible"
    table = numport(gateway_stack, "dry-run", "--phone", "+55 11 98765-4321", *REQUEST_FLAGS, "--all")
    assert "eligible" in table.stdout and "two_step_disabled" in table.stdout

    started = numport(gateway_stack, "start", "--phone", "+55 11 98765-4321", *REQUEST_FLAGS, "--json")
    assert started.returncode == 0, started.stderr
    migration_id = json.loads(started.stdout)["id"]
    status = numport(gateway_stack, "status", migration_id)
    assert status.returncode == 0 and "MigrationRequested" in status.stdout and "requested" in status.stdout
    listed = json.loads(numport(gateway_stack, "list", "--json").stdout)
    assert [m["id"] for m in listed["data"]] == [migration_id]


def test_batch_from_csv_reports_each_row(gateway_stack, tmp_path):
    csv_file = tmp_path / "numbers.csv"
    csv_file.write_text("phone_number,business_id,destination_waba_id,flow,source,admin_access_confirmed\n"
                        "+55 11 98765-4321,100000000000001,200000000000002,programmatic,bsp_cloud_api,yes\n"
                        "not-a-number,100000000000001,200000000000002,programmatic,bsp_cloud_api,yes\n")
    result = numport(gateway_stack, "batch", str(csv_file), "--json")
    rows = json.loads(result.stdout)
    assert [r["status"] for r in rows] == ["accepted", "rejected"] and result.returncode == 1


def test_errors_are_one_clear_line(gateway_stack):
    refused = numport(gateway_stack, "list", key="np_partner-a_wrong")
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip().startswith("numport: unauthenticated:") and len(refused.stderr.splitlines()) == 1
    invalid = numport(gateway_stack, "start", "--phone", "12", *REQUEST_FLAGS)
    assert invalid.returncode == 1 and "phone_number" in invalid.stderr and len(invalid.stderr.splitlines()) == 1
    away = numport(gateway_stack, "list", url=f"http://127.0.0.1:{free_port()}")
    assert away.returncode == 1 and away.stderr.startswith("numport: cannot reach the gateway")
