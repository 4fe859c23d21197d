"""Time as a dependency: services read it from a Clock so tests can move it without sleeping."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class OffsetClock:
    """System time plus an offset read from a file: lets tests and rehearsals move a running service's time
    forward (an hour without a code, a week without OBO acceptance) without sleeping."""

    def __init__(self, path: str) -> None:
        self.path = path

    def now(self) -> datetime:
        try:
            with open(self.path) as handle:
                offset = float(handle.read().strip() or 0)
        except FileNotFoundError:
            offset = 0.0
        return datetime.now(UTC) + timedelta(seconds=offset)


def from_environment() -> Clock:
    path = os.environ.get("NUMPORT_CLOCK_OFFSET_FILE")
    return OffsetClock(path) if path else SystemClock()
