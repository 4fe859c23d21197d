"""Which partitions keep failing on one offset, for how long: what readiness and the stuck gauge report."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.metrics import CONSUMER_STUCK

Partition = tuple[str, int]


@dataclass
class _Failing:
    offset: int
    since: float
    last: float
    failures: int = 0


@dataclass
class StuckPartitions:
    """A partition is stuck once it has failed on the same offset for `threshold` seconds.

    It stops counting as stuck when it moves past that offset, or when nothing has failed on it for
    `threshold + quiet` seconds (the partition went to another group member, or the retries stopped).
    """

    service: str
    threshold: float
    quiet: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _failing: dict[Partition, _Failing] = field(default_factory=dict)

    def failed(self, topic: str, partition: int, offset: int) -> int:
        """Note one failed attempt; returns how many attempts in a row failed on this offset."""
        now, key = self.clock(), (topic, partition)
        entry = self._failing.get(key)
        if entry is None or entry.offset != offset:
            entry = self._failing[key] = _Failing(offset, now, now)
            CONSUMER_STUCK.labels(self.service, topic, str(partition)).set_function(
                lambda: float(self.is_stuck(topic, partition)))
        entry.failures += 1
        entry.last = now
        return entry.failures

    def progressed(self, topic: str, partition: int, next_offset: int) -> None:
        """Everything before `next_offset` is done."""
        entry = self._failing.get((topic, partition))
        if entry is not None and entry.offset < next_offset:
            del self._failing[(topic, partition)]

    def is_stuck(self, topic: str, partition: int) -> bool:
        entry, now = self._failing.get((topic, partition)), self.clock()
        return (entry is not None and now - entry.since >= self.threshold
                and now - entry.last <= self.threshold + self.quiet)

    def stuck(self) -> list[dict[str, Any]]:
        """The stuck partitions, as /readyz shows them."""
        now = self.clock()
        return [{"topic": topic, "partition": partition, "offset": entry.offset, "failures": entry.failures,
                 "seconds": round(now - entry.since, 1)}
                for (topic, partition), entry in sorted(self._failing.items()) if self.is_stuck(topic, partition)]
