"""Single events of different keys are handled side by side, each key's in poll order; a failing key stops alone."""

from __future__ import annotations

import asyncio
from typing import Any

from shared.kafka import Record
from shared.polling import Poller
from shared.stuck import StuckPartitions
from tests.unit.test_polling import ROUTES, TOPIC, AcknowledgingProducer, Clock


class SlowConsumer:
    """Handling key a's first record waits until a record of key b has been handled: only concurrency finishes it."""

    service, group, backoff = "testsvc", "numport.testsvc", 0.5

    def __init__(self) -> None:
        self.handled: list[tuple[bytes, int]] = []
        self.b_seen = asyncio.Event()

    async def handle(self, sub: Any, handler: Any, record: Record, letters: Any) -> None:
        if record.value == b"outage":
            raise ConnectionRefusedError("database away")
        if record.key == b"a" and record.offset == 0:
            await asyncio.wait_for(self.b_seen.wait(), 2.0)
        self.handled.append((record.key, record.offset))
        if record.key == b"b":
            self.b_seen.set()


def records(*specs: tuple[bytes, int, bytes]) -> list[Record]:
    return [Record(TOPIC.name, 0, offset, key, value, ()) for key, offset, value in specs]


def poller(consumer: SlowConsumer) -> Poller:
    async def sleep(seconds: float) -> None:
        return None

    stuck = StuckPartitions("testsvc", threshold=10.0, clock=Clock())
    return Poller(consumer, AcknowledgingProducer(), stuck, sleep)  # type: ignore[arg-type]


async def test_keys_run_side_by_side_and_each_key_keeps_its_order():
    consumer = SlowConsumer()
    resume = await poller(consumer).consume(ROUTES, records((b"a", 0, b"ok"), (b"a", 1, b"ok"), (b"b", 2, b"ok")))
    assert resume == {}
    assert consumer.handled == [(b"b", 2), (b"a", 0), (b"a", 1)]


async def test_a_failing_key_leaves_its_rest_for_later_while_other_keys_go_on():
    consumer = SlowConsumer()
    consumer.b_seen.set()
    poll = records((b"c", 0, b"outage"), (b"c", 1, b"ok"), (b"b", 2, b"ok"))
    resume = await poller(consumer).consume(ROUTES, poll)
    assert resume == {(TOPIC.name, 0): 0}, "the partition is read again from the failing record"
    assert consumer.handled == [(b"b", 2)], "the failing key's later record waits; the other key was handled"
