"""One poll at a time: records in order, dead letters in bulk, and a pause instead of a tight loop when stuck.

Records of one key are handled one after another (batch subscriptions one transaction per topic), so a key's
order holds; single events of different keys side by side. Their dead letters are all sent at once and awaited
together before the poll is acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.consumer import Consumer, Subscription
from shared.dead_letters import DeadLetters
from shared.kafka import Producer, Record
from shared.stuck import StuckPartitions

log = logging.getLogger("numport.consumer")
Routes = Mapping[str, tuple[Subscription, Any]]  # topic -> its subscription and handler
Resume = dict[tuple[str, int], int]  # (topic, partition) -> the offset to read again from
MAX_PAUSE_SECONDS = 30.0
# Handling stops after this long and the rest of the poll is read again, well inside Kafka's max.poll.interval.ms.
POLL_BUDGET_SECONDS = 60.0
KEYS_AT_ONCE = 8  # single events of different keys handled side by side, within the connection pool's reach


@dataclass
class Poller:
    consumer: Consumer
    producer: Producer
    stuck: StuckPartitions
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)

    async def consume(self, routes: Routes, records: list[Record]) -> Resume:
        """Handle one poll, then wait for its dead letters; returns where partitions must resume.

        After a failure that is not the record's fault (PostgreSQL or Kafka away, a dead letter not written),
        the rest of the poll is left unacknowledged and read again after a pause, never dead-lettered.
        """
        letters = DeadLetters(self.producer, self.consumer.service, self.consumer.group)
        left, failing, error = await self._run(routes, records, letters)
        unsent = await letters.settle()
        resume = _earliest([*left, *(record for record, _ in unsent)])
        for (topic, partition), last in _latest(records).items():
            self.stuck.progressed(topic, partition, resume.get((topic, partition), last + 1))
        failures = [*((r, error) for r in failing if error is not None), *unsent]
        if failures:
            await self._pause(failures)
        return resume

    async def _run(self, routes: Routes, records: list[Record],
                   letters: DeadLetters) -> tuple[list[Record], list[Record], Exception | None]:
        """Returns the records left unhandled, the first of each partition in the unit that failed, and its error.

        Single events of different keys are handled side by side, each key's in poll order: a poll of many
        migrations does not wait for each one's outside reads in turn. A key that fails stops; the others go on,
        and what they did after the failing offset is read again and found done (inbox)."""
        units, deadline = _units(routes, records), time.monotonic() + POLL_BUDGET_SECONDS
        lanes: dict[bytes | None, list[list[Record]]] = {}
        for unit in units:
            lanes.setdefault(None if routes[unit[0].topic][0].batch else unit[0].key, []).append(unit)
        if len(lanes) == 1 or None in lanes:  # batch units keep the poll's order as it is
            return await self._in_order(routes, units, letters, deadline)
        gate = asyncio.Semaphore(KEYS_AT_ONCE)

        async def lane(own: list[list[Record]]) -> tuple[list[Record], list[Record], Exception | None]:
            async with gate:
                return await self._in_order(routes, own, letters, deadline)

        results = await asyncio.gather(*(lane(own) for own in lanes.values()))
        position = {id(r): i for i, r in enumerate(records)}
        left = sorted((r for result in results for r in result[0]), key=lambda r: position[id(r)])
        return left, [r for result in results for r in result[1]], next((e for *_, e in results if e), None)

    async def _in_order(self, routes: Routes, units: list[list[Record]], letters: DeadLetters,
                        deadline: float) -> tuple[list[Record], list[Record], Exception | None]:
        for index, unit in enumerate(units):
            if time.monotonic() > deadline:
                return [r for u in units[index:] for r in u], [], None
            sub, handler = routes[unit[0].topic]
            try:
                if sub.batch:
                    await self.consumer.handle_batch(sub, handler, unit, letters)
                else:
                    await self.consumer.handle(sub, handler, unit[0], letters)
            except Exception as error:
                return [r for u in units[index:] for r in u], _first_per_partition(unit), error
        return [], [], None

    async def _pause(self, failures: list[tuple[Record, BaseException]]) -> None:
        """Log the failure once per attempt and wait, longer each time the same offset fails again."""
        streak = max(self.stuck.failed(r.topic, r.partition, r.offset)
                     for r in _first_per_partition([r for r, _ in failures]))
        ceiling = min(MAX_PAUSE_SECONDS, self.consumer.backoff * 2 ** min(streak - 1, 20))
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        record, error = failures[0]
        log.error("record left unacknowledged, read again after a pause",
                  exc_info=error if streak == 1 else None,
                  extra={"topic": record.topic, "partition": record.partition, "offset": record.offset,
                         "error": repr(error), "failures_in_a_row": streak, "pause_seconds": round(delay, 2),
                         "others_failing": len(failures) - 1})
        await self.sleep(delay)


def _units(routes: Routes, records: list[Record]) -> list[list[Record]]:
    """One unit per record, or one per topic for batch subscriptions (a transaction each), in poll order."""
    units: dict[object, list[Record]] = {}
    for index, record in enumerate(records):
        units.setdefault(record.topic if routes[record.topic][0].batch else index, []).append(record)
    return list(units.values())


def _first_per_partition(records: list[Record]) -> list[Record]:
    first: dict[tuple[str, int], Record] = {}
    for record in records:
        if (key := (record.topic, record.partition)) not in first or record.offset < first[key].offset:
            first[key] = record
    return list(first.values())


def _earliest(records: list[Record]) -> Resume:
    return {(r.topic, r.partition): r.offset for r in _first_per_partition(records)}


def _latest(records: list[Record]) -> Resume:
    latest: Resume = {}
    for record in records:
        key = (record.topic, record.partition)
        latest[key] = max(record.offset, latest.get(key, -1))
    return latest
