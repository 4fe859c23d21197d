"""Kafka adapters shared by all services: an idempotent producer, a dead-letter producer with headroom, DLQ topics."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.partitioner import DefaultPartitioner

from shared.kafka_connection import KafkaConnection

Headers = dict[str, str]
log = logging.getLogger("numport.kafka")

# Kafka's default message.max.bytes, which numport's input topics keep: the largest record batch they accept.
INPUT_MAX_BYTES = 1_048_588
# A `.dlq` topic takes a full copy of any input record plus the dead-letter headers, with room to spare.
DEAD_LETTER_MAX_BYTES = 2 * INPUT_MAX_BYTES + 64 * 1024
KEYS_REMEMBERED = 100_000  # partitions of this many keys are kept (numbers repeat; a bound keeps memory flat)
_DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs' config_source of a value set on the topic itself


class Record(NamedTuple):
    """What a consumer received, kept whole so a dead letter can reproduce it (a tuple: made once per record read)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class Letter:
    """One record bound for a dead-letter topic."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


class Producer:
    def __init__(self, connection: KafkaConnection | str, client_id: str) -> None:
        reach = _options(connection)
        self._producer = AIOKafkaProducer(**reach, client_id=client_id, acks="all",
                                          enable_idempotence=True, linger_ms=5, max_batch_size=262144)
        self._partitioner = DefaultPartitioner()
        self._partitions: dict[str, list[int]] = {}
        self._keys: dict[tuple[str, bytes], int] = {}
        # Dead letters get their own producer: its size limit matches the `.dlq` topics (so an oversized letter is
        # refused before it is sent), and a refusal by the broker cannot break the sequence numbers the
        # idempotent producer of the outbox relies on.
        self._dead_letters = AIOKafkaProducer(**reach, client_id=f"{client_id}-dlq", acks="all",
                                              linger_ms=5, max_batch_size=262144,
                                              max_request_size=DEAD_LETTER_MAX_BYTES)

    async def start(self) -> None:
        await self._producer.start()
        await self._dead_letters.start()

    async def stop(self) -> None:
        await self._dead_letters.stop()
        await self._producer.stop()

    async def send_all(self, records: Iterable[tuple[str, bytes | None, bytes, Headers]]) -> None:
        """Send in order (per partition, which keeps each key's order) and wait until the broker acknowledged all.

        Records are packed into one batch per partition and a key's partition is remembered: both the producer's
        per-record path and its pure-Python murmur2 cost more than the rest of an outbox relay's work.
        """
        builders: dict[tuple[str, int], Any] = {}
        futures, checked = [], set()
        for topic, key, value, headers in records:
            if topic not in checked:  # once per call: a topic given more partitions moves its keys
                checked.add(topic)
                await self._refresh_partitions(topic)
            where = (topic, self._partition_of(topic, key))
            encoded = [(k, v.encode()) for k, v in headers.items()]
            builder = builders.get(where) or builders.setdefault(where, self._producer.create_batch())
            if builder.append(key=key, value=value, timestamp=None, headers=encoded) is None:  # full: send it
                futures.append(await self._producer.send_batch(builder, topic, partition=where[1]))
                builder = builders[where] = self._producer.create_batch()
                builder.append(key=key, value=value, timestamp=None, headers=encoded)
        for (topic, partition), builder in builders.items():
            futures.append(await self._producer.send_batch(builder, topic, partition=partition))
        await asyncio.gather(*futures)

    async def _refresh_partitions(self, topic: str) -> None:
        partitions = sorted(await self._producer.partitions_for(topic))
        if self._partitions.get(topic) != partitions:
            self._partitions[topic] = partitions
            self._keys.clear()

    def _partition_of(self, topic: str, key: bytes | None) -> int:
        """Kafka's default partitioner (murmur2 of the key), remembered per key."""
        partitions = self._partitions[topic]
        if key is None:
            return random.choice(partitions)
        if len(self._keys) > KEYS_REMEMBERED:
            self._keys.clear()
        found = self._keys.get((topic, key))
        if found is None:
            found = self._keys[(topic, key)] = self._partitioner(key, partitions, partitions)
        return found

    async def send_dead_letter(self, letter: Letter) -> asyncio.Future[Any]:
        """Queue a dead letter without waiting; the future resolves once the broker acknowledged it."""
        return await self._dead_letters.send(letter.topic, letter.value, key=letter.key, headers=list(letter.headers))


def _options(connection: KafkaConnection | str) -> dict[str, Any]:
    """A plain address (tests, local tools) or a full connection description."""
    return (KafkaConnection(connection) if isinstance(connection, str) else connection).client_options()


async def ensure_dead_letter_topics(connection: KafkaConnection | str, inputs: Iterable[str]) -> None:
    """Give every input topic a `<topic>.dlq` that accepts `DEAD_LETTER_MAX_BYTES`: create it, or raise its limit."""
    admin = AIOKafkaAdminClient(**_options(connection))
    await admin.start()
    try:
        inputs = sorted(set(inputs))
        existing = set(await admin.list_topics())
        missing = [t for t in inputs if f"{t}.dlq" not in existing]
        present = [f"{t}.dlq" for t in inputs if f"{t}.dlq" in existing]
        if missing:
            await _create(admin, missing, existing)
        if present:
            await _raise_limits(admin, present)
    finally:
        await admin.close()


async def _create(admin: AIOKafkaAdminClient, inputs: list[str], existing: set[str]) -> None:
    """Each `.dlq` copies its input's partitions and replicas, or takes the broker's defaults if there is no input."""
    known = [t for t in inputs if t in existing]
    shapes = {t["topic"]: (len(t["partitions"]), len(t["partitions"][0]["replicas"]))
              for t in (await admin.describe_topics(known) if known else []) if t["partitions"]}
    default = await _broker_defaults(admin) if set(inputs) - set(shapes) else (1, 1)
    config = {"max.message.bytes": str(DEAD_LETTER_MAX_BYTES)}
    answer = await admin.create_topics([NewTopic(f"{t}.dlq", *shapes.get(t, default), topic_configs=config)
                                        for t in inputs])
    for topic in answer.to_object()["topic_errors"]:
        if topic["error_code"] not in (0, 36):  # 36: another replica created it first
            raise RuntimeError(f"cannot create dead-letter topic {topic['topic']}: {topic['error_message']}")


async def _broker_defaults(admin: AIOKafkaAdminClient) -> tuple[int, int]:
    broker = str((await admin.describe_cluster())["brokers"][0]["node_id"])
    wanted = {"num.partitions": None, "default.replication.factor": None}
    [answer] = await admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, broker, wanted)])
    values = {e["config_names"]: int(e["config_value"])
              for e in answer.to_object()["resources"][0]["config_entries"]}
    return values["num.partitions"], values["default.replication.factor"]


