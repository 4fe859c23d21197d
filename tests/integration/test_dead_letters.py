"""Poison records land in the dead-letter topic with their reason, key and headers; consumption goes on."""

from __future__ import annotations

import json

from deploy.local import kafkaio as kafka
from deploy.local.processes import ServiceProcess
from shared import topics
from shared.events import dump_event, parse_event
from tests.factories import migration_requested


def header(record, name: str) -> str:
    return dict(record.headers)[name].decode()


async def test_poison_records_are_dead_lettered_and_good_ones_processed(service_env, eligible_world, db):
    bootstrap = service_env["NUMPORT_KAFKA_BOOTSTRAP"]
    requests_topic = topics.MIGRATION_REQUESTS.name
    good = migration_requested()
    future_version = json.loads(dump_event(migration_requested()))
    future_version["schema_version"] = 7
    poison = [
        (b"{not json", b"+5511900000001", "malformed event"),
        (json.dumps(future_version).encode(), b"+5511900000002", "schema_version"),
        (json.dumps({"type": "NumberPorted", "schema_version": 1}).encode(), b"+5511900000003", "malformed event"),
    ]
    service = ServiceProcess("precheck", service_env).start()
    try:
        for value, key, _ in poison:
            await kafka.produce(bootstrap, requests_topic, value, key, headers=[("trace", b"abc")])
        await kafka.produce_event(bootstrap, good)
        dead = await kafka.read(bootstrap, topics.MIGRATION_REQUESTS.dlq, until=lambda rs: len(rs) >= 3)
        results = await kafka.read(bootstrap, topics.PRECHECK_RESULTS.name)
    finally:
        assert service.terminate() == 0, service.logs()

    assert sorted((r.key, r.value) for r in dead) == sorted((key, value) for value, key, _ in poison)
    for record in dead:
        expected = next(fragment for _, key, fragment in poison if key == record.key)
        assert expected in header(record, "x-numport-dlq-reason")
        assert header(record, "trace") == "abc"
        assert header(record, "x-numport-original-topic") == requests_topic
        assert header(record, "x-numport-dlq-consumer") == f"{service_env['NUMPORT_CONSUMER_GROUP_PREFIX']}.precheck"
    assert [parse_event(r.value).causation_id for r in results] == [good.event_id]
    assert await db.fetchval("SELECT count(*) FROM precheck.reports") == 1
