"""Poison records land in the dead-letter topic with their reason, key and headers; consumption goes on.

However large the record, its dead letter is written (whole, or shortened when no copy fits) and nothing wedges.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import json
import os
import time
import uuid

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.record.util import size_of_varint
from aiokafka.structs import RecordMetadata

from deploy.local import kafkaio as kafka
from deploy.local import stack
from deploy.local.processes import ServiceProcess
from shared import topics
from shared.consumer import Subscription, Unit
from shared.events import MigrationRequested, dump_event, parse_event
from shared.kafka import DEAD_LETTER_MAX_BYTES, INPUT_MAX_BYTES
from shared.service import ServiceSpec, Wired, running
from shared.settings import ServiceSettings
from tests.factories import ELIGIBLE_NUMBER, migration_requested


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


# every service the `services` fixture runs, as the local stack lists them (a new one cannot be forgotten here)
CONSUMERS = {name: importlib.import_module(f"services.{name}.main").SPEC for name in stack.SERVICES}
BATCH_HEADER_BYTES = 61  # a v2 record batch's fixed header, counted against max.message.bytes


def largest_value(limit: int, key: bytes) -> int:
    """The longest value whose record, alone in its batch without headers, is exactly `limit` bytes."""
    def batch_bytes(size: int) -> int:
        body = 3 + size_of_varint(len(key)) + len(key) + size_of_varint(size) + size + 1
        return BATCH_HEADER_BYTES + size_of_varint(body) + body

    size = limit - BATCH_HEADER_BYTES
    while batch_bytes(size) > limit:
        size -= 1
    return size


async def max_message_bytes(admin: AIOKafkaAdminClient, topics_: list[str]) -> dict[str, int]:
    wanted = {"max.message.bytes": None}
    answers = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t, wanted) for t in topics_])
    return {r["resource_name"]: int(r["config_entries"][0]["config_value"])
            for answer in answers for r in answer.to_object()["resources"]}


async def committed_past(admin: AIOKafkaAdminClient, group: str, placed: dict[str, RecordMetadata]) -> bool:
    offsets = await admin.list_consumer_group_offsets(group)
    committed = {(tp.topic, tp.partition): o.offset for tp, o in offsets.items()}
    return all(committed.get((topic, meta.partition), -1) > meta.offset for topic, meta in placed.items())


def unreadable(sub: Subscription, value: bytes) -> bool:
    """The subscription's decoder refuses the record (its consumer dead-letters it) rather than skipping it."""
    try:
        sub.decode(value)
    except ValueError:
        return True
    return False


async def test_a_record_of_the_broker_maximum_is_dead_lettered_on_every_consumed_topic(services, service_env, db):
    bootstrap, prefix = service_env["NUMPORT_KAFKA_BOOTSTRAP"], service_env["NUMPORT_CONSUMER_GROUP_PREFIX"]
    consumed: dict[str, list[str]] = {}  # every input topic of the running services, and who reads it
    readers: dict[str, list[Subscription]] = {}  # and how: a decoder may skip what its service does not want
    for name, spec in CONSUMERS.items():
        for sub in spec.subscriptions:
            consumed.setdefault(sub.topic.name, []).append(name)
            readers.setdefault(sub.topic.name, []).append(sub)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=4 * INPUT_MAX_BYTES)
    await producer.start()
    key, good = ELIGIBLE_NUMBER.encode(), migration_requested()
    big, behind = {}, {}
    try:
        limits = await max_message_bytes(admin, list(consumed))
        for topic in consumed:
            value = os.urandom(largest_value(limits[topic], key))
            with pytest.raises(MessageSizeTooLargeError):  # one byte more and the broker refuses it
                await producer.send_and_wait(topic, value + b"!", key=key)
            big[topic] = (value, await producer.send_and_wait(topic, value, key=key))
            follow = dump_event(good) if topic == topics.MIGRATION_REQUESTS.name else b"{behind the big one"
            behind[topic] = (follow, await producer.send_and_wait(topic, follow, key=key))
        for name in CONSUMERS:
            group = f"{prefix}.{name}"
            placed = {t: behind[t][1] for t, names in consumed.items() if name in names}
            deadline = time.monotonic() + 60
            while not await committed_past(admin, group, placed):
                assert time.monotonic() < deadline, f"{name} did not move past the largest records"
                await asyncio.sleep(0.2)
    finally:
        await producer.stop()
        await admin.close()

    for topic, names in consumed.items():
        (value, meta), follow = big[topic], behind[topic][0]
        refusing = [n for n, sub in zip(names, readers[topic], strict=True) if unreadable(sub, value)]
        letters = len(refusing) + sum(unreadable(sub, follow) for sub in readers[topic])
        assert refusing, f"nobody reads {topic} in full: its bad records would vanish unnoticed"
        dead = await kafka.read(bootstrap, f"{topic}.dlq", until=lambda rs, n=letters: len(rs) >= n, settle=0.5)
        assert len(dead) == letters
        copies = [r for r in dead if header(r, "x-numport-original-offset") == str(meta.offset)]
        assert sorted(header(r, "x-numport-dlq-consumer") for r in copies) == sorted(f"{prefix}.{n}" for n in refusing)
        assert all(r.value == value and r.key == key for r in copies), "a full copy fits in the dead-letter topic"
        assert all("x-numport-dlq-shortened" not in dict(r.headers) for r in copies)
    assert await db.fetchval("SELECT count(*) FROM precheck.reports WHERE migration_id = $1", good.migration_id) == 1
    async with httpx.AsyncClient() as http:
        for process in services.processes.values():
            assert (await http.get(f"http://127.0.0.1:{process.port}/readyz")).status_code == 200