async def _raise_limits(admin: AIOKafkaAdminClient, dlqs: list[str]) -> None:
    """AlterConfigs replaces a topic's whole set of overrides, so the ones already there are sent along."""
    answers = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in dlqs])
    changes = []
    for resource in (r for answer in answers for r in answer.to_object()["resources"]):
        entries = resource["config_entries"]
        limit = next(int(e["config_value"]) for e in entries if e["config_names"] == "max.message.bytes")
        if limit < DEAD_LETTER_MAX_BYTES:
            overrides = {e["config_names"]: e["config_value"] for e in entries
                         if e["config_source"] == _DYNAMIC_TOPIC_CONFIG}
            overrides["max.message.bytes"] = str(DEAD_LETTER_MAX_BYTES)
            changes.append(ConfigResource(ConfigResourceType.TOPIC, resource["resource_name"], overrides))
            log.info("raising a dead-letter topic's size limit",
                     extra={"topic": resource["resource_name"], "from_bytes": limit, "to_bytes": DEAD_LETTER_MAX_BYTES})
    for answer in await admin.alter_configs(changes) if changes else []:
        for resource in answer.to_object()["resources"]:
            if resource["error_code"]:
                raise RuntimeError(f"cannot raise the size limit of {resource['resource_name']}: "
                                   f"{resource['error_message']}")
