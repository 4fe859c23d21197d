"""The main job, end to end on real infrastructure: Kafka, PostgreSQL, the sandbox and the services.

Today that is the precheck stage: two migration requests go in as the gateway will send them, the precheck
service reads the sandbox's Graph API and the verdicts come back on Kafka. Later stages extend this script.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from deploy.local import infra
from deploy.local import kafkaio as kafka
from deploy.local.processes import ServiceProcess, ThreadedServer
from sandbox.app import create_app
from sandbox.state import World, read_scenario
from shared import topics
from shared.events import MigrationRequested, parse_event
from shared.phone import to_e164

console = Console()
REQUESTS = [("+55 11 98765-4321", "Padaria Exemplo"), ("+55 21 99876-5432", "Padaria Exemplo Rio")]


def request(typed: str, name: str) -> MigrationRequested:
    migration_id = uuid.uuid4()
    return MigrationRequested.create(
        migration_id=migration_id, correlation_id=migration_id, occurred_at=datetime.now(UTC), producer="demo",
        phone_number=to_e164(typed), phone_number_as_typed=typed, partner_id="demo-partner",
        business_id="100000000000001", destination_waba_id="200000000000002", flow="programmatic",
        source="bsp_cloud_api", source_waba_id="200000000000001", display_name=name, admin_access_confirmed=True)


def show(verdicts: list) -> None:
    for verdict in verdicts:
        report = getattr(verdict, "report", ())
        failed = [c for c in report if c.status == "fail"]
        console.rule(f"[bold]{verdict.phone_number}[/] → [bold]{verdict.type}[/]")
        counts = {s: sum(c.status == s for c in report) for s in ("pass", "fail", "not_applicable")}
        console.print(f"{len(report)} checks: [green]{counts['pass']} pass[/], [red]{counts['fail']} fail[/], "
                      f"{counts['not_applicable']} not applicable")
        if failed:
            table = Table("reason code", "who acts", "remedy", expand=True)
            for outcome in failed:
                table.add_row(f"[red]{outcome.reason_code}[/]", outcome.actor or "", outcome.remedy or "")
            console.print(table)


async def run(env: dict[str, str], bootstrap: str) -> list:
    sent = [request(typed, name) for typed, name in REQUESTS]
    for event in sent:
        await kafka.produce_event(bootstrap, event)
    records = await kafka.read(bootstrap, topics.PRECHECK_RESULTS.name, until=lambda rs: len(rs) >= len(sent))
    by_cause = {parse_event(r.value).causation_id: parse_event(r.value) for r in records}
    return [by_cause[e.event_id] for e in sent]


def main() -> int:
    started = time.monotonic()
    console.print("[bold]numport demo[/]: starting PostgreSQL and Kafka (first run downloads the Kafka jars)…")
    with infra.running() as local:
        console.print(f"  Kafka {local.kafka_bootstrap} ({local.kafka_source}); PostgreSQL ({local.database_source})"
                      f"; ready in {time.monotonic() - started:.1f}s")
        asyncio.run(kafka.reset(local.kafka_bootstrap))
        world = World()
        world.load(read_scenario("demo"))
        with ThreadedServer(create_app(world)) as sandbox:
            env = {"NUMPORT_KAFKA_BOOTSTRAP": local.kafka_bootstrap, "NUMPORT_DATABASE_URL": local.database_url,
                   "NUMPORT_GRAPH_BASE_URL": sandbox.url, "NUMPORT_GRAPH_TOKEN": "demo-token"}
            service = ServiceProcess("precheck", env).start()
            try:
                service.wait_ready()
                console.print(f"  sandbox {sandbox.url}; precheck service pid {service.process.pid} ready")
                verdicts = asyncio.run(run(env, local.kafka_bootstrap))
            finally:
                code = service.terminate()
        show(verdicts)
        console.print(f"precheck stopped with exit code {code}; everything the demo started is stopped. "
                      f"Total {time.monotonic() - started:.1f}s")
    return 0 if code == 0 and [v.type for v in verdicts] == ["NumberEligible", "NumberIneligible"] else 1


if __name__ == "__main__":
    sys.exit(main())
