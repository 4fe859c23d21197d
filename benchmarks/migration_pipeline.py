"""N migrations through the whole pipeline on real Kafka and PostgreSQL, against the sandbox at zero latency.

OBO requests are accepted at once and each code is entered as soon as the sandbox "delivers" it. After a warm-up
(every process and the broker have handled a few migrations), it prints per migration the CPU time of every
process (each service, PostgreSQL's server processes, Kafka's JVM), PostgreSQL statements (pg_stat_statements)
and commits, Kafka events and Graph calls; then the same counters per second over a quiet window. CPU and
statement counts hold under other load on the machine; throughput and latencies are wall-clock and do not.

    .venv/bin/python -m benchmarks.migration_pipeline --n 1000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks import pipeline_anchor, pipeline_run
from benchmarks.meters import Meter
from benchmarks.sandbox_process import SandboxProcess
from deploy.local import infra, kafkaio, stack
from deploy.local.ports import free_port
from deploy.local.processes import ServiceProcess
from services.gateway.partners import create_partners_at

SANDBOX = "sandbox"  # Meta's stand-in: shown, because it shares the cores, but not numport's cost
SETTINGS = {"NUMPORT_LOG_LEVEL": "WARNING", "NUMPORT_OBO_POLL_SECONDS": "0.2",
            "NUMPORT_SCHEDULER_TICK_SECONDS": "0.05", "NUMPORT_DB_POOL_MAX": "20"}


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


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def count_statements(local: infra.Infra) -> None:
    """Load pg_stat_statements into a local PostgreSQL (one restart); elsewhere statements are not counted."""
    server = local.servers.get("postgres")
    if server is None:
        return

    async def configure(then: str) -> None:
        conn = await asyncpg.connect(local.database_url)
        try:
            await conn.execute(then)
        finally:
            await conn.close()

    asyncio.run(configure("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"))
    server.halt()
    server.resume()
    asyncio.run(configure("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))


@contextlib.contextmanager
def services_on(local: infra.Infra, sandbox_url: str, gateway_port: int,
                replicas: dict[str, int]) -> Iterator[dict[str, ServiceProcess]]:
    """Every service of the local stack; `replicas`: more than one process of some (named `<service>#2`, …)."""
    env = stack.services_env(local.kafka_bootstrap, local.database_url, sandbox_url, **SETTINGS)
    started: dict[str, ServiceProcess] = {}
    try:
        for name in stack.SERVICES:
            if "registration" in started:
                env["NUMPORT_REGISTRATION_URL"] = f"http://127.0.0.1:{started['registration'].port}"
            port = gateway_port if name == "gateway" else None
            started[name] = ServiceProcess(name, env, port).start()
            for extra in range(2, replicas.get(name, 1) + 1):
                started[f"{name}#{extra}"] = ServiceProcess(name, env).start()
        for process in started.values():
            process.wait_ready(60.0)
        yield started
    finally:
        for process in started.values():
            process.terminate()


async def measure(local: infra.Infra, services: dict[str, ServiceProcess], sandbox: str, sandbox_pid: int,
                  api_url: str, n: int, warmup: int, idle: float, rate: float | None = None) -> dict[str, Any]:
    api_key = (await create_partners_at(local.database_url, "bench-partner", add_key=True))[0]
    pids = {name: p.process.pid for name, p in services.items() if p.process is not None}
    if "kafka" in local.servers:
        pids["kafka"] = local.servers["kafka"].process.pid
    pids[SANDBOX] = sandbox_pid
    meter = await Meter.open(local.database_url, pids)
    driver = pipeline_run.Driver(api_url, api_key, sandbox, meter, request, local.kafka_bootstrap)
    try:
        await driver.run(range(n, n + warmup))  # every process and the broker warm, then measure
        figures = await driver.measured(range(n), idle, rate)
    finally:
        await driver.close()
        await meter.close()
    figures["rss"] = {name: peak_rss_mib(pid) for name, pid in pids.items()}
    figures["rate"] = rate
    if figures["done"]:
        trips = pipeline_anchor.RoundTrips.of_run(per_migration_trips(figures))
        kafka = {"kafka": pids["kafka"]} if "kafka" in pids else {}
        figures["anchor"] = {"trips": dataclasses.asdict(trips), **await pipeline_anchor.measure(
            local.kafka_bootstrap, local.database_url, sandbox, trips, figures["done"], kafka)}
        figures["anchor_parts"] = {part: await pipeline_anchor.measure(
            local.kafka_bootstrap, local.database_url, sandbox, alone, figures["done"], kafka)
            for part, alone in trips.alone().items()}
    return figures


def per_migration_trips(f: dict[str, Any]) -> dict[str, float]:
    """The run's round trips per migration, net of what the idle stack made over as long."""
    run, quiet, n = f["run"], f["idle"], f["done"]

    def net(key: str) -> float:
        return (run[key] - quiet[key] / quiet["seconds"] * run["seconds"]) / n if run[key] is not None else 0.0

    return {"graph_gets": f["gets"] / n, "graph_posts": (f["calls"] - f["gets"]) / n, "statements": net("statements"),
            "commits": net("commits"), "records": f["records"] / n, "deliveries": f["deliveries"] / n,
            "payload_bytes": f["payload_bytes"]}


