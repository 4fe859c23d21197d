"""Injected trouble for rehearsals and tests: latency, random 5xx, throttling, and bursts of a chosen error."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from fastapi.responses import JSONResponse

from sandbox.http import graph_error


@dataclass
class Faults:
    latency_ms: float = 0.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    burst_status: int = 500
    burst_remaining: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(11))

    def configure(self, **settings: float) -> None:
        for name, value in settings.items():
            if name not in ("latency_ms", "error_rate", "throttle_rate", "burst_status", "burst_remaining"):
                raise ValueError(f"unknown fault setting {name!r}")
            setattr(self, name, type(getattr(self, name))(value))

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


def _failure(status: int) -> JSONResponse:
    if status == 429:
        return graph_error(429, 80007, "Rate limit hit for this WhatsApp Business Account.", transient=True,
                           subcode=2446079, headers={"Retry-After": "1"})
    if status == 503:
        return graph_error(503, 2, "Service temporarily unavailable.", transient=True)
    return graph_error(500, 2, "An unexpected error has occurred. Please retry your request later.", transient=True)
