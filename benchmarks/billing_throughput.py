"""Billing at Kafka speed: status events preloaded on numport.meta.webhooks, consumed twice from the same topic.

(a) a raw aiokafka consume → produce pass-through, the anchor; (b) the billing service as a process, end to end,
until the ledger holds every message. Prints both rates, their ratio, the lag left at the end, the service's peak
RSS, and the ledger checked against totals computed independently. Asserts nothing.

    .venv/bin/python -m benchmarks.billing_throughput --events 1000000 [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from benchmarks.billing_traffic import Traffic, build
from benchmarks.migration_pipeline import peak_rss_mib
from deploy.local import infra, kafkaio
from deploy.local.processes import NUMPORT, ServiceProcess
from deploy.local.stack import services_env
from shared import topics
from shared.events import dump_event
from shared.service import BATCH_FETCH_BYTES

SINK = "numport.bench.sink"
POLL = 5000
PY_SPY = str(Path(sys.executable).with_name("py-spy"))  # from PyPI, into the same virtualenv


async def preload(bootstrap: str, traffic: Traffic) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=50, max_batch_size=1 << 20, acks=1)
    await producer.start()
    started = time.monotonic()
    try:
        for start in range(0, len(traffic.records), 20_000):
            await asyncio.gather(*[await producer.send(topics.META_WEBHOOKS.name, value, key=key)
                                   for key, value in traffic.records[start:start + 20_000]])
        for event in traffic.registered:
            await producer.send(topics.REGISTRATION_EVENTS.name, dump_event(event), key=event.phone_number.encode())
        await producer.flush()
    finally:
        await producer.stop()
    return time.monotonic() - started


async def pass_through(bootstrap: str, total: int) -> float:
    """The anchor: read every record and write it unchanged to another topic, nothing else. Records per second."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    with contextlib.suppress(Exception):
        await admin.create_topics([NewTopic(SINK, topics.META_WEBHOOKS.partitions, 1)])
    await admin.close()
    consumer = AIOKafkaConsumer(topics.META_WEBHOOKS.name, bootstrap_servers=bootstrap, group_id=f"raw-{uuid.uuid4()}",
                                auto_offset_reset="earliest", max_poll_records=POLL,
                                max_partition_fetch_bytes=BATCH_FETCH_BYTES)  # as numport's batch subscriptions
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=262144)
    await consumer.start()
    await producer.start()
    seen, started = 0, None
    try:
        while seen < total:
            polled = await consumer.getmany(timeout_ms=500, max_records=POLL)
            started = started or time.monotonic()
            records = [r for rs in polled.values() for r in rs]
            await asyncio.gather(*[await producer.send(SINK, r.value, key=r.key) for r in records])
            seen += len(records)
        return total / (time.monotonic() - started)
    finally:
        await consumer.stop()
        await producer.stop()


async def ledger_count(pool: asyncpg.Pool) -> int:
    """Billed messages so far, from the per-day totals (a few thousand rows, written in the same transaction as
    the messages): counting the messages table itself ten times a second took a third of PostgreSQL's time by the
    end of a million-event run, and the service under test waited for it."""
    with contextlib.suppress(asyncpg.UndefinedTableError):
        return await pool.fetchval("SELECT coalesce(sum(messages), 0) FROM billing.day_totals")
    return 0


