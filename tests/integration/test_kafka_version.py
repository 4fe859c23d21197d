"""The pinned broker supports what numport relies on: transactions and consumer-group partition sharing."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def test_transactions_commit_and_abort_as_read_committed_consumers_expect(clean):
    bootstrap, topic = clean.kafka_bootstrap, f"test.tx.{uuid.uuid4().hex[:6]}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"tx-{uuid.uuid4()}")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send(topic, b"committed", key=b"k")
        await producer.begin_transaction()
        await producer.send(topic, b"aborted", key=b"k")
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send(topic, b"after", key=b"k")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"g-{uuid.uuid4()}",
                                isolation_level="read_committed", auto_offset_reset="earliest")
    await consumer.start()
    try:
        values: list[bytes] = []
        for _ in range(50):
            batch = await consumer.getmany(timeout_ms=200)
            values += [r.value for rs in batch.values() for r in rs]
            if len(values) >= 2:
                break
    finally:
        await consumer.stop()
    assert values == [b"committed", b"after"]


async def test_two_group_members_split_the_partitions(clean):
    bootstrap, topic, group = clean.kafka_bootstrap, f"test.group.{uuid.uuid4().hex[:6]}", f"g-{uuid.uuid4()}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 4, 1)])
    await admin.close()
    members = [AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group) for _ in range(2)]
    await asyncio.gather(*(m.start() for m in members))
    try:
        for _ in range(100):
            assigned = [m.assignment() for m in members]
            if all(assigned) and sum(len(a) for a in assigned) == 4:
                break
            await asyncio.gather(*(m.getmany(timeout_ms=100) for m in members))
        assert all(len(a) == 2 for a in assigned) and not (assigned[0] & assigned[1])
    finally:
        await asyncio.gather(*(m.stop() for m in members))
