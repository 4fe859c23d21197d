"""SIGKILL between the state change and the publish: after a restart the event is published once, state kept once."""

from __future__ import annotations

import signal

import pytest

from deploy.local import kafkaio as kafka
from deploy.local.processes import ServiceProcess
from shared import topics
from shared.events import parse_event
from tests.factories import migration_requested


async def test_killed_after_commit_before_publish_publishes_exactly_once_after_restart(
        service_env, eligible_world, db):
    bootstrap = service_env["NUMPORT_KAFKA_BOOTSTRAP"]
    request = migration_requested()
    service = ServiceProcess("precheck", service_env).start(NUMPORT_FAILPOINTS="relay.before_publish")
    await kafka.produce_event(bootstrap, request)

    assert service.wait_exit(60) == -signal.SIGKILL, service.logs()
    assert await db.fetchval("SELECT count(*) FROM precheck.reports") == 1
    assert await db.fetchval("SELECT count(*) FROM precheck.outbox WHERE published_at IS NULL") == 1

    service.start()  # same group, no failpoint: the inbox stops a second decision, the relay sends the queued row
    try:
        records = await kafka.read(bootstrap, topics.PRECHECK_RESULTS.name, settle=2.0)
    finally:
        assert service.terminate() == 0, service.logs()
    assert [parse_event(r.value).causation_id for r in records] == [request.event_id]
    assert await db.fetchval("SELECT count(*) FROM precheck.reports") == 1
    assert await db.fetchval("SELECT count(*) FROM precheck.inbox") == 1


@pytest.mark.parametrize("failpoint", ["relay.after_publish"])
async def test_killed_after_publish_before_mark_is_deduplicated_downstream(service_env, eligible_world, db, failpoint):
    """The relay may send a row twice if it dies before marking it; the derived event id lets consumers drop it."""
    bootstrap = service_env["NUMPORT_KAFKA_BOOTSTRAP"]
    request = migration_requested()
    service = ServiceProcess("precheck", service_env).start(NUMPORT_FAILPOINTS=failpoint)
    await kafka.produce_event(bootstrap, request)
    assert service.wait_exit(60) == -signal.SIGKILL, service.logs()

    service.start()
    try:
        records = await kafka.read(bootstrap, topics.PRECHECK_RESULTS.name, until=lambda rs: len(rs) >= 2)
    finally:
        assert service.terminate() == 0, service.logs()
    assert len({parse_event(r.value).event_id for r in records}) == 1
    assert await db.fetchval("SELECT count(*) FROM precheck.reports") == 1