HUGE_TOPIC = topics.Topic("test.huge", "input topic that takes more than any dead-letter topic",
                          (MigrationRequested,), ("tests",), ("testsvc",))


def recording_spec(seen: list[MigrationRequested]) -> ServiceSpec:
    async def on_event(event: MigrationRequested, unit: Unit) -> None:
        async with unit.transaction():
            seen.append(event)

    @contextlib.asynccontextmanager
    async def wire(runtime):
        yield Wired({"huge": on_event})

    return ServiceSpec("testsvc", "huge records", (Subscription("huge", HUGE_TOPIC, (MigrationRequested,),
                                                                "records of any size"),), wire)


async def test_a_record_no_dead_letter_topic_takes_whole_leaves_a_shortened_letter(clean):
    bootstrap, key = clean.kafka_bootstrap, ELIGIBLE_NUMBER.encode()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=4 * INPUT_MAX_BYTES)
    await producer.start()
    seen: list[MigrationRequested] = []
    huge, large, good = os.urandom(DEAD_LETTER_MAX_BYTES + 1), os.urandom(INPUT_MAX_BYTES + 4096), migration_requested()
    try:
        await admin.create_topics([  # an input that takes 3 MiB, and a dead-letter topic left at the old 1 MiB
            NewTopic(HUGE_TOPIC.name, 1, 1, topic_configs={"max.message.bytes": str(3 * INPUT_MAX_BYTES)}),
            NewTopic(HUGE_TOPIC.dlq, 1, 1, topic_configs={"max.message.bytes": str(INPUT_MAX_BYTES)})])
        for value in (huge, large, dump_event(good)):
            await producer.send_and_wait(HUGE_TOPIC.name, value, key=key, headers=[("trace", b"abc")])
        settings = ServiceSettings(kafka_bootstrap=bootstrap, database_url=clean.database_url,
                                   consumer_group_prefix=f"t{uuid.uuid4().hex[:8]}")
        async with running(recording_spec(seen), settings):
            dead = await kafka.read(bootstrap, HUGE_TOPIC.dlq, until=lambda rs: len(rs) >= 2)
            deadline = time.monotonic() + 30
            while not seen:
                assert time.monotonic() < deadline, "the event behind the huge records was not processed"
                await asyncio.sleep(0.1)
        limits = await max_message_bytes(admin, [HUGE_TOPIC.dlq])
    finally:
        await producer.stop()
        await admin.close()

    assert limits == {HUGE_TOPIC.dlq: DEAD_LETTER_MAX_BYTES}, "start-up raises the old dead-letter topic's limit"
    short, whole = dead
    assert short.key == key and short.value == huge[:1024]
    assert header(short, "x-numport-original-sha256") == hashlib.sha256(huge).hexdigest()
    assert header(short, "x-numport-original-length") == str(len(huge))
    assert "MessageSizeTooLarge" in header(short, "x-numport-dlq-shortened")
    assert "malformed event" in header(short, "x-numport-dlq-reason")
    assert header(short, "x-numport-original-topic") == HUGE_TOPIC.name
    assert header(short, "x-numport-original-offset") == "0"
    assert whole.value == large and header(whole, "trace") == "abc"
    assert "x-numport-dlq-shortened" not in dict(whole.headers)
    assert [e.event_id for e in seen] == [good.event_id]
