"""Produce, read and reset numport topics on a real broker, as an outside client would (tests, demo, benchmarks)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.events import Event, dump_event
from shared.kafka import DEAD_LETTER_MAX_BYTES
from shared.topics import ALL, topic_of


async def produce(bootstrap: str, topic: str, value: bytes, key: bytes | None = None,
                  headers: list[tuple[str, bytes]] | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=headers or [])
    finally:
        await producer.stop()


async def produce_event(bootstrap: str, event: Event) -> None:
    await produce(bootstrap, topic_of(event).name, dump_event(event), event.phone_number.encode())


async def read(bootstrap: str, topic: str, until: Callable[[list[ConsumerRecord]], bool] = bool,
               timeout: float = 30.0, settle: float = 0.0) -> list[ConsumerRecord]:
    """Everything on `topic` from the beginning, once `until(records)` holds (then `settle` more seconds)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"test-{uuid.uuid4()}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            records += [r for rs in batch.values() for r in rs]
            if until(records):
                settle_until = time.monotonic() + settle
                while time.monotonic() < settle_until:
                    batch = await consumer.getmany(timeout_ms=200)
                    records += [r for rs in batch.values() for r in rs]
                return records
        raise AssertionError(f"timed out after {timeout}s reading {topic}; got {len(records)} records")
    finally:
        await consumer.stop()


async def reset(bootstrap: str) -> None:
    """Delete numport's topics and dead-letter topics (Kafka drops the groups' offsets with them), create them anew.

    Dead-letter topics take a full copy of the largest input record plus its dead-letter headers.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [t for t in existing if t.startswith("numport.") or t.startswith("test.")]
        if doomed:
            await admin.delete_topics(doomed)
            for _ in range(50):
                if not set(doomed) & set(await admin.list_topics()):
                    break
                await asyncio.sleep(0.1)
        dlq_config = {"max.message.bytes": str(DEAD_LETTER_MAX_BYTES)}
        wanted = [t.name for t in ALL] + [t.dlq for t in ALL]
        await admin.create_topics([NewTopic(t.name, t.partitions, 1) for t in ALL] +
                                  [NewTopic(t.dlq, t.partitions, 1, topic_configs=dlq_config) for t in ALL])
        for _ in range(100):  # a new partition answers only once it has a leader
            described = await admin.describe_topics(wanted)
            if all(p["leader"] >= 0 for t in described for p in t["partitions"]) and len(described) == len(wanted):
                break
            await asyncio.sleep(0.05)
    finally:
        await admin.close()
