"""The main job, end to end on real infrastructure, through the same CLI and API a partner uses.

Dry-run two numbers, then migrate the eligible one all the way: OBO accepted, code read from the (sandbox)
phone, verified, registered on Cloud API, credit line, webhooks, API key, and the timeline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
from rich.console import Console

from deploy.local import demo_port_out, stack
from deploy.local.processes import NUMPORT

console = Console()
CUSTOMER = ["--business-id", "100000000000001", "--destination-waba-id", "200000000000002",
            "--source-waba-id", "200000000000001", "--source", "bsp_cloud_api", "--admin-access"]
READY, BLOCKED = "+55 11 98765-4321", "+55 21 99876-5432"


def step(title: str) -> None:
    console.rule(f"[bold]{title}")


def cli(local: stack.LocalStack, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMPORT_API_URL": local.api_url, "NUMPORT_API_KEY": local.api_key}
    console.print(f"[dim]$ numport migrate {' '.join(args)}[/]")
    return subprocess.run([NUMPORT, "migrate", *args], env=env, text=True, capture_output=capture, check=False)


def migration(local: stack.LocalStack, migration_id: str) -> dict:
    return httpx.get(f"{local.api_url}/v1/migrations/{migration_id}",
                     headers={"Authorization": f"Bearer {local.api_key}"}).json()


def wait_for_state(local: stack.LocalStack, migration_id: str, states: set[str], timeout: float = 60) -> dict:
    deadline, current = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        current = migration(local, migration_id)
        if current["state"] in states | {"failed", "ineligible"}:
            break
        time.sleep(0.2)
    console.print(f"[dim]state: {current.get('state')} — next: {current.get('next_action')}[/]")
    return current


def main() -> int:
    started = time.monotonic()
    step("numport demo: starting PostgreSQL, Kafka (first run downloads its jars), the sandbox and the services")
    with stack.running(scenario="demo") as local:
        console.print(f"Kafka {local.infra.kafka_bootstrap} ({local.infra.kafka_source}) · PostgreSQL "
                      f"({local.infra.database_source}) · sandbox {local.sandbox_url} · gateway {local.api_url} · "
                      f"ready in {time.monotonic() - started:.1f}s · service logs in {local.log_folder}")
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
        current = wait_for_state(local, migration_id, {"awaiting_obo"})
        step("4. Meanwhile the templates: every APPROVED + GREEN one is copied to our WABA before registration")
        show_templates(local, migration_id)
        step("5. The customer accepts our Message-on-Behalf request in Business Manager (here: the sandbox)")
        httpx.post(f"{local.sandbox_url}/_sandbox/obo/{current['detail']['obo_request_id']}/accept")
        current = wait_for_state(local, migration_id, {"awaiting_code"})
        step("6. The customer reads the 6-digit code from the SMS (here: the sandbox) and we enter it")
        number_id = current["detail"]["phone_number_id"]
        sms = httpx.get(f"{local.sandbox_url}/_sandbox/numbers/{number_id}/code").json()
        console.print(f"[dim]SMS in {sms['language']}: your code is {sms['code']}[/]")
        cli(local, "code", migration_id, sms["code"])
        current = wait_for_state(local, migration_id, {"completed"})
        step("7. Registered on Cloud API with a new two-step PIN, credit line shared, webhooks on: the API key")
        cli(local, "api-key", migration_id)
        step("8. The whole timeline: templates duplicated before PhoneRegistered, template downtime 0 s")
        on_timeline(local, migration_id, "TemplateDowntimeMeasured")
        cli(local, "status", migration_id)
        writes = len(local.world.writes)
        number = local.world.numbers[number_id]
        console.print(f"The number now sits in WABA {number.waba_id} on {number.platform_type}, display name "
                      f"'{number.verified_name}', quality {number.quality_rating}, tier {number.messaging_limit_tier}.")
        left = demo_port_out.run(local, console, step, READY, number_id)
    console.print(f"Everything the demo started is stopped. Graph writes: {writes}. "
                  f"Total {time.monotonic() - started:.1f}s")
    return 0 if current["state"] == "completed" and left else 1


def on_timeline(local: stack.LocalStack, migration_id: str, kind: str, timeout: float = 30) -> dict:
    """The payload of the first `kind` event on the migration's timeline, once it is there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = httpx.get(f"{local.api_url}/v1/migrations/{migration_id}/timeline",
                           headers={"Authorization": f"Bearer {local.api_key}"}).json()["events"]
        if found := [e["payload"] for e in events if e["type"] == kind]:
            return found[0]
        time.sleep(0.2)
    console.print(f"[red]no {kind} on the timeline yet[/]")
    return {}


def show_templates(local: stack.LocalStack, migration_id: str) -> None:
    for t in on_timeline(local, migration_id, "TemplatesDuplicated").get("templates", []):
        console.print(f"  {t['name']} ({t['language']}): [bold]{t['outcome']}[/]"
                      + (f" — {t['reason']}" if t.get("reason") else ""))


if __name__ == "__main__":
    sys.exit(main())
