"""Kafka adapters shared by all services: an idempotent producer and dead-lettering that keeps key and headers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

Headers = dict[str, str]


@dataclass(frozen=True)
class Record:
    """What a consumer received, kept whole so a dead letter can reproduce it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


class Producer:
    def __init__(self, bootstrap: str, client_id: str) -> None:
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, client_id=client_id, acks="all",
                                          enable_idempotence=True, linger_ms=5, max_batch_size=262144)

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send_all(self, records: Iterable[tuple[str, bytes | None, bytes, Headers]]) -> None:
        """Send in order and wait until the broker acknowledged every record."""
        futures = [
            await self._producer.send(topic, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()])
            for topic, key, value, headers in records
        ]
        await asyncio.gather(*futures)

    async def dead_letter(self, record: Record, consumer: str, reason: str, error_type: str) -> None:
        """Publish the original record to `<topic>.dlq` with why it could not be processed."""
        headers = [*record.headers,
                   ("x-numport-dlq-reason", reason.encode()[:4000]),
                   ("x-numport-dlq-error-type", error_type.encode()),
                   ("x-numport-dlq-consumer", consumer.encode()),
                   ("x-numport-original-topic", record.topic.encode()),
                   ("x-numport-original-partition", str(record.partition).encode()),
                   ("x-numport-original-offset", str(record.offset).encode())]
        future = await self._producer.send(f"{record.topic}.dlq", record.value, key=record.key, headers=headers)
        await future
