"""A partition that keeps failing on one offset fails /readyz and shows in /metrics, paced, until it moves on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

import httpx
from aiokafka import AIOKafkaProducer

from deploy.local.ports import free_port
from shared import topics
from shared.consumer import Subscription, Unit
from shared.events import MigrationRequested, dump_event
from shared.service import ServiceSpec, Wired, running
from shared.settings import ServiceSettings
from tests.factories import migration_requested

STUCK_TOPIC = topics.Topic("test.stuck", "stuck test input", (MigrationRequested,), ("tests",), ("testsvc",))
STUCK_SECONDS = 2.0
FAILURE_LOGS = ("handler failed, retrying", "record left unacknowledged, read again after a pause")


def failing_spec(broken: dict[str, bool], calls: list[float]) -> ServiceSpec:
    async def on_event(event: MigrationRequested, unit: Unit) -> None:
        calls.append(time.monotonic())
        if broken["database"]:
            raise ConnectionRefusedError("the database does not answer (test)")
        async with unit.transaction() as tx:
            await tx.conn.execute("CREATE TABLE IF NOT EXISTS done (migration_id uuid PRIMARY KEY)")
            await tx.conn.execute("INSERT INTO done VALUES ($1)", event.migration_id)

    @contextlib.asynccontextmanager
    async def wire(runtime):
        yield Wired({"stuck": on_event})

    return ServiceSpec("testsvc", "stuck test", (Subscription("stuck", STUCK_TOPIC, (MigrationRequested,),
                                                              "fails while the test says so"),), wire)


async def wait_for(probe, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (answer := await probe()):
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)
    return answer


async def test_a_partition_failing_on_one_offset_is_not_ready_until_it_moves_on(clean, db, caplog):
    caplog.set_level(logging.WARNING, logger="numport.consumer")
    event = migration_requested()
    producer = AIOKafkaProducer(bootstrap_servers=clean.kafka_bootstrap)
    await producer.start()
    placed = await producer.send_and_wait(STUCK_TOPIC.name, dump_event(event), key=event.phone_number.encode())
    await producer.stop()
    broken, calls = {"database": True}, []
    settings = ServiceSettings(kafka_bootstrap=clean.kafka_bootstrap, database_url=clean.database_url,
                               consumer_group_prefix=f"t{uuid.uuid4().hex[:8]}", consumer_backoff_seconds=0.05,
                               consumer_max_attempts=2, consumer_stuck_seconds=STUCK_SECONDS, http_port=free_port())
    gauge = (f'numport_consumer_stuck{{partition="{placed.partition}",service="testsvc",topic="{STUCK_TOPIC.name}"}}')
    async with running(failing_spec(broken, calls), settings), \
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}") as http:
        async def readyz(status: int):
            answer = await http.get("/readyz")
            return answer if answer.status_code == status else None

        async def called() -> bool:
            return bool(calls)

        await wait_for(called, 30, "the handler was never called")
        assert await readyz(200), "one failure is not yet stuck"
        stuck = await wait_for(lambda: readyz(503), 30, "/readyz never reported the stuck partition")
        assert time.monotonic() - calls[0] >= STUCK_SECONDS
        [where] = stuck.json()["stuck"]
        assert (where["topic"], where["partition"], where["offset"]) == (STUCK_TOPIC.name, placed.partition,
                                                                          placed.offset)
        assert stuck.json()["checks"] == {"database": True, "kafka": True}
        assert f"{gauge} 1.0" in (await http.get("/metrics")).text
        assert len(calls) < 30, f"{len(calls)} attempts in {STUCK_SECONDS}s: retries are not paced"

        broken["database"] = False
        await wait_for(lambda: readyz(200), 60, "/readyz did not recover once the partition moved on")
        assert f"{gauge} 0.0" in (await http.get("/metrics")).text
    assert await db.fetchval("SELECT migration_id FROM testsvc.done") == event.migration_id
    failures = [r for r in caplog.records if r.name == "numport.consumer" and r.getMessage() in FAILURE_LOGS]
    assert len(failures) == len(calls) - 1, "every failed attempt is logged once"
