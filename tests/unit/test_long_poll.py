"""An idle group member waits for records in one long poll, not in short polls with FastStream's pause after each
empty one: that pause cost ten wake-ups a second per member when idle, and delayed a record arriving during it."""

from __future__ import annotations

import asyncio
import time

from faststream.kafka import KafkaBroker

from shared.service import EVENT_POLL_MS, _long_poll


class IdleConsumer:
    def __init__(self) -> None:
        self.waits: list[int] = []

    async def getmany(self, timeout_ms: int, max_records: int) -> dict:
        self.waits.append(timeout_ms)
        return {}


class BusyConsumer:
    async def getmany(self, timeout_ms: int, max_records: int) -> dict:
        return {"tp0": ["r0", "r1"][:max_records], "tp1": ["r2"]}


def member() -> object:
    subscriber = KafkaBroker().subscriber("numport.test", batch=True, group_id="numport.test")
    _long_poll(subscriber, max_records=2)
    return subscriber


def test_an_empty_poll_is_one_long_wait_and_no_pause() -> None:
    consumer = IdleConsumer()
    started = time.monotonic()
    assert asyncio.run(member().get_msg(consumer)) == ()
    assert consumer.waits == [EVENT_POLL_MS] and EVENT_POLL_MS >= 1000
    assert time.monotonic() - started < 0.5  # FastStream's own poll sleeps after an empty getmany


def test_a_poll_hands_over_every_partition_s_records() -> None:
    assert asyncio.run(member().get_msg(BusyConsumer())) == ("r0", "r1", "r2")
