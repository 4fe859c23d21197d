"""A service process consumes from Kafka, changes PostgreSQL and emits an event another consumer receives."""

from __future__ import annotations

import json

from deploy.local import kafkaio as kafka
from deploy.local.processes import ServiceProcess
from shared import topics
from shared.events import parse_event
from tests.factories import migration_requested


async def test_precheck_process_consumes_saves_and_emits(service_env, eligible_world, db):
    request = migration_requested()
    service = ServiceProcess("precheck", service_env).start()
    try:
        await kafka.produce_event(service_env["NUMPORT_KAFKA_BOOTSTRAP"], request)
        records = await kafka.read(service_env["NUMPORT_KAFKA_BOOTSTRAP"], topics.PRECHECK_RESULTS.name)
    finally:
        assert service.terminate() == 0, service.logs()

    verdict = parse_event(records[0].value)
    assert verdict.type == "NumberEligible", verdict
    assert verdict.causation_id == request.event_id and verdict.migration_id == request.migration_id
    assert records[0].key == request.phone_number.encode()
    row = await db.fetchrow("SELECT outcome, report FROM precheck.reports WHERE migration_id = $1",
                            request.migration_id)
    assert row["outcome"] == "eligible"
    assert {c["status"] for c in json.loads(row["report"])} <= {"pass", "not_applicable"}
