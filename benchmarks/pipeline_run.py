"""Drives migrations through the running pipeline as partners and customers would, and reads what it cost."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from benchmarks.meters import Meter, delta, kafka_records

FAILED = ("failed", "ineligible", "escalated")
NUMBER_ID = 510000000000000  # customer i's number id in the benchmark's world
TOP_QUERIES = 25  # the statements run most often, listed under the table
STALL_SECONDS = 90.0  # no migration completed for this long: the rest are reported as stalled


def quantiles(values: list[float]) -> str:
    if not values:
        return "n/a"
    values = sorted(values)
    return f"p50 {statistics.median(values):.2f} s · p99 {values[min(len(values) - 1, int(len(values) * 0.99))]:.2f} s"


class Driver:
    def __init__(self, api_url: str, api_key: str, sandbox_url: str, meter: Meter,
                 request: Callable[[int], dict[str, Any]], kafka: str | None = None) -> None:
        self.api = httpx.AsyncClient(base_url=api_url, timeout=120, headers={"Authorization": f"Bearer {api_key}"})
        self.sandbox = httpx.AsyncClient(base_url=sandbox_url, timeout=60)
        self.meter, self.request, self.kafka = meter, request, kafka  # kafka: bootstrap, to count records
        self.stalled = 0

    async def close(self) -> None:
        await self.api.aclose()
        await self.sandbox.aclose()

    async def run(self, customers: Sequence[int], rate: float | None = None) -> list[str]:
        """Request the migrations (all at once, in batches of 500, or `rate` a second), enter codes as they arrive;
        returns the migration ids once all completed."""
        ids: dict[str, str] = {}  # number id -> migration id
        requesting = asyncio.create_task(self._request(customers, ids, rate))
        entered: dict[str, str] = {}
        progress = (0, time.monotonic())
        try:
            while True:
                if requesting.done():
                    requesting.result()  # a refused request ends the run here
                done = await self._done(list(ids.values()))
                if requesting.done() and done == len(ids):
                    break
                if done > progress[0] or not requesting.done():
                    progress = (done, time.monotonic())
                elif time.monotonic() - progress[1] > STALL_SECONDS:
                    self.stalled += len(ids) - done  # reported; the figures are per completed migration
                    break
                await self._enter_codes(ids, entered)
                await asyncio.sleep(0.1)
        finally:
            requesting.cancel()
        return list(ids.values())

    async def _request(self, customers: Sequence[int], ids: dict[str, str], rate: float | None) -> None:
        size = 500 if rate is None else 1
        started = time.monotonic()
        for start in range(0, len(customers), size):
            if rate is not None:
                await asyncio.sleep(max(0.0, started + start / rate - time.monotonic()))
            chunk = customers[start:start + size]
            answer = (await self.api.post("/v1/migrations:batch",
                                          json={"items": [self.request(i) for i in chunk]})).json()
            for row in answer["rows"]:
                if row["status"] != "accepted":
                    raise RuntimeError(f"request refused: {row}")
                ids[str(NUMBER_ID + chunk[row["index"]])] = row["migration"]["id"]

    async def _enter_codes(self, ids: dict[str, str], entered: dict[str, str]) -> None:
        """The customers: whoever got a new code types it (again later, if their migration was not ready yet)."""
        codes = (await self.sandbox.get("/_sandbox/bench/codes")).json()
        new = {number: code for number, code in codes.items() if number in ids and entered.get(number) != code}
        answers = await asyncio.gather(*(self.api.post(f"/v1/migrations/{ids[number]}/verification-code",
                                                       json={"code": code}) for number, code in new.items()))
        for (number, code), answer in zip(new.items(), answers, strict=True):
            if answer.is_success:
                entered[number] = code

    async def _done(self, ids: list[str]) -> int:
        self.meter.own["statements"] += 1
        self.meter.own["commits"] += 1
        row = await self.meter.conn.fetchrow(
            "SELECT count(*) FILTER (WHERE state = 'completed') AS done, "
            "count(*) FILTER (WHERE state = ANY($2::text[])) AS failed "
            "FROM gateway.migrations WHERE id = ANY($1::uuid[])", ids, list(FAILED))
        if row["failed"]:
            raise RuntimeError(f"{row['failed']} migrations did not complete; see the gateway read model")
        return int(row["done"])

    async def calls(self) -> tuple[int, int]:
        """Graph calls so far: all, and GETs among them."""
        answer = (await self.sandbox.get("/_sandbox/bench/calls")).json()
        return int(answer["calls"]), int(answer["gets"])

    async def measured(self, customers: Sequence[int], idle: float, rate: float | None = None) -> dict[str, Any]:
        await asyncio.sleep(2.0)  # the warm-up's tail (relays, statistics) settles first
        self.stalled = 0
        since = await self.meter.conn.fetchval("SELECT now()")
        queries, spent = await self.meter.by_query(), await self.meter.exec_ms_by_query()
        kafka = await kafka_records(self.kafka) if self.kafka else (0, 0)
        (calls, gets), before = await self.calls(), await self.meter.snapshot(time.monotonic())
        started = time.monotonic()
        ids = await self.run(customers, rate)
        elapsed = time.monotonic() - started
        calls, gets = (now - then for now, then in zip(await self.calls(), (calls, gets), strict=True))
        await asyncio.sleep(3.0)  # backends report their commits to the statistics, consumers their positions
        after = await self.meter.snapshot(time.monotonic())
        records, deliveries = (now - then for now, then in zip(
            await kafka_records(self.kafka) if self.kafka else (0, 0), kafka, strict=True))
        queries = {q: c - queries.get(q, 0) for q, c in (await self.meter.by_query()).items()}
        spent = {q: ms - spent.get(q, 0.0) for q, ms in (await self.meter.exec_ms_by_query()).items()}
        await asyncio.sleep(idle)
        quiet = await self.meter.snapshot(time.monotonic())
        return {"run": delta(before, after), "idle": delta(after, quiet), "done": len(ids) - self.stalled,
                "stalled": self.stalled, "elapsed": elapsed,
                "calls": calls, "gets": gets, "records": records, "deliveries": deliveries,
                "queries": sorted(queries.items(), key=lambda qc: -qc[1])[:TOP_QUERIES],
                "query_ms": sorted(spent.items(), key=lambda qm: -qm[1])[:TOP_QUERIES // 2],
                **await self._read_model(ids, since)}

    async def _read_model(self, ids: list[str], since: Any) -> dict[str, Any]:
        conn = self.meter.conn
        spans = await conn.fetch(
            "SELECT extract(epoch FROM max(occurred_at) FILTER (WHERE type = 'MigrationCompleted') "
            "  - min(occurred_at) FILTER (WHERE type = 'MigrationRequested')) AS done, "
            "extract(epoch FROM min(occurred_at) FILTER (WHERE type = 'NumberEligible') "
            "  - min(occurred_at) FILTER (WHERE type = 'MigrationRequested')) AS eligible "
            "FROM gateway.timeline WHERE migration_id = ANY($1::uuid[]) GROUP BY migration_id", ids)
        schemas = [r["table_schema"] for r in await conn.fetch(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox'")]
        counted = [await conn.fetchrow(f"SELECT count(*) AS n, coalesce(sum(octet_length(payload)), 0) AS b "
                                       f"FROM {s}.outbox WHERE created_at >= $1", since) for s in schemas]
        events, size = sum(r["n"] for r in counted), sum(r["b"] for r in counted)
        return {"latencies": [float(r["done"]) for r in spans if r["done"] is not None],
                "eligible": [float(r["eligible"]) for r in spans if r["eligible"] is not None], "events": events,
                "payload_bytes": size / events if events else 0}
