"""Meta-shaped webhook deliveries, signed with X-Hub-Signature-256, and a message-status traffic generator."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox.message_statuses import Mix, arrival, draw, lifecycle
from sandbox.state import World


def signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(waba_id: str, changes: list[tuple[str, dict[str, Any]]], at: int) -> dict[str, Any]:
    return {"object": "whatsapp_business_account",
            "entry": [{"id": waba_id, "time": at, "changes": [{"field": f, "value": v} for f, v in changes]}]}


@dataclass
class Webhooks:
    """Delivers to one callback URL (the BSP's gateway); records every attempt for the admin API and tests."""

    url: str | None = None
    app_secret: str = "sandbox-app-secret"
    attempts: int = 3
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    transport: httpx.AsyncBaseTransport | None = None
    _traffic: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    async def send(self, notices: list[tuple[str, str, dict[str, Any]]], at: int | None = None) -> None:
        by_waba: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        for waba_id, name, value in notices:
            by_waba[waba_id].append((name, value))
        for waba_id, changes in by_waba.items():
            await self.post(envelope(waba_id, changes, at or int(time.time())))

    async def post(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        record: dict[str, Any] = {"payload": payload, "status": None}
        self.deliveries.append(record)
        if not self.url:
            return
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(self.app_secret, body)}
        async with httpx.AsyncClient(timeout=5, transport=self.transport) as http:
            for attempt in range(self.attempts):
                with contextlib.suppress(httpx.HTTPError):
                    record["status"] = (await http.post(self.url, content=body, headers=headers)).status_code
                    if record["status"] == 200:
                        return
                await asyncio.sleep(0.2 * 2**attempt)

    def start_traffic(self, world: World, number_ids: list[str], rate: float, count: int,
                      statuses: list[str], mix: Mix | None = None, seed: int = 0) -> str:
        """Emit `count` messages per number at `rate` messages/s overall, each with the given status sequence."""
        run_id = world.new_id()
        self._traffic[run_id] = asyncio.create_task(
            self._traffic_run(world, number_ids, rate, count, tuple(statuses), mix or Mix(), seed))
        return run_id

    async def traffic_done(self, run_id: str) -> bool:
        task = self._traffic.get(run_id)
        return task is not None and task.done()

    async def stop(self) -> None:
        for task in self._traffic.values():
            task.cancel()
        await asyncio.gather(*self._traffic.values(), return_exceptions=True)

    async def _traffic_run(self, world: World, number_ids: list[str], rate: float, count: int,
                           statuses: tuple[str, ...], mix: Mix, seed: int) -> None:
        """Messages sent `rate` a second; their statuses delivered ten times a second, in the order Meta would."""
        rng, start = random.Random(seed), int(world.now().timestamp())
        messages = [draw(rng, f"wamid.sandbox.{number_id}.{seq}", number_id, start + int(index / rate), seq, mix,
                         statuses)
                    for index, (seq, number_id) in enumerate((s, n) for s in range(count) for n in number_ids)]
        stream = arrival([(at, (m.number_id, entry)) for m in messages for at, entry in lifecycle(m, rng)], rng, mix)
        per_tick = max(1, int(rate * len(statuses) / 10))
        for first in range(0, len(stream), per_tick):
            began = time.monotonic()
            await self.send(_deliveries(world, stream[first:first + per_tick]))
            await asyncio.sleep(max(0.0, 0.1 - (time.monotonic() - began)))


def _deliveries(world: World, chunk: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, dict[str, Any]]]:
    """One `messages` change per number in this delivery, with that number's statuses in arrival order."""
    by_number: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for number_id, entry in chunk:
        by_number[number_id].append(entry)
    return [(world.numbers[number_id].waba_id, "messages", _status_value(world, number_id, entries))
            for number_id, entries in by_number.items()]


def _status_value(world: World, number_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    number = world.numbers[number_id]
    return {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": number.e164_digits, "phone_number_id": number_id},
            "statuses": entries}
