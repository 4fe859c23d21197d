"""The migration pipeline's anchor: the same round trips a migration made in the run, with nothing around them.

Per migration it makes as many Graph calls (GETs and POSTs, raw httpx against the same sandbox), PostgreSQL
statements and commits (raw asyncpg, trivial statements) and Kafka records (raw aiokafka: produced once, read by as
many consumer groups as numport's deliveries per record) as the measured run did, from one process of its own,
with as many migrations in flight at once. What that costs in CPU (the process, PostgreSQL's server processes,
Kafka's JVM; the sandbox excluded, as in the run) is the floor of any design that keeps those round trips; numport's
figure over it is the overhead of everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import multiprocessing
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.meters import Meter, delta

TOPIC = "numport.bench.anchor"
SCHEMA = "bench_anchor"
PARTITIONS = 6  # as numport's busiest topics
IN_FLIGHT = 64  # migrations at once (the run had up to all of them in flight; its pools bound the real figure)


@dataclass(frozen=True)
class RoundTrips:
    """One migration's round trips, as the measured run made them on average (rounded to whole calls)."""

    graph_gets: int
    graph_posts: int
    statements: int
    commits: int
    records: int  # produced to Kafka
    readers: int  # consumer groups reading each record
    payload_bytes: int

    @classmethod
    def of_run(cls, per_migration: dict[str, float]) -> RoundTrips:
        records = max(1, round(per_migration["records"]))
        return cls(graph_gets=round(per_migration["graph_gets"]), graph_posts=round(per_migration["graph_posts"]),
                   statements=round(per_migration["statements"]), commits=round(per_migration["commits"]),
                   records=records, readers=max(1, round(per_migration["deliveries"] / records)),
                   payload_bytes=round(per_migration["payload_bytes"]))

    def alone(self) -> dict[str, RoundTrips]:
        """Each kind of round trip without the others, to see what each costs."""
        return {"Graph calls": dataclasses.replace(self, statements=0, commits=0, records=0, readers=0),
                "PostgreSQL statements": dataclasses.replace(self, graph_gets=0, graph_posts=0, records=0, readers=0),
                "Kafka records": dataclasses.replace(self, graph_gets=0, graph_posts=0, statements=0, commits=0)}

    def plan(self) -> list[str]:
        """One migration's calls in an even mix. Statements come as autocommit reads and as short write transactions
        (BEGIN, INSERT, COMMIT), so the statement and commit counts both match: reads + 3·writes = statements and
        reads + writes = commits."""
        writes = max(0, min(self.commits, (self.statements - self.commits) // 2))
        reads = max(0, self.commits - writes)
        kinds = {"get": self.graph_gets, "post": self.graph_posts, "read": reads, "write": writes,
                 "produce": self.records}
        total = sum(kinds.values()) or 1
        slots = sorted((i * total / count, kind) for kind, count in kinds.items() for i in range(count))
        return [kind for _, kind in slots]


def _serve(bootstrap: str, database_url: str, graph_url: str, trips: dict[str, int], n: int,
           signals: tuple[Any, Any, Any, Any]) -> None:
    asyncio.run(_run(bootstrap, database_url, graph_url, RoundTrips(**trips), n, *signals))


async def _run(bootstrap: str, database_url: str, graph_url: str, trips: RoundTrips, n: int,
               ready: Any, go: Any, done: Any, leave: Any) -> None:
    """Set up, wait for `go`, run, report the seconds on `done`, then wait for `leave` (the parent reads this
    process's CPU time while it is still alive) before cleaning up."""
    import asyncpg
    import httpx
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    from shared.locks import no_reset  # the anchor leaves no session state either (asyncpg's reset: 4 statements)

    pool = await asyncpg.create_pool(database_url, min_size=20, max_size=20, reset=no_reset)
    await pool.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}; DROP TABLE IF EXISTS {SCHEMA}.rows; "
                       f"CREATE TABLE {SCHEMA}.rows (id uuid PRIMARY KEY, migration int, payload jsonb); "
                       f"CREATE INDEX ON {SCHEMA}.rows (migration)")
    graph = httpx.AsyncClient(base_url=f"{graph_url}/v23.0", headers={"Authorization": "Bearer anchor"},
                              limits=httpx.Limits(max_connections=16, max_keepalive_connections=16))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    with contextlib.suppress(TopicAlreadyExistsError):
        await admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    readers = [AIOKafkaConsumer(TOPIC, bootstrap_servers=bootstrap, group_id=f"anchor-{i}-{uuid.uuid4()}",
                                auto_offset_reset="latest") for i in range(trips.readers)]
    for reader in readers:
        await reader.start()
        await reader.getmany(timeout_ms=1000)  # joined and positioned before anything is counted
    payload = json.dumps({"pad": "x" * max(0, trips.payload_bytes - 10)}).encode()
    wanted, got = n * trips.records, [0] * len(readers)

    async def read(i: int) -> None:
        while got[i] < wanted:
            polled = await readers[i].getmany(timeout_ms=2000)
            got[i] += sum(len(records) for records in polled.values())

    async def migration(m: int, gate: asyncio.Semaphore) -> None:
        async with gate:
            customer, waba = 110000000000000 + m, 220000000000000 + m
            for kind in trips.plan():
                if kind == "get":
                    (await graph.get(f"/{customer}", params={"fields": "id,verification_status"})).raise_for_status()
                elif kind == "post":
                    (await graph.post(f"/{waba}/subscribed_apps")).raise_for_status()
                elif kind == "read":
                    await pool.fetchval(f"SELECT count(*) FROM {SCHEMA}.rows WHERE migration = $1", m)
                elif kind == "write":
                    async with pool.acquire() as conn, conn.transaction():
                        await conn.execute(f"INSERT INTO {SCHEMA}.rows VALUES ($1, $2, $3)", uuid.uuid4(), m,
                                           payload.decode())
                else:
                    await producer.send_and_wait(TOPIC, payload, key=str(m).encode())

    ready.set()
    await asyncio.to_thread(go.wait)
    gate = asyncio.Semaphore(IN_FLIGHT)
    started = time.monotonic()
    reading = [asyncio.create_task(read(i)) for i in range(len(readers))]
    await asyncio.gather(*(migration(m, gate) for m in range(n)))
    await asyncio.wait_for(asyncio.gather(*reading), 60)
    done.put(time.monotonic() - started)
    await asyncio.to_thread(leave.wait, 60)
    for reader in readers:
        await reader.stop()
    await producer.stop()
    await graph.aclose()
    await pool.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
    await pool.close()


