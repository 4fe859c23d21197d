"""The main job, end to end on real infrastructure, through the same CLI and API a partner uses.

Today that reaches the end of precheck: dry-run two numbers, start the eligible one, watch the verdict arrive
through Kafka into the timeline. Later stages extend this script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
from rich.console import Console

from deploy.local import stack
from deploy.local.processes import NUMPORT

console = Console()
CUSTOMER = ["--business-id", "100000000000001", "--destination-waba-id", "200000000000002",
            "--source-waba-id", "200000000000001", "--source", "bsp_cloud_api"]
READY, BLOCKED = "+55 11 98765-4321", "+55 21 99876-5432"


def step(title: str) -> None:
    console.rule(f"[bold]{title}")


def cli(local: stack.LocalStack, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMPORT_API_URL": local.api_url, "NUMPORT_API_KEY": local.api_key}
    console.print(f"[dim]$ numport migrate {' '.join(args)}[/]")
    return subprocess.run([NUMPORT, "migrate", *args], env=env, text=True, capture_output=capture, check=False)


def wait_for_state(local: stack.LocalStack, migration_id: str, states: set[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = httpx.get(f"{local.api_url}/v1/migrations/{migration_id}",
                          headers={"Authorization": f"Bearer {local.api_key}"}).json()["state"]
        if state in states:
            break
        time.sleep(0.2)
    return state


def main() -> int:
    started = time.monotonic()
    step("numport demo: starting PostgreSQL, Kafka (first run downloads its jars), the sandbox and the services")
    with stack.running(scenario="demo") as local:
        console.print(f"Kafka {local.infra.kafka_bootstrap} ({local.infra.kafka_source}) · PostgreSQL "
                      f"({local.infra.database_source}) · sandbox {local.sandbox_url} · gateway {local.api_url} · "
                      f"ready in {time.monotonic() - started:.1f}s")
        step(f"1. Dry-run {BLOCKED}: every blocker at once, nothing touched")
        cli(local, "dry-run", "--phone", BLOCKED, *CUSTOMER)
        step(f"2. Dry-run {READY}")
        cli(local, "dry-run", "--phone", READY, *CUSTOMER)
        step(f"3. Start the migration of {READY}")
        created = cli(local, "start", "--phone", READY, *CUSTOMER, "--json", capture=True)
        if created.returncode != 0:
            console.print(created.stderr)
            return 1
        migration_id = json.loads(created.stdout)["id"]
        state = wait_for_state(local, migration_id, {"eligible", "ineligible", "failed"})
        step("4. Its timeline, as the precheck service's verdict came back through Kafka")
        cli(local, "status", migration_id)
        writes = len(local.world.writes)
    console.print(f"Everything the demo started is stopped. Graph writes so far: {writes}. "
                  f"Total {time.monotonic() - started:.1f}s")
    return 0 if state == "eligible" else 1


if __name__ == "__main__":
    sys.exit(main())