def anchor_table(f: dict[str, Any]) -> str:
    """The anchor's CPU per migration beside numport's, net of the idle stack as in the main table."""
    a, quiet, n = f["anchor"], f["idle"], f["done"]
    t = a["trips"]

    def net(key: str, figures: dict[str, Any]) -> float:
        run = figures["run"]
        idle = quiet.get(key, 0.0) / quiet["seconds"] if key in quiet and key != "cpu:anchor" else 0.0
        return (run[key] - idle * run["seconds"]) / n

    services = [k for k in f["run"] if k.startswith("cpu:") and k not in (f"cpu:{SANDBOX}", "cpu:kafka",
                                                                           "cpu:postgresql")]
    ours = {"client side": sum(net(k, f) for k in services), "PostgreSQL": net("cpu:postgresql", f),
            "Kafka": net("cpu:kafka", f) if "cpu:kafka" in f["run"] else 0.0}
    floor = {"client side": net("cpu:anchor", a), "PostgreSQL": net("cpu:postgresql", a),
             "Kafka": net("cpu:kafka", a) if "cpu:kafka" in a["run"] else 0.0}
    lines = [f"\nanchor: the same round trips with raw httpx, asyncpg and aiokafka, nothing else "
             f"({a['elapsed']:.1f} s)",
             f"  per migration: {t['graph_gets']} Graph GETs + {t['graph_posts']} POSTs · {t['statements']} "
             f"statements, {t['commits']} commits · {t['records']} Kafka records of {t['payload_bytes']} B, "
             f"each read by {t['readers']} groups",
             f"{'CPU ms per migration (net)':<30}{'numport':>10}{'anchor':>10}{'ratio':>10}"]
    for part in [*ours, "total"]:
        mine = sum(ours.values()) if part == "total" else ours[part]
        base = sum(floor.values()) if part == "total" else floor[part]
        lines.append(f"{part:<30}{mine:>10.2f}{base:>10.2f}{mine / base if base > 0 else float('nan'):>10.2f}")
    lines.append("the anchor's round trips of one kind alone, CPU ms per migration (net): client · PostgreSQL · Kafka")
    for part, alone in f.get("anchor_parts", {}).items():
        figures = [net(k, alone) if k in alone["run"] else 0.0 for k in ("cpu:anchor", "cpu:postgresql", "cpu:kafka")]
        lines.append(f"  {part:<28}" + "".join(f"{x:>10.2f}" for x in figures) + f"{sum(figures):>10.2f}")
    return "\n".join(lines)