async def measure(bootstrap: str, database_url: str, graph_url: str, trips: RoundTrips, n: int,
                  others: dict[str, int]) -> dict[str, Any]:
    """Run the anchor in a process of its own; CPU-ms of it, PostgreSQL and `others` (Kafka's JVM), gross."""
    spawn = multiprocessing.get_context("spawn")
    ready, go, done, leave = spawn.Event(), spawn.Event(), spawn.Queue(), spawn.Event()
    process = spawn.Process(target=_serve, daemon=True,
                            args=(bootstrap, database_url, graph_url, asdict(trips), n, (ready, go, done, leave)))
    process.start()
    try:
        if not await asyncio.to_thread(ready.wait, 120):
            raise RuntimeError("the anchor process did not get ready")
        meter = await Meter.open(database_url, {"anchor": process.pid, **others})
        try:
            before = await meter.snapshot(time.monotonic())
            go.set()
            elapsed = await asyncio.to_thread(done.get, True, 600)
            await asyncio.sleep(3.0)  # backends report their commits to the statistics within a few seconds
            after = await meter.snapshot(time.monotonic())
        finally:
            leave.set()
            await meter.close()
        return {"run": delta(before, after), "elapsed": elapsed, "n": n}
    finally:
        process.join(30)
        if process.is_alive():
            process.kill()
