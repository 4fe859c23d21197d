"""Templates in the whole pipeline: duplicated before registration by default (downtime zero), measured when the
wait is off or runs out, Meta's re-check after the copy, manual retries through the API and the CLI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid

import httpx
import pytest

from deploy.local import kafkaio as kafka
from deploy.local.processes import NUMPORT
from deploy.local.stack import APP_SECRET
from sandbox.state import Template
from shared import topics
from tests.integration.saga_support import migrate_fully, start, wait_for
from tests.integration.templates_support import DESTINATION, SOURCE, sandbox


async def timeline(api: httpx.AsyncClient, migration_id: str) -> list[dict]:
    return (await api.get(f"/v1/migrations/{migration_id}/timeline")).json()["events"]


async def until_on_timeline(api: httpx.AsyncClient, migration_id: str, kind: str, count: int = 1) -> list[dict]:
    for _ in range(300):
        events = await timeline(api, migration_id)
        if sum(e["type"] == kind for e in events) >= count:
            return events
        await asyncio.sleep(0.1)
    raise AssertionError(f"{kind} x{count} never reached the timeline: {[e['type'] for e in events]}")


def cli(services, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMPORT_API_URL": services.url, "NUMPORT_API_KEY": services.key}
    return subprocess.run([NUMPORT, "migrate", *args], env=env, capture_output=True, text=True, timeout=60)


async def test_by_default_templates_are_on_the_destination_before_registration(services, eligible_world):
    async with services.client() as api:
        migration_id = await start(api)
        await migrate_fully(api, eligible_world, migration_id)
        events = await until_on_timeline(api, migration_id, "TemplateDowntimeMeasured")
        done = await wait_for(api, migration_id, "completed")
    order = [e["type"] for e in events]
    assert order.index("TemplatesDuplicated") < order.index("PhoneRegistered")
    assert "TemplateWaitExpired" not in order
    measured = next(e for e in events if e["type"] == "TemplateDowntimeMeasured")["payload"]
    assert measured["template_downtime_seconds"] == 0 and measured["templates_counted"] == 2
    assert done["detail"]["template_counts"]["migrated"] == 2
    copied_by = {t.name: t.copied_by for t in eligible_world.templates_of(DESTINATION)}
    assert copied_by == {"order_update": "migrate_message_templates", "welcome_offer": "migrate_message_templates"}
    shown = cli(services, "status", migration_id)  # Meta's own copy at registration found nothing left to copy
    assert shown.returncode == 0 and "template downtime 0 s" in shown.stdout, shown.stdout + shown.stderr


@pytest.mark.parametrize("wait", ["0", "1"])
async def test_without_the_wait_the_downtime_is_measured(wait, service_env, eligible_world, sandbox_server, tmp_path):
    from tests.integration.gateway_support import start_services

    sandbox(sandbox_server.url, "faults", {"writes": [{"operation": "migrate_templates", "mode": "slow_apply",
                                                       "seconds": 6}]})
    clock = tmp_path / "clock"
    clock.write_text("0")
    services = await start_services(service_env, str(clock), NUMPORT_TEMPLATES_WAIT_SECONDS=wait)
    try:
        async with services.client() as api:
            migration_id = await start(api)
            await migrate_fully(api, eligible_world, migration_id)
            events = await until_on_timeline(api, migration_id, "TemplateDowntimeMeasured")
            shown = await wait_for(api, migration_id, "completed")
    finally:
        services.stop()
        sandbox(sandbox_server.url, "faults", {"writes": []})
    order = [e["type"] for e in events]
    assert order.index("PhoneRegistered") < order.index("TemplatesDuplicated")
    assert ("TemplateWaitExpired" in order) == (wait != "0")  # a bound that passed is said on the timeline
    measured = next(e for e in events if e["type"] == "TemplateDowntimeMeasured")["payload"]
    assert measured["template_downtime_seconds"] > 0
    assert shown["detail"]["template_downtime_seconds"] == measured["template_downtime_seconds"]


async def test_meta_rejecting_copies_after_duplication_changes_their_outcome(services, eligible_world, db,
                                                                            sandbox_server, service_env):
    for i in range(12):
        ident = str(610000000000000 + i)
        eligible_world.templates[ident] = Template(ident, SOURCE, f"notice_{i:02d}")
    bootstrap = service_env["NUMPORT_KAFKA_BOOTSTRAP"]
    await kafka.produce(bootstrap, topics.META_WEBHOOKS.name, b"{not a webhook record", b"200000000000002")
    sandbox(sandbox_server.url, "settings", {"webhook_url": f"{services.url}/webhooks/meta",
                                             "app_secret": APP_SECRET, "rejected_share": 0.4})
    try:
        async with services.client() as api:
            migration_id = await start(api)
            await until_on_timeline(api, migration_id, "TemplatesDuplicated")
            rejected = sandbox(sandbox_server.url, "templates/review", {"waba_id": DESTINATION})["rejected"]
            events = await until_on_timeline(api, migration_id, "TemplateRecategorised", 2 * len(rejected))
    finally:
        sandbox(sandbox_server.url, "settings", {"webhook_url": None, "rejected_share": 0})
    assert 0 < len(rejected) < 14
    names = {eligible_world.templates[i].name for i in rejected}
    changed = [e["payload"] for e in events if e["type"] == "TemplateRecategorised"]
    assert {c["name"] for c in changed} == names
    assert {c["template_outcome"] for c in changed if c["status"] == "REJECTED"} == {"rejected"}
    assert all(c["correct_category"] for c in changed if c["status"] != "REJECTED")  # announced first
    outcomes = dict(await db.fetch("SELECT name, outcome FROM templates.templates WHERE migration_id = $1",
                                   uuid.UUID(migration_id)))
    assert {n for n, o in outcomes.items() if o == "rejected"} == names
    def by_templates(records) -> list:  # billing reads the same topic and dead-letters the record too
        return [r for r in records if dict(r.headers)["x-numport-dlq-consumer"].decode().endswith(".templates")]

    dead = await kafka.read(bootstrap, topics.META_WEBHOOKS.dlq, until=lambda rs: bool(by_templates(rs)))
    assert len(by_templates(dead)) == 1


async def test_manual_retries_copy_only_what_is_missing_and_nothing_twice(services, eligible_world, service_env):
    eligible_world.templates["610000000000001"] = Template("610000000000001", SOURCE, "late_approval",
                                                           status="PENDING", quality_score="UNKNOWN")
    async with services.client() as api:
        migration_id = await start(api)
        first = await until_on_timeline(api, migration_id, "TemplatesDuplicated")
        skipped = next(e for e in first if e["type"] == "TemplatesDuplicated")["payload"]["template_counts"]
        template = eligible_world.templates["610000000000001"]
        template.status, template.quality_score = "APPROVED", "GREEN"  # Meta approved it meanwhile
        by_api = await api.post(f"/v1/migrations/{migration_id}/templates:retry")
        by_cli = cli(services, "templates-retry", migration_id)
        events = await until_on_timeline(api, migration_id, "TemplatesDuplicated", 3)
        unknown = await api.post("/v1/migrations/00000000-0000-0000-0000-000000000000/templates:retry")
    assert skipped["skipped"] == 1 and skipped["migrated"] == 2
    assert by_api.status_code == 202 and by_cli.returncode == 0, by_cli.stderr
    assert unknown.status_code == 404
    rounds = {e["payload"]["round"]: e["payload"]["template_counts"] for e in events
              if e["type"] == "TemplatesDuplicated"}
    assert rounds[1]["migrated"] == 3 and rounds[2] == rounds[1]
    assert eligible_world.applied_writes("migrate_templates") == {DESTINATION: 2}  # round 2 had nothing to send
    names = [t.name for t in eligible_world.templates_of(DESTINATION)]
    assert sorted(names) == ["late_approval", "order_update", "welcome_offer"]
