"""The pieces of the chaos run: the partner and its customers, the orchestrator's restarts, and the tally.

Everything here survives the outages it causes: every call to numport is retried, every read of PostgreSQL
reconnects, so the run measures numport and not the harness.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from benchmarks.migration_pipeline import request
from deploy.local import kafkaio
from deploy.local.processes import ServiceProcess
from services.gateway.status import TERMINAL
from shared import topics
from shared.events import parse_event

if TYPE_CHECKING:
    from benchmarks.chaos import Report
    from deploy.local.infra import Infra
    from deploy.local.stack import LocalStack

RESEND_AFTER = 25.0  # seconds a customer waits for an SMS before asking for a new one


def requests(n: int) -> list[dict[str, Any]]:
    return [request(i) for i in range(n)]


@dataclass
class Progress:
    n: int
    finished: int = 0
    settled: bool = False
    states: dict[str, int] = field(default_factory=dict)


async def watch(database_url: str, progress: Progress, stall_seconds: float) -> None:
    """Until every migration is finished, or none finished for `stall_seconds` (the rest are stuck)."""
    last_change, last = time.monotonic(), -1
    while time.monotonic() - last_change < stall_seconds:
        # InternalClientError: a connection caught by the PostgreSQL restart mid-handshake
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError):
            conn = await asyncpg.connect(database_url, timeout=3)
            try:
                rows = await conn.fetch("SELECT state, count(*) AS n FROM gateway.migrations GROUP BY state")
            finally:
                await conn.close()
            progress.states = {r["state"]: r["n"] for r in rows}
            progress.finished = sum(n for s, n in progress.states.items() if s in TERMINAL)
            if progress.finished != last:
                last, last_change = progress.finished, time.monotonic()
            if progress.finished >= progress.n:
                break
        await asyncio.sleep(0.5)
    progress.settled = True


def kill(process: ServiceProcess) -> None:
    """SIGKILL at whatever instant this is (even while the process is still starting); `supervise` restarts it."""
    process.kill()
    process.start()


async def supervise(processes: list[ServiceProcess], progress: Progress) -> None:
    """Restart any service that died (one started while its database was away exits at once), like a pod's
    restart policy does."""
    while not progress.settled:
        for process in processes:
            if process.process is not None and process.process.poll() is not None:
                process.start()
        await asyncio.sleep(1)


def outage(infra: Infra, name: str, seconds: float) -> None:
    with infra.outage(name):
        time.sleep(seconds)


class Partner:
    """The partner submitting migrations and the customers typing the codes their phones receive."""

    def __init__(self, local: LocalStack) -> None:
        self.local = local
        self.http = httpx.AsyncClient(base_url=local.api_url, timeout=30,
                                      headers={"Authorization": f"Bearer {local.api_key}"})
        self.resends: Counter[str] = Counter()  # per phone-number id
        self.entered: dict[str, float] = {}
        self.waiting_since: dict[str, float] = {}

    async def __aenter__(self) -> Partner:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    @property
    def resends_total(self) -> int:
        return sum(self.resends.values())

    async def _post(self, path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            return await self.http.post(path, **kwargs)
        except httpx.HTTPError:  # the gateway is being restarted
            return None

    async def submit_all(self, items: list[dict[str, Any]], concurrency: int = 16) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def submit(item: dict[str, Any]) -> None:
            async with gate:
                key = f"chaos-{item['phone_number']}"
                while True:
                    answer = await self._post("/v1/migrations", json=item, headers={"Idempotency-Key": key})
                    if answer is not None and answer.status_code in (200, 202):
                        return
                    await asyncio.sleep(0.5)

        await asyncio.gather(*(submit(item) for item in items))

    async def play_customers(self, progress: Progress) -> None:
        while not progress.settled:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                await asyncio.gather(*(self._customer(m) for m in await self._awaiting_code()))
            await asyncio.sleep(0.3)

    async def _awaiting_code(self) -> list[dict[str, Any]]:
        found, cursor = [], None
        while True:
            page = (await self.http.get("/v1/migrations", params={"state": "awaiting_code", "limit": 200,
                                                                  **({"cursor": cursor} if cursor else {})})).json()
            found += page["data"]
            if not (cursor := page.get("next_cursor")):
                return found

    async def _customer(self, migration: dict[str, Any]) -> None:
        migration_id, number_id = migration["id"], migration["detail"].get("phone_number_id", "")
        now = time.monotonic()
        sms = self.local.world.codes.get(number_id)
        if sms is not None:
            if now - self.entered.get(migration_id, 0) > 5:
                self.entered[migration_id] = now
                await self._post(f"/v1/migrations/{migration_id}/verification-code", json={"code": sms.value})
            return
        since = self.waiting_since.setdefault(migration_id, now)
        if now - since > RESEND_AFTER:  # the code never came (a crash before Meta sent it): ask again
            self.waiting_since[migration_id] = now
            answer = await self._post(f"/v1/migrations/{migration_id}/verification-code:resend",
                                      json={"method": "SMS"})
            if answer is not None and answer.status_code == 202:
                self.resends[number_id] += 1


async def fill_report(local: LocalStack, report: Report, progress: Progress, resends: Counter[str]) -> None:
    from benchmarks.chaos import FAULTED

    conn = await asyncpg.connect(local.infra.database_url)
    try:
        rows = await conn.fetch("SELECT id, state, detail->>'reason_code' AS reason FROM gateway.migrations")
    finally:
        await conn.close()
    report.states = dict(Counter(r["state"] for r in rows))
    report.failed = dict(Counter(r["reason"] or r["state"] for r in rows if r["state"] in ("failed", "ineligible")))
    report.stuck = {str(r["id"]): r["state"] for r in rows if r["state"] not in TERMINAL}
    report.stuck.update({f"never accepted #{i}": "missing" for i in range(max(0, report.plan.n - len(rows)))})
    for operation in FAULTED:
        applied = local.world.applied_writes(operation)
        report.applied[operation] = sum(applied.values())
        allowed = Counter({target: 1 + (resends[target] if operation == "request_code" else 0) for target in applied})
        report.repeated.update({f"{operation} {t}": c for t, c in applied.items() if c > allowed[t]})
    report.faults_hit = sum(1 for r in local.world.requests if r.fault)
    report.registered = await registered_ids(local.infra.kafka_bootstrap)
    report.billed = await billed_changes(local.infra.database_url, set(report.registered))
    report.dead_letters = sum((await end_offsets(local.infra.kafka_bootstrap, [f"{t.name}.dlq" for t in topics.ALL]))
                              .values())


async def end_offsets(bootstrap: str, names: list[str]) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        described = await admin.describe_topics([t for t in names if t in existing]) if existing & set(names) else []
    finally:
        await admin.close()
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        return await consumer.end_offsets(partitions) if partitions else {}
    finally:
        await consumer.stop()


async def registered_ids(bootstrap: str) -> dict[str, int]:
    """Distinct `PhoneRegistered` event ids per migration, as every downstream consumer sees them."""
    name = topics.REGISTRATION_EVENTS.name
    total = sum((await end_offsets(bootstrap, [name])).values())
    assert total > 0, f"{name} is empty or missing"
    ids: dict[uuid.UUID, set[uuid.UUID]] = {}
    for event in (parse_event(r.value) for r in await kafkaio.read(bootstrap, name, lambda rs: len(rs) >= total)):
        if event.type == "PhoneRegistered":
            ids.setdefault(event.migration_id, set()).add(event.event_id)
    return {str(m): len(e) for m, e in ids.items()}


async def billed_changes(database_url: str, registered: set[str], timeout: float = 60) -> dict[str, int]:
    """Holder changes billing recorded per registered migration, once it has caught up (or the time is out)."""
    deadline = time.monotonic() + timeout
    conn = await asyncpg.connect(database_url)
    try:
        while True:
            rows = await conn.fetch("SELECT migration_id::text AS id, count(*) AS n FROM billing.holder_changes "
                                    "WHERE migration_id IS NOT NULL GROUP BY migration_id")
            billed = {r["id"]: r["n"] for r in rows}
            if registered <= set(billed) or time.monotonic() > deadline:
                return billed
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def print_report(r: Report) -> None:
    registered_once = sum(1 for c in r.registered.values() if c == 1)
    print(f"\nwall time                  {r.wall_seconds:.1f} s")
    print(f"migrations                 {r.completed} completed · {sum(r.failed.values())} failed · "
          f"{len(r.stuck)} stuck (of {r.plan.n})")
    if r.failed:
        print("failed, by reason          " + " · ".join(f"{k} {v}" for k, v in sorted(r.failed.items())))
    if r.stuck:
        print("stuck, by state            " + " · ".join(f"{k} {v}" for k, v in Counter(r.stuck.values()).items()))
    print(f"kills survived             {sum(r.kills.values())} (" + ", ".join(f"{k} {v}" for k, v in
                                                                         sorted(r.kills.items())) + ")")
    print(f"infrastructure restarts    {', '.join(r.restarts) or 'none'}")
    print(f"faults injected by Meta    {r.faults_hit} writes slowed or their answers lost")
    print("writes Meta applied        " + " · ".join(f"{k} {v}" for k, v in r.applied.items()))
    print(f"writes applied twice       {len(r.repeated)}" + (f": {sorted(r.repeated)[:10]}" if r.repeated else ""))
    print(f"customer code re-requests  {r.resends}")
    print(f"PhoneRegistered            {registered_once} migrations with exactly one id, "
          f"{len(r.registered) - registered_once} with more")
    billed_once = sum(1 for m in r.registered if r.billed.get(m) == 1)
    print(f"billing holder changes     {billed_once} migrations recorded exactly once, "
          f"{len(r.registered) - billed_once} missing or repeated")
    print(f"dead letters               {r.dead_letters}")
