"""A poll is handled in order; after an outage the rest is read again after a pause, and stuck partitions show."""

from __future__ import annotations

import asyncio
from typing import Any

from shared.consumer import Subscription
from shared.events import MigrationRequested
from shared.kafka import Letter, Record
from shared.polling import Poller
from shared.stuck import StuckPartitions
from shared.topics import Topic

TOPIC = Topic("test.poll", "poll test input", (MigrationRequested,), ("tests",), ("testsvc",))
ROUTES = {TOPIC.name: (Subscription("poll", TOPIC, (MigrationRequested,), "poll test"), None)}


class FakeConsumer:
    """Handles records by script: b"poison" is dead-lettered, b"outage" raises, anything else is processed."""

    service, group, backoff = "testsvc", "numport.testsvc", 0.5

    def __init__(self) -> None:
        self.handled: list[tuple[int, int]] = []

    async def handle(self, sub: Subscription, handler: Any, record: Record, letters: Any) -> None:
        if record.value == b"outage":
            raise ConnectionRefusedError("database away")
        self.handled.append((record.partition, record.offset))
        if record.value == b"poison":
            await letters.add(record, "malformed event: payload", ValueError("x"))


class AcknowledgingProducer:
    def __init__(self) -> None:
        self.sent: list[Letter] = []

    async def send_dead_letter(self, letter: Letter) -> asyncio.Future[Any]:
        self.sent.append(letter)
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def poll(*values: tuple[int, int, bytes]) -> list[Record]:
    return [Record(TOPIC.name, partition, offset, b"k", value, ()) for partition, offset, value in values]


def poller(clock: Clock, sleeps: list[float]) -> tuple[Poller, FakeConsumer, AcknowledgingProducer]:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.now += seconds

    consumer, producer = FakeConsumer(), AcknowledgingProducer()
    stuck = StuckPartitions("testsvc", threshold=10.0, clock=clock)
    return Poller(consumer, producer, stuck, sleep), consumer, producer  # type: ignore[arg-type]


async def test_a_clean_poll_is_acknowledged_whole_with_its_dead_letters_written():
    sleeps: list[float] = []
    runner, consumer, producer = poller(Clock(), sleeps)
    resume = await runner.consume(ROUTES, poll((0, 5, b"ok"), (0, 6, b"poison"), (1, 2, b"ok")))
    assert resume == {} and sleeps == []
    assert consumer.handled == [(0, 5), (0, 6), (1, 2)]
    assert [letter.value for letter in producer.sent] == [b"poison"]


async def test_an_outage_leaves_the_rest_of_the_poll_for_later_and_pauses_longer_each_time():
    clock, sleeps = Clock(), []
    runner, consumer, producer = poller(clock, sleeps)
    records = poll((0, 5, b"poison"), (0, 6, b"outage"), (0, 7, b"ok"), (1, 2, b"ok"))
    for _ in range(6):
        assert await runner.consume(ROUTES, records) == {(TOPIC.name, 0): 6, (TOPIC.name, 1): 2}
        records = [r for r in records if (r.partition, r.offset) != (0, 5)]  # read again from where it resumes
    assert consumer.handled == [(0, 5)], "nothing after the failing record is handled"
    assert [letter.value for letter in producer.sent] == [b"poison"]
    ceilings = [0.5, 1, 2, 4, 8, 16]  # the backoff doubles with each failure in a row on the same offset
    assert all(c / 2 <= s <= c for c, s in zip(ceilings, sleeps, strict=True)), sleeps
    assert runner.stuck.stuck() == [{"topic": TOPIC.name, "partition": 0, "offset": 6, "failures": 6,
                                     "seconds": round(sum(sleeps), 1)}]


async def test_a_partition_is_stuck_only_after_the_threshold_and_recovers_once_it_moves_on():
    clock, sleeps = Clock(), []
    runner, consumer, _ = poller(clock, sleeps)
    await runner.consume(ROUTES, poll((0, 6, b"outage")))
    assert runner.stuck.stuck() == []
    clock.now += 10
    await runner.consume(ROUTES, poll((0, 6, b"outage")))
    assert [s["offset"] for s in runner.stuck.stuck()] == [6]
    await runner.consume(ROUTES, poll((0, 6, b"ok")))
    assert runner.stuck.stuck() == []


def test_a_partition_nothing_failed_on_for_a_while_no_longer_counts_as_stuck():
    clock = Clock()
    stuck = StuckPartitions("testsvc", threshold=10.0, quiet=60.0, clock=clock)
    stuck.failed(TOPIC.name, 0, 6)
    clock.now += 10
    assert stuck.is_stuck(TOPIC.name, 0)
    clock.now += 61  # the partition went to another member, or nothing is retrying it any more
    assert not stuck.is_stuck(TOPIC.name, 0) and stuck.stuck() == []