async def run_billing(env: dict[str, str], traffic: Traffic, profile: str | None,
                      replicas: int = 1) -> dict[str, float]:
    pool = await asyncpg.create_pool(env["NUMPORT_DATABASE_URL"], min_size=1, max_size=2)
    launched = time.monotonic()
    services = [ServiceProcess("billing", env).start() for _ in range(replicas)]
    service = services[0]
    spy = None
    try:
        while not await ledger_count(pool):  # the clock starts at the first ledger row, after start-up and join
            await asyncio.sleep(0.02)
        first = time.monotonic()
        if profile:
            spy = subprocess.Popen([PY_SPY, "record", "--pid", str(service.process.pid), "--format", "raw",
                                    "--rate", "250", "--output", profile, "--nonblocking"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while (done := await ledger_count(pool)) < traffic.messages:
            await asyncio.sleep(0.1)
        finished = time.monotonic()
        done = await pool.fetchval("SELECT count(*) FROM billing.messages WHERE partner IS NOT NULL")
        pending = await pool.fetchval("SELECT count(*) FROM billing.outbox WHERE published_at IS NULL")
        while await pool.fetchval("SELECT count(*) FROM billing.outbox WHERE published_at IS NULL"):
            await asyncio.sleep(0.1)
        streamed = time.monotonic()
        rss = max(peak_rss_mib(s.process.pid) for s in services)
        mismatches = await check(pool, traffic)
    finally:
        if spy:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
            spy.wait(60)
        for each in services:
            each.terminate(60)
        await pool.close()
    return {"seconds": finished - first, "start_up": first - launched, "ledger_rows": done, "outbox_pending": pending,
            "stream_lag": streamed - finished, "rss": rss, "mismatches": mismatches}


async def check(pool: asyncpg.Pool, traffic: Traffic) -> int:
    rows = await pool.fetch("SELECT partner, day::text, pricing_category, messages, billable FROM billing.daily_totals")
    found = {(r[0], r[1], r[2]): [r[3], r[4]] for r in rows}
    return sum(found.get(key) != value for key, value in traffic.expected.items()) + len(set(found) - set(
        traffic.expected))


def main(events: int, profile: str | None, chart: str | None, replicas: int = 1) -> None:
    """Kafka and PostgreSQL start outside the event loop: their readiness checks run event loops of their own."""
    with contextlib.nullcontext(None) if os.environ.get("NUMPORT_KAFKA_BOOTSTRAP") else infra.running() as local:
        bootstrap = local.kafka_bootstrap if local else os.environ["NUMPORT_KAFKA_BOOTSTRAP"]
        database = local.database_url if local else os.environ["NUMPORT_DATABASE_URL"]
        traffic = asyncio.run(measure(bootstrap, database, events, profile, replicas))
        if chart:
            show(database, traffic, chart)


async def measure(bootstrap: str, database: str, events: int, profile: str | None, replicas: int) -> Traffic:
    began = time.monotonic()
    traffic = build(events)
    print(f"built {len(traffic.records):,} status records ({traffic.messages:,} billed messages, "
          f"{len(traffic.registered)} migrations) in {time.monotonic() - began:.1f}s")
    await kafkaio.reset(bootstrap)
    conn = await asyncpg.connect(database)
    await conn.execute("DROP SCHEMA IF EXISTS billing CASCADE")
    await conn.close()
    print(f"preloaded in {await preload(bootstrap, traffic):.1f}s")
    raw = await pass_through(bootstrap, len(traffic.records))
    env = services_env(bootstrap, database, "http://127.0.0.1:9", NUMPORT_BATCH_MAX_RECORDS="5000",
                       NUMPORT_RELAY_BATCH_SIZE="5000", NUMPORT_LOG_LEVEL="WARNING")
    result = await run_billing(env, traffic, profile, replicas)
    rate = len(traffic.records) / result["seconds"]
    print(f"raw aiokafka pass-through   {raw:,.0f} events/s")
    print(f"billing end to end          {rate:,.0f} events/s ({result['seconds']:.1f}s from the first ledger "
          f"row to the last; start-up and group join before it {result['start_up']:.1f}s)")
    print(f"ratio                       {rate / raw:.2f}")
    print(f"lag at the end              consumer 0 (ledger complete); {result['outbox_pending']:,.0f} "
          f"attributions still in the outbox, streamed {result['stream_lag']:.1f}s later")
    print(f"peak RSS of billing         {result['rss']:.0f} MiB")
    print(f"ledger check                {result['ledger_rows']:,} rows; {result['mismatches']} totals differ "
          f"from the {len(traffic.expected):,} expected")
    return traffic


def show(database: str, traffic: Traffic, chart: str) -> None:
    """The analysts' view of this run: one migrated number's chart, and its destination partner's report."""
    number = traffic.registered[0]
    env = {**os.environ, "NUMPORT_DATABASE_URL": database}
    subprocess.run([NUMPORT, "billing", "chart", "--phone", number.phone_number, "--out", chart], env=env, check=True)
    day = number.completed_at.date().isoformat()
    subprocess.run([NUMPORT, "billing", "report", "--partner", number.destination_partner, "--from", day, "--to",
                    day], env=env, check=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--profile", help="py-spy raw (collapsed) stacks of the billing service to this file")
    parser.add_argument("--chart", help="afterwards, draw one migrated number's chart to this PNG, print a report")
    parser.add_argument("--replicas", type=int, default=1, help="billing processes in one consumer group")
    args = parser.parse_args()
    main(args.events, args.profile, args.chart, args.replicas)
