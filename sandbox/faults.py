"""Injected trouble for rehearsals and tests: latency, random 5xx, throttling, bursts, and Meta's failures
around a write (refused before receipt, applied late, answer lost, error after applying)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import ConfigDict, TypeAdapter, ValidationError, field_validator
from pydantic.dataclasses import dataclass as checked

from sandbox import operations
from sandbox.http import graph_error

SETTINGS = ("latency_ms", "error_rate", "throttle_rate", "burst_status", "burst_remaining")
WRITE_SEED = 13
Mode = Literal["reset", "slow_apply", "lost_answer", "error_after_apply"]


@checked(config=ConfigDict(extra="forbid"))
class WriteFault:
    """One failure for one write operation; it hits a share `rate` of the calls, at most `times` of them."""

    operation: str
    mode: Mode
    seconds: float = 0.0  # slow_apply: delay before applying; lost_answer: delay before answering (0 = never)
    status: int = 500  # error_after_apply: the 5xx answered after applying
    times: int | None = None
    rate: float = 1.0
    used: int = field(default=0, init=False)

    @field_validator("operation")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in operations.NAMES:
            raise ValueError(f"not a write operation; one of {', '.join(operations.NAMES)}")
        return name

    def takes(self, rng: random.Random) -> bool:
        """Whether this entry hits the next call of its operation (rolls the RNG only for a partial rate)."""
        if self.times is not None and self.used >= self.times:
            return False
        return self.rate >= 1 or rng.random() < self.rate


ENTRIES = TypeAdapter(list[WriteFault])


def parse_writes(raw: Any) -> list[WriteFault]:
    """Validated fault entries; a wrong one raises ValueError naming the entry and its field."""
    try:
        entries = ENTRIES.validate_python(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"])
        raise ValueError(f"writes{where}: {first['msg'].removeprefix('Value error, ')}") from None
    for index, entry in enumerate(entries):
        if problem := _misfit(entry):
            raise ValueError(f"writes[{index}].{problem}")
    return entries


def _misfit(entry: WriteFault) -> str | None:
    if entry.seconds < 0 or (entry.mode == "slow_apply" and entry.seconds <= 0):
        return "seconds: must be above 0 for slow_apply and not negative for lost_answer"
    if entry.seconds and entry.mode not in ("slow_apply", "lost_answer"):
        return f"seconds: {entry.mode} takes no delay"
    if not 500 <= entry.status <= 599 or (entry.status != 500 and entry.mode != "error_after_apply"):
        return "status: only error_after_apply takes a status, and it must be a 5xx"
    if entry.times is not None and entry.times < 1:
        return "times: must be 1 or more (leave it out for every call)"
    if not 0 <= entry.rate <= 1:
        return "rate: must be between 0 and 1"
    return None


@dataclass
class Faults:
    latency_ms: float = 0.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    burst_status: int = 500
    burst_remaining: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(11))
    writes: list[WriteFault] = field(default_factory=list)
    write_rng: random.Random = field(default_factory=lambda: random.Random(WRITE_SEED))
    in_flight: set[asyncio.Task[Any]] = field(default_factory=set)  # delayed applies, kept alive past their client

    def configure(self, **settings: Any) -> None:
        """Change the settings given and only those; when one is wrong, nothing changes."""
        if unknown := sorted(set(settings) - {*SETTINGS, "writes", "seed"}):
            raise ValueError(f"unknown fault setting {unknown[0]!r}")
        plain = {name: _number(name, type(getattr(self, name)), v) for name, v in settings.items() if name in SETTINGS}
        writes = parse_writes(settings["writes"]) if "writes" in settings else self.writes
        seed = settings.get("seed", WRITE_SEED)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError("seed: must be an integer")
        for name, value in plain.items():
            setattr(self, name, value)
        if {"writes", "seed"} & set(settings):  # a fresh sequence, so a rehearsal with rates repeats exactly
            self.writes, self.write_rng = writes, random.Random(seed)

    def clear(self) -> None:
        """No faults at all; delayed applies still pending are abandoned (they would land in a reset world)."""
        self.configure(latency_ms=0, error_rate=0, throttle_rate=0, burst_remaining=0, writes=[])
        self.abandon()

    def abandon(self) -> None:
        for task in self.in_flight:
            task.cancel()

    def describe(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SETTINGS} | {"writes": [vars(w) for w in self.writes]}

    def pick(self, operation: str) -> WriteFault | None:
        """The first entry for this operation that hits this call, counted as used."""
        for entry in self.writes:
            if entry.operation == operation and entry.takes(self.write_rng):
                entry.used += 1
                return entry
        return None

    def keep(self, apply: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run an apply as its own task, referenced until done, so no client's departure can cancel it."""
        task = asyncio.get_running_loop().create_task(apply)
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)
        return task

    async def apply(self) -> JSONResponse | None:
        """Delay, then maybe answer in Meta's place with an error; None lets the request through."""
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        if self.burst_remaining > 0:
            self.burst_remaining -= 1
            return _failure(self.burst_status)
        roll = self.rng.random()
        if roll < self.throttle_rate:
            return _failure(429)
        if roll < self.throttle_rate + self.error_rate:
            return _failure(500)
        return None


def _number(name: str, kind: type, value: Any) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be a number") from None


def _failure(status: int) -> JSONResponse:
    if status == 429:
        return graph_error(429, 80007, "Rate limit hit for this WhatsApp Business Account.", transient=True,
                           subcode=2446079, headers={"Retry-After": "1"})
    if status == 503:
        return graph_error(503, 2, "Service temporarily unavailable.", transient=True)
    return graph_error(500, 2, "An unexpected error has occurred. Please retry your request later.", transient=True)


def failure_after_apply(status: int) -> JSONResponse:
    """The 5xx Meta sometimes answers for a write it did carry out."""
    return graph_error(status, 2, "The service failed while answering; the request may have been carried out.",
                       transient=True)