def table(requested: int, f: dict[str, Any]) -> str:
    """Per migration gross (everything the run cost) and net (less what the idle stack costs over as long)."""
    run, quiet, n = f["run"], f["idle"], f["done"]

    def row(label: str, key: str | list[str], digits: int) -> str:
        keys = [key] if isinstance(key, str) else key
        if any(run[k] is None or quiet[k] is None for k in keys):
            return f"{label:<30}{'n/a':>10}"
        spent, idle = sum(run[k] for k in keys), sum(quiet[k] for k in keys) / quiet["seconds"]
        net = (spent - idle * run["seconds"]) / n
        return f"{label:<30}{spent / n:>10.{digits}f}{net:>10.{digits}f}{idle:>10.{digits}f}"

    cpu = sorted(k for k in run if k.startswith("cpu:") and k != f"cpu:{SANDBOX}")
    lines = [f"\n{f'per migration (n = {n})':<30}{'gross':>10}{'net':>10}{'idle /s':>10}"]
    lines += [row(f"CPU ms  {k[4:]}", k, 2) for k in cpu] + [row("CPU ms  total", cpu, 2)]
    lines += [row("CPU ms  (sandbox, not in total)", f"cpu:{SANDBOX}", 2)]
    lines += [row("PostgreSQL statements", "statements", 1), row("PostgreSQL commits", "commits", 1),
              f"{'Kafka events':<30}{f['events'] / n:>10.1f}",
              f"{'Graph calls':<30}{f['calls'] / n:>10.1f}",
              f"{'Kafka records / deliveries':<30}{f['records'] / n:>10.1f}{f['deliveries'] / n:>10.1f}",
              f"idle window {quiet['seconds']:.1f} s; net = gross less the idle rate over the run's "
              f"{run['seconds']:.1f} s",
              "wall clock (depends on other load on the machine):",
              f"  completed {n} of {requested} in {f['elapsed']:.1f} s · {n / f['elapsed']:.1f} migrations/s"
              + (f" · requested {f['rate']:g}/s" if f.get("rate") else " · requested all at once")
              + (f" · {f['stalled']} stalled (not counted)" if f["stalled"] else ""),
              f"  request -> completed      {pipeline_run.quantiles(f['latencies'])}",
              f"  request -> NumberEligible {pipeline_run.quantiles(f['eligible'])}",
              "peak RSS  " + " · ".join(f"{k} {v:.0f} MiB" for k, v in f["rss"].items()),
              "statements run most often (per migration):"]
    lines += [f"{calls / n:>8.1f}  {' '.join(query.split())[:110]}" for query, calls in f.get("queries", [])]
    lines += ["statements taking PostgreSQL's execution time (ms per migration):"]
    lines += [f"{ms / n:>8.2f}  {' '.join(query.split())[:110]}" for query, ms in f.get("query_ms", [])]
    return "\n".join(lines)


def replicas(spec: str) -> dict[str, int]:
    return {name: int(count) for name, count in (part.split("=") for part in spec.split(",") if part)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="how many migrations (default 1000)")
    parser.add_argument("--warmup", type=int, default=20, help="migrations before measuring (default 20)")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of the quiet window (default 20)")
    parser.add_argument("--rate", type=float, help="request this many migrations a second instead of all at once "
                                                   "(latency below saturation; a steadier load to profile)")
    parser.add_argument("--replicas", default="", help="e.g. registration=2,precheck=2 (default: one of each)")
    parser.add_argument("--save", type=Path, help="also write the raw figures here (JSON), to compare runs later")
    args = parser.parse_args()
    print(f"starting Kafka, PostgreSQL, the sandbox ({args.n + args.warmup} customers) and the services…")
    with infra.running() as local:
        count_statements(local)
        asyncio.run(kafkaio.reset(local.kafka_bootstrap))
        gateway_port = free_port()
        hooks = f"http://127.0.0.1:{gateway_port}/webhooks/meta"
        with SandboxProcess(world(args.n + args.warmup), hooks, stack.APP_SECRET) as sandbox, \
                services_on(local, sandbox.url, gateway_port, replicas(args.replicas)) as services:
            figures = asyncio.run(measure(local, services, sandbox.url, sandbox.process.pid,
                                          f"http://127.0.0.1:{gateway_port}",
                                          args.n, args.warmup, args.idle, args.rate))
    print(table(args.n, figures))
    if "anchor" in figures:
        print(anchor_table(figures))
    if args.save:
        args.save.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
