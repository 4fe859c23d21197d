"""What the whole stack costs while nothing happens: CPU-ms per second of every process (Kafka's JVM per thread
group), PostgreSQL statements and commits per second and the statements behind them, after a few migrations.

    .venv/bin/python -m benchmarks.idle_stack --seconds 20            # the stack as the benchmark runs it
    .venv/bin/python -m benchmarks.idle_stack --seconds 20 --bare     # Kafka and PostgreSQL with no client at all
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import time
from typing import Any

from benchmarks import migration_pipeline as pipeline
from benchmarks import pipeline_run
from benchmarks.meters import TICK_MS, Meter, delta
from benchmarks.sandbox_process import SandboxProcess
from deploy.local import infra, kafkaio, stack
from deploy.local.ports import free_port
from services.gateway.partners import create_partners_at


def thread_cpu_ms(pid: int) -> dict[str, float]:
    """CPU-ms per thread name (digits folded, so a pool of threads is one line)."""
    found: dict[str, float] = collections.Counter()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as stat:
                head, tail = stat.read().rsplit(")", 1)
        except FileNotFoundError:
            continue
        fields = tail.split()
        found[re.sub(r"\d+", "#", head.split("(", 1)[1])] += (int(fields[11]) + int(fields[12])) * TICK_MS
    return found


async def quiet(local: infra.Infra, pids: dict[str, int], seconds: float, settle: float) -> dict[str, Any]:
    meter = await Meter.open(local.database_url, pids)
    kafka = pids.get("kafka")
    try:
        await asyncio.sleep(settle)
        queries, threads = await meter.by_query(), thread_cpu_ms(kafka) if kafka else {}
        before = await meter.snapshot(time.monotonic())
        await asyncio.sleep(seconds)
        after = await meter.snapshot(time.monotonic())
        queries = {q: c - queries.get(q, 0) for q, c in (await meter.by_query()).items()}
        threads = {t: c - threads.get(t, 0) for t, c in (thread_cpu_ms(kafka) if kafka else {}).items()}
    finally:
        await meter.close()
    return {"idle": delta(before, after), "queries": queries, "threads": threads}


async def with_traffic(local: infra.Infra, sandbox: str, api_url: str, pids: dict[str, int], n: int,
                       seconds: float, settle: float) -> dict[str, Any]:
    """`n` migrations first, so every pool, cache and group is in its steady state, then the quiet window."""
    api_key = (await create_partners_at(local.database_url, "idle-partner", add_key=True))[0]
    meter = await Meter.open(local.database_url, pids)
    driver = pipeline_run.Driver(api_url, api_key, sandbox, meter, pipeline.request)
    try:
        await driver.run(range(n))
    finally:
        await driver.close()
        await meter.close()
    return await quiet(local, pids, seconds, settle)


def report(figures: dict[str, Any]) -> str:
    idle = figures["idle"]
    per_s = idle["seconds"]
    lines = [f"quiet window {per_s:.1f} s, per second:"]
    cpu = {k[4:]: v / per_s for k, v in idle.items() if k.startswith("cpu:")}
    lines += [f"  CPU ms  {name:<16}{ms:8.2f}" for name, ms in sorted(cpu.items())]
    lines.append(f"  CPU ms  {'total':<16}{sum(cpu.values()):8.2f}")
    statements = idle["statements"]
    lines.append(f"  statements {statements / per_s if statements is not None else float('nan'):8.2f}"
                 f"   commits {idle['commits'] / per_s:8.2f}")
    top = sorted(figures["queries"].items(), key=lambda qc: -qc[1])[:15]
    lines += [f"{calls / per_s:8.2f}  {' '.join(q.split())[:110]}" for q, calls in top if calls]
    busiest = sorted(figures["threads"].items(), key=lambda tc: -tc[1])[:12]
    lines += ["Kafka threads, CPU ms/s:"] + [f"{ms / per_s:8.2f}  {name}" for name, ms in busiest if ms]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the quiet window")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the last migration, before it")
    parser.add_argument("--n", type=int, default=5, help="migrations before the quiet window")
    parser.add_argument("--bare", action="store_true", help="no services: the infrastructure's own floor")
    args = parser.parse_args()
    with infra.running() as local:
        pipeline.count_statements(local)
        asyncio.run(kafkaio.reset(local.kafka_bootstrap))
        pids = {"kafka": local.servers["kafka"].process.pid} if "kafka" in local.servers else {}
        if args.bare:
            print(report(asyncio.run(quiet(local, pids, args.seconds, args.settle))))
            return
        port = free_port()
        hooks = f"http://127.0.0.1:{port}/webhooks/meta"
        with SandboxProcess(pipeline.world(args.n), hooks, stack.APP_SECRET) as sandbox, \
                pipeline.services_on(local, sandbox.url, port, {}) as services:
            pids |= {name: p.process.pid for name, p in services.items() if p.process is not None}
            figures = asyncio.run(with_traffic(local, sandbox.url, f"http://127.0.0.1:{port}", pids, args.n,
                                               args.seconds, args.settle))
    print(report(figures))


if __name__ == "__main__":
    main()
