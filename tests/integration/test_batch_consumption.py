"""Batch subscriptions commit one transaction per batch, deduplicate, and isolate a poison record."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from aiokafka import AIOKafkaProducer

from deploy.local import kafkaio as kafka
from shared import topics
from shared.consumer import Subscription, Tx
from shared.errors import PermanentError
from shared.events import MigrationRequested, dump_event
from shared.service import ServiceSpec, Wired, running
from shared.settings import ServiceSettings
from tests.factories import migration_requested

BATCH_TOPIC = topics.Topic("test.batch", "batch test input", (MigrationRequested,), ("tests",), ("testsvc",))


def batch_spec(calls: list[int]) -> ServiceSpec:
    async def on_batch(events: list[MigrationRequested], tx: Tx) -> None:
        calls.append(len(events))
        if any(e.partner_id == "poison" for e in events):
            raise PermanentError("partner 'poison' is refused by this test handler")
        await tx.conn.execute("CREATE TABLE IF NOT EXISTS seen (migration_id uuid PRIMARY KEY)")
        await tx.conn.executemany("INSERT INTO seen VALUES ($1)", [(e.migration_id,) for e in events])

    @contextlib.asynccontextmanager
    async def wire(runtime):
        yield Wired({"batch": on_batch})

    return ServiceSpec("testsvc", "batch test", (Subscription("batch", BATCH_TOPIC, (MigrationRequested,),
                                                              "test batch", batch=True),), wire)


async def test_batches_share_transactions_skip_duplicates_and_dead_letter_the_poison(clean, db):
    bootstrap = clean.kafka_bootstrap
    events = [migration_requested(phone_number=f"+4915112345{i:03d}") for i in range(600)]
    poison = migration_requested(partner_id="poison", phone_number="+4915199999999")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    await producer.start()
    for event in [*events, *events[:50], poison]:
        await producer.send(BATCH_TOPIC.name, dump_event(event), key=event.phone_number.encode())
    await producer.send(BATCH_TOPIC.name, b"\x00garbage", key=b"+4915100000000")
    await producer.stop()

    calls: list[int] = []
    settings = ServiceSettings(kafka_bootstrap=bootstrap, database_url=clean.database_url,
                               consumer_group_prefix=f"t{uuid.uuid4().hex[:8]}", consumer_backoff_seconds=0.01,
                               consumer_max_attempts=2, batch_max_records=200)
    async with running(batch_spec(calls), settings):
        dead = await kafka.read(bootstrap, BATCH_TOPIC.dlq, until=lambda rs: len(rs) >= 2, settle=1.0)
        for _ in range(100):
            if await db.fetchval("SELECT to_regclass('testsvc.seen') IS NOT NULL") and \
                    await db.fetchval("SELECT count(*) FROM testsvc.seen") == 600:
                break
            await asyncio.sleep(0.1)

    assert await db.fetchval("SELECT count(*) FROM testsvc.seen") == 600
    assert await db.fetchval("SELECT count(*) FROM testsvc.inbox") == 600
    assert sorted(r.key for r in dead) == [b"+4915100000000", b"+4915199999999"]
    assert 0 not in calls
    assert len(calls) < 60, f"expected batches, got {len(calls)} handler calls"


async def test_a_graceful_stop_commits_the_positions_handled_since_the_last_commit(clean, db):
    """Positions go out once a second; whatever was handled after the last one is committed on the way out."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.admin import AIOKafkaAdminClient

    bootstrap = clean.kafka_bootstrap
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    for i in range(20):
        event = migration_requested(phone_number=f"+4915122345{i:03d}")
        await producer.send(BATCH_TOPIC.name, dump_event(event), key=event.phone_number.encode())
    await producer.stop()
    prefix = f"t{uuid.uuid4().hex[:8]}"
    settings = ServiceSettings(kafka_bootstrap=bootstrap, database_url=clean.database_url,
                               consumer_group_prefix=prefix)
    async with running(batch_spec([]), settings):
        for _ in range(200):
            if await db.fetchval("SELECT to_regclass('testsvc.seen') IS NOT NULL") and \
                    await db.fetchval("SELECT count(*) FROM testsvc.seen") == 20:
                break
            await asyncio.sleep(0.05)
    admin, reader = AIOKafkaAdminClient(bootstrap_servers=bootstrap), AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await reader.start()
    try:
        committed = await admin.list_consumer_group_offsets(f"{prefix}.testsvc")
        ends = await reader.end_offsets(list(committed))
        assert committed and {tp: meta.offset for tp, meta in committed.items()} == ends
    finally:
        await reader.stop()
        await admin.close()
