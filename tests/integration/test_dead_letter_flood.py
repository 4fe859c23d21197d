"""A flood of poison records drains into the dead-letter topic in bulk; the good records behind it are processed."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaProducer

from deploy.local import kafkaio as kafka
from deploy.local.processes import ServiceProcess
from shared import topics
from shared.events import dump_event
from tests.factories import migration_requested

POISON = 10_000


async def _produce_flood(bootstrap: str, good: list) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=262144)
    await producer.start()
    try:
        for i in range(POISON):
            await producer.send(topics.MIGRATION_REQUESTS.name, b"{poison %d" % i, key=b"+55119%08d" % (i % 97))
        for event in good:
            await producer.send(topics.MIGRATION_REQUESTS.name, dump_event(event), key=event.phone_number.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def test_poison_flood_drains_in_bulk_and_good_records_behind_it_are_processed(service_env, eligible_world, db):
    bootstrap = service_env["NUMPORT_KAFKA_BOOTSTRAP"]
    good = [migration_requested() for _ in range(5)]
    await _produce_flood(bootstrap, good)
    service = ServiceProcess("precheck", service_env).start()
    try:
        started = time.monotonic()
        dead = await kafka.read(bootstrap, topics.MIGRATION_REQUESTS.dlq, until=lambda rs: len(rs) >= POISON,
                                timeout=240)
        wall = time.monotonic() - started
        deadline = time.monotonic() + 60
        while await db.fetchval("SELECT count(*) FROM precheck.reports") < len(good):
            assert time.monotonic() < deadline, "good records behind the flood were not processed"
            await asyncio.sleep(0.2)
    finally:
        assert service.terminate() == 0, service.logs()[-3000:]

    stamps = [r.timestamp for r in dead]
    rate = (len(dead) - 1) / max((max(stamps) - min(stamps)) / 1000, 0.001)
    print(f"\npoison flood: {len(dead)} dead letters at {rate:,.0f}/s (first to last dead letter); "
          f"{wall:.1f}s from service start to the last one read")
    assert sorted(r.value for r in dead) == sorted(b"{poison %d" % i for i in range(POISON))
    assert await db.fetchval("SELECT count(*) FROM precheck.reports") == len(good)
