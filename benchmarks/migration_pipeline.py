"""N migrations through the whole pipeline on real Kafka and PostgreSQL, against the sandbox at zero latency.

OBO requests are accepted at once and each code is entered as soon as the sandbox "delivers" it. Prints
migrations per second, end-to-end latency (request to completion, from the events' own timestamps), Kafka
events and Graph calls per migration, and the peak resident memory of each service.

    .venv/bin/python -m benchmarks.migration_pipeline --n 1000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import asyncpg
import httpx

from deploy.local import stack


def world(n: int) -> dict[str, Any]:
    """n customers, each with one number on another BSP's WABA and a destination WABA of ours."""
    businesses = [{"id": "100000000000009", "name": "Our BSP", "credit_line_id": "700000000000009"},
                  {"id": "100000000000005", "name": "Other BSP"}]
    wabas, numbers = [], []
    for i in range(n):
        customer = f"{110000000000000 + i}"
        businesses.append({"id": customer, "name": f"Customer {i}"})
        source = {"id": f"{210000000000000 + i}", "business_id": "100000000000005",
                  "on_behalf_of_business_id": customer}
        ours = {"id": f"{220000000000000 + i}", "business_id": "100000000000009", "on_behalf_of_business_id": customer,
                "primary_funding_id": None, "subscribed_apps": [{"id": stack.APP_ID, "name": "numport"}]}
        wabas += [source, ours]
        numbers.append({"id": f"{510000000000000 + i}", "waba_id": f"{210000000000000 + i}",
                        "display_phone_number": f"+49151{i:08d}"})
    return {"businesses": businesses, "wabas": wabas, "phone_numbers": numbers,
            "limits": {"auto_accept_obo": True, "code_requests_per_hour": 1000}}


def request(i: int) -> dict[str, Any]:
    return {"phone_number": f"+49151{i:08d}", "business_id": f"{110000000000000 + i}",
            "destination_waba_id": f"{220000000000000 + i}", "source_waba_id": f"{210000000000000 + i}",
            "flow": "programmatic", "source": "bsp_cloud_api", "admin_access_confirmed": True}


async def enter_codes(api: httpx.AsyncClient, local: stack.LocalStack, stop: asyncio.Event) -> None:
    """The customers: whoever is asked for a code types the one their phone shows."""
    while not stop.is_set():
        page = (await api.get("/v1/migrations", params={"state": "awaiting_code", "limit": 200})).json()
        typed = [(m["id"], local.world.codes.get(m["detail"].get("phone_number_id", ""))) for m in page["data"]]
        await asyncio.gather(*(api.post(f"/v1/migrations/{mid}/verification-code", json={"code": sms.value})
                               for mid, sms in typed if sms))
        await asyncio.sleep(0.05)


async def completed(pool: asyncpg.Pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM gateway.migrations WHERE state = 'completed'")


async def measure(local: stack.LocalStack, n: int) -> dict[str, Any]:
    pool = await asyncpg.create_pool(local.infra.database_url, min_size=1, max_size=2)
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=local.api_url, timeout=120,
                                 headers={"Authorization": f"Bearer {local.api_key}"}) as api:
        typing = asyncio.create_task(enter_codes(api, local, stop))
        started = time.monotonic()
        for chunk in range(0, n, 500):
            items = [request(i) for i in range(chunk, min(n, chunk + 500))]
            await api.post("/v1/migrations:batch", json={"items": items})
        while (done := await completed(pool)) < n:
            failed = await pool.fetchval("SELECT count(*) FROM gateway.migrations WHERE state IN ('failed', "
                                         "'ineligible', 'escalated')")
            if failed:
                raise RuntimeError(f"{failed} migrations did not complete; see the gateway read model")
            await asyncio.sleep(0.25)
        elapsed = time.monotonic() - started
        stop.set()
        await typing
    latencies = [r["seconds"] for r in await pool.fetch(
        "SELECT extract(epoch FROM max(occurred_at) FILTER (WHERE type = 'MigrationCompleted') "
        "- min(occurred_at) FILTER (WHERE type = 'MigrationRequested')) AS seconds "
        "FROM gateway.timeline GROUP BY migration_id")]
    events = sum([await pool.fetchval(f"SELECT count(*) FROM {schema}.outbox")
                  for schema in ("gateway", "precheck", "registration")])
    await pool.close()
    return {"done": done, "elapsed": elapsed, "latencies": sorted(float(x) for x in latencies), "events": events}


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="how many migrations (default 1000)")
    n = parser.parse_args().n
    print(f"setting up {n} customers in the sandbox and starting Kafka, PostgreSQL and the services…")
    with stack.running(world(n), gateway_port=0, sandbox_port=0, NUMPORT_LOG_LEVEL="WARNING",
                       NUMPORT_OBO_POLL_SECONDS="0.2", NUMPORT_SCHEDULER_TICK_SECONDS="0.05",
                       NUMPORT_DB_POOL_MAX="20") as local:
        figures = asyncio.run(measure(local, n))
        rss = {name: peak_rss_mib(p.process.pid) for name, p in local.services.items()}
        calls = len(local.world.calls)
    lat = figures["latencies"]
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(f"\nmigrations completed      {figures['done']} of {n} in {figures['elapsed']:.1f} s")
    print(f"throughput                {figures['done'] / figures['elapsed']:.1f} migrations/s")
    print(f"end-to-end latency        p50 {statistics.median(lat):.2f} s · p99 {p99:.2f} s · max {lat[-1]:.2f} s")
    print(f"Kafka events / migration  {figures['events'] / n:.1f}")
    print(f"Graph calls / migration   {calls / n:.1f}")
    print("peak RSS                  " + " · ".join(f"{k} {v:.0f} MiB" for k, v in rss.items()))


if __name__ == "__main__":
    main()
