"""Meta-shaped webhook deliveries, signed with X-Hub-Signature-256, and a message-status traffic generator."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox.state import World

PRICING_CATEGORIES = ("marketing", "utility", "authentication", "service")


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
                      statuses: list[str]) -> str:
        """Emit `count` messages per number at `rate` messages/s overall, each with the given status sequence."""
        run_id = world.new_id()
        self._traffic[run_id] = asyncio.create_task(self._traffic_run(world, number_ids, rate, count, statuses))
        return run_id

    async def traffic_done(self, run_id: str) -> bool:
        task = self._traffic.get(run_id)
        return task is not None and task.done()

    async def stop(self) -> None:
        for task in self._traffic.values():
            task.cancel()
        await asyncio.gather(*self._traffic.values(), return_exceptions=True)

    async def _traffic_run(self, world: World, number_ids: list[str], rate: float, count: int,
                           statuses: list[str]) -> None:
        batch = max(1, int(rate / 10))  # up to ten deliveries a second, like Meta's batched webhooks
        pending = [(n, i) for i in range(count) for n in number_ids]
        for start in range(0, len(pending), batch):
            began = time.monotonic()
            by_waba: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for number_id, seq in pending[start:start + batch]:
                number = world.numbers[number_id]
                by_waba[number.waba_id].append(_status_value(world, number_id, seq, statuses))
            for waba_id, values in by_waba.items():
                await self.send([(waba_id, "messages", v) for v in values])
            await asyncio.sleep(max(0.0, batch / rate - (time.monotonic() - began)))


def _status_value(world: World, number_id: str, seq: int, statuses: list[str]) -> dict[str, Any]:
    number = world.numbers[number_id]
    sent_at = int(world.now().timestamp())
    category = PRICING_CATEGORIES[seq % len(PRICING_CATEGORIES)]
    wamid = f"wamid.sandbox.{number_id}.{seq}"
    return {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": number.e164_digits, "phone_number_id": number_id},
            "statuses": [_status(wamid, status, sent_at + offset, seq, number_id, category)
                         for offset, status in enumerate(statuses)]}


def _status(wamid: str, status: str, at: int, seq: int, number_id: str, category: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(at), "recipient_id": f"49151{seq:07d}"}
    if status == "failed":  # failures carry Meta's error and no pricing
        entry["errors"] = [{"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable",
                            "error_data": {"details": "The recipient cannot receive this message."}}]
        return entry
    entry["conversation"] = {"id": f"conv.{number_id}.{seq}", "origin": {"type": category}}
    entry["pricing"] = {"billable": True, "pricing_model": "PMP", "category": category, "type": "regular"}
    return entry
