"""Counters that other work on the machine does not distort: CPU time per process from /proc, PostgreSQL's own
statement and commit counts. Wall-clock figures (throughput, latency) still depend on what else runs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import asyncpg

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int, with_reaped_children: bool = False) -> float:
    """utime + stime of a process (all its threads); optionally plus the children it has waited for."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if with_reaped_children else 0)
    return ticks * TICK_MS


def children_of(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == parent:
                        found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def postgres_cpu_ms(postmaster: int, exclude: set[int]) -> float:
    """The postmaster, its exited backends (reaped) and its live ones, less the harness's own backend."""
    live = [pid for pid in children_of(postmaster) if pid not in exclude]
    return cpu_ms(postmaster, with_reaped_children=True) + sum(cpu_ms(pid) for pid in live)


@dataclass
class Snapshot:
    cpu: dict[str, float]
    statements: int | None
    commits: int
    at: float


@dataclass
class Meter:
    """Reads the counters through its own connection, whose statements and commits it subtracts."""

    conn: asyncpg.Connection
    processes: dict[str, int]  # name -> pid (services, Kafka's JVM)
    postmaster: int
    statements_available: bool
    own_backend: int = 0
    own: dict[str, int] = field(default_factory=lambda: {"statements": 0, "commits": 0})

    @classmethod
    async def open(cls, url: str, processes: dict[str, int]) -> Meter:
        conn = await asyncpg.connect(url, server_settings={"application_name": "numport-benchmark"})
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        postmaster = _parent_of(backend)
        available = bool(await conn.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'"))
        return cls(conn, processes, postmaster, available, backend)

    async def fetchval(self, sql: str) -> object:
        """A query of the harness: counted, so the figures leave it out."""
        self.own["statements"] += 1
        self.own["commits"] += 1
        return await self.conn.fetchval(sql)

    async def snapshot(self, at: float) -> Snapshot:
        cpu = {name: cpu_ms(pid, with_reaped_children=True) for name, pid in self.processes.items()}
        cpu["postgresql"] = postgres_cpu_ms(self.postmaster, {self.own_backend})
        statements = None
        if self.statements_available:
            statements = int(await self.fetchval("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"))
        commits = int(await self.fetchval("SELECT sum(xact_commit) FROM pg_stat_database"))
        own = self.own
        return Snapshot(cpu, None if statements is None else statements - own["statements"],
                        commits - own["commits"], at)

    async def by_query(self) -> dict[str, int]:
        """Calls per statement text so far (pg_stat_statements), to see which ones a run repeats most."""
        if not self.statements_available:
            return {}
        self.own["statements"] += 1
        self.own["commits"] += 1
        rows = await self.conn.fetch("SELECT query, sum(calls)::bigint AS calls FROM pg_stat_statements GROUP BY 1")
        return {r["query"]: r["calls"] for r in rows}

    async def exec_ms_by_query(self) -> dict[str, float]:
        """Execution milliseconds per statement text so far: where PostgreSQL's own time goes (planning, parsing
        and the wire not included)."""
        if not self.statements_available:
            return {}
        self.own["statements"] += 1
        self.own["commits"] += 1
        rows = await self.conn.fetch("SELECT query, sum(total_exec_time) AS ms FROM pg_stat_statements GROUP BY 1")
        return {r["query"]: float(r["ms"]) for r in rows}

    async def close(self) -> None:
        await self.conn.close()


def _parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def delta(before: Snapshot, after: Snapshot) -> dict[str, float | None]:
    """What happened between two snapshots: CPU-ms per process, statements, commits, seconds."""
    found: dict[str, float | None] = {f"cpu:{k}": after.cpu[k] - before.cpu[k] for k in after.cpu}
    found["statements"] = None if after.statements is None or before.statements is None \
        else after.statements - before.statements
    found["commits"] = after.commits - before.commits
    found["seconds"] = after.at - before.at
    return found


async def kafka_records(bootstrap: str) -> tuple[int, int]:
    """Records written to numport's topics so far (their end offsets) and records its consumer groups have read
    (their committed offsets): the difference of two readings is what a run produced and delivered."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await consumer.start()
    await admin.start()
    try:
        names = [t for t in await consumer.topics() if t.startswith("numport.") and not t.startswith("numport.bench")]
        partitions = [TopicPartition(t["topic"], p["partition"]) for t in await admin.describe_topics(names)
                      for p in t["partitions"]]
        written = sum((await consumer.end_offsets(partitions)).values())
        read = 0
        for group, _ in await admin.list_consumer_groups():
            offsets = await admin.list_consumer_group_offsets(group)
            read += sum(o.offset for tp, o in offsets.items() if tp.topic in names and o.offset >= 0)
        return written, read
    finally:
        await admin.close()
        await consumer.stop()
