"""Chaos: N migrations through the partner API while numport's services are SIGKILLed at random instants, Kafka
and PostgreSQL restart once each, and the sandbox applies a share of writes late or loses their answers.

Prints migrations completed / failed (with reasons) / stuck, every Graph write Meta applied more than once,
distinct `PhoneRegistered` ids per migration, dead letters, kills survived and wall time. Asserts nothing; the
100-migration version in `tests/integration/test_chaos.py` asserts.

    .venv/bin/python -m benchmarks.chaos --n 1000 --kills 50
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from benchmarks import chaos_parts as parts
from benchmarks.migration_pipeline import world
from deploy.local import stack
from deploy.local.infra import Infra

FAULTED = ("obo_request", "add_number", "request_code", "verify_code", "register", "credit_line", "subscribe")


@dataclass
class Plan:
    n: int = 1000
    kills: int = 50
    kill_every: tuple[float, float] = (0.5, 3.0)  # seconds between kills, drawn uniformly
    infra_restarts: bool = True
    fault_share: float = 0.05  # of each write operation's calls, for each of slow_apply and lost_answer
    slow_apply_seconds: float = 2.0
    stall_seconds: float = 120.0  # no migration finished for this long at the end: the rest are stuck
    seed: int = 20261124


@dataclass
class Report:
    plan: Plan
    states: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    stuck: dict[str, str] = field(default_factory=dict)
    repeated: dict[str, int] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)
    registered: dict[str, int] = field(default_factory=dict)
    billed: dict[str, int] = field(default_factory=dict)  # holder changes billing recorded, per migration
    dead_letters: int = 0
    kills: dict[str, int] = field(default_factory=dict)
    restarts: list[str] = field(default_factory=list)
    resends: int = 0
    faults_hit: int = 0
    wall_seconds: float = 0.0

    @property
    def completed(self) -> int:
        return self.states.get("completed", 0)


def arm_faults(local: stack.LocalStack, plan: Plan) -> None:
    """Meta acting late (the write lands seconds after it was received) or its answer getting lost."""
    entries = [{"operation": op, "mode": mode, "rate": plan.fault_share, **extra}
               for op in FAULTED for mode, extra in (("slow_apply", {"seconds": plan.slow_apply_seconds}),
                                                     ("lost_answer", {}))]
    local.faults.configure(writes=entries)


async def chaos(local: stack.LocalStack, plan: Plan, progress: parts.Progress, report: Report) -> None:
    """Kill a random service at random instants, restart it as an orchestrator would; restart Kafka once a
    third of the migrations finished and PostgreSQL once half did."""
    rng = random.Random(plan.seed)
    outages = ["kafka", "postgres"] if plan.infra_restarts else []
    weights = {"registration": 3, "precheck": 1, "templates": 1, "billing": 1, "gateway": 1}
    done_kills = 0
    while not progress.settled and (done_kills < plan.kills or outages):
        await asyncio.sleep(rng.uniform(*plan.kill_every))
        if outages and progress.finished >= plan.n * (1 if outages[0] == "kafka" else 2) / 3:
            name = outages.pop(0)
            await asyncio.to_thread(parts.outage, local.infra, name, 3.0)
            report.restarts.append(name)
            continue
        if done_kills < plan.kills:
            service = rng.choices(list(weights), list(weights.values()))[0]
            parts.kill(local.services[service])
            report.kills[service] = report.kills.get(service, 0) + 1
            done_kills += 1


async def run(local: stack.LocalStack, plan: Plan) -> Report:
    report, progress = Report(plan), parts.Progress(plan.n)
    arm_faults(local, plan)
    started = time.monotonic()
    async with parts.Partner(local) as partner:
        customers = asyncio.create_task(partner.play_customers(progress))
        submitting = asyncio.create_task(partner.submit_all(parts.requests(plan.n)))
        chaos_task = asyncio.create_task(chaos(local, plan, progress, report))
        supervisor = asyncio.create_task(parts.supervise(list(local.services.values()), progress))
        await parts.watch(local.infra.database_url, progress, plan.stall_seconds)
        report.wall_seconds = time.monotonic() - started
        for task in (customers, submitting, chaos_task, supervisor):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        report.resends = partner.resends_total
    local.faults.configure(writes=[])
    await parts.fill_report(local, report, progress, partner.resends)
    return report


@contextlib.contextmanager
def running(n: int, on: Infra | None = None, **settings: str) -> Iterator[stack.LocalStack]:
    """The stack the chaos runs on: short Graph timeouts so an unanswered write settles within seconds."""
    with stack.running(world(n), gateway_port=0, sandbox_port=0, on=on, NUMPORT_LOG_LEVEL="WARNING",
                       NUMPORT_OBO_POLL_SECONDS="0.3", NUMPORT_SCHEDULER_TICK_SECONDS="0.1",
                       NUMPORT_GRAPH_TIMEOUT_SECONDS="3", NUMPORT_GRAPH_SETTLE_MARGIN_SECONDS="1",
                       NUMPORT_DB_POOL_MAX="20", **settings) as local:
        yield local


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="migrations (default 1000)")
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs of random services (default 50)")
    parser.add_argument("--no-infra-restarts", action="store_true", help="skip the Kafka and PostgreSQL restarts")
    parser.add_argument("--fault-share", type=float, default=0.05, help="share of writes slowed, and lost")
    args = parser.parse_args()
    plan = Plan(n=args.n, kills=args.kills, infra_restarts=not args.no_infra_restarts, fault_share=args.fault_share)
    print(f"chaos: {plan.n} migrations, {plan.kills} kills, infra restarts: {plan.infra_restarts}, "
          f"{plan.fault_share:.0%} of writes slow and {plan.fault_share:.0%} with lost answers …", flush=True)
    with running(plan.n) as local:
        report = asyncio.run(run(local, plan))
    parts.print_report(report)


if __name__ == "__main__":
    main()
