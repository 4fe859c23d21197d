"""Billing on the session's Kafka and PostgreSQL: records as the gateway writes them, and waiting for the ledger."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.billing.main import SPEC
from services.gateway.webhooks import changes_of
from shared import topics
from shared.events import PhoneRegistered, derive_id, dump_event
from shared.service import running
from shared.settings import ServiceSettings


@contextlib.asynccontextmanager
async def billing(bootstrap: str, database_url: str) -> AsyncIterator[str]:
    """The billing service in this process, on its own consumer group (whose name it yields)."""
    settings = ServiceSettings(kafka_bootstrap=bootstrap, database_url=database_url, consumer_backoff_seconds=0.01,
                               consumer_group_prefix=f"t{uuid.uuid4().hex[:8]}", consumer_max_attempts=2)
    async with running(SPEC, settings):
        yield f"{settings.consumer_group_prefix}.billing"


T0 = 1_764_003_600  # an instant (epoch seconds) the tests' migrations complete around


def status(number: str, wamid: str, name: str, at: float, category: str = "marketing", kind: str | None = "regular",
           number_id: str = "510", waba: str = "210", priced: bool = True) -> tuple[bytes, bytes]:
    """One status in its own webhook change, through the gateway's own split: (key, record)."""
    entry: dict[str, Any] = {"id": wamid, "status": name, "timestamp": f"{at:.6f}".rstrip("0").rstrip(".")}
    if priced and name != "failed":
        entry["pricing"] = {"billable": kind == "regular", "pricing_model": "PMP", "category": category,
                            **({"type": kind} if kind else {})}
    value = {"messaging_product": "whatsapp", "statuses": [entry],
             "metadata": {"display_phone_number": number.lstrip("+"), "phone_number_id": number_id}}
    payload = {"object": "whatsapp_business_account",
               "entry": [{"id": waba, "time": int(at), "changes": [{"field": "messages", "value": value}]}]}
    [change] = changes_of(payload, datetime(2025, 11, 24, tzinfo=UTC))
    return change.key, change.model_dump_json().encode()


def registered(number: str, completed_at: float, source: str, destination: str, new_id: str = "520",
               migration: uuid.UUID | None = None) -> PhoneRegistered:
    migration = migration or derive_id("test-migration", number, completed_at)
    instant = datetime.fromtimestamp(int(completed_at), UTC).replace(
        microsecond=round((completed_at - int(completed_at)) * 1_000_000))
    return PhoneRegistered.create(migration_id=migration, phone_number=number, correlation_id=migration,
                                  producer="registration", occurred_at=instant, phone_number_id=new_id,
                                  destination_waba_id="220", source_partner=source, destination_partner=destination,
                                  completed_at=instant)


async def produce(bootstrap: str, items: Iterable[tuple[bytes, bytes] | PhoneRegistered]) -> None:
    """Status records to numport.meta.webhooks and holder changes to numport.registration.events, in this order."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for item in items:
            if isinstance(item, PhoneRegistered):
                await producer.send(topics.REGISTRATION_EVENTS.name, dump_event(item), key=item.phone_number.encode())
            else:
                await producer.send(topics.META_WEBHOOKS.name, item[1], key=item[0])
        await producer.flush()
    finally:
        await producer.stop()


async def drained(bootstrap: str, group: str, timeout: float = 30.0) -> None:
    """Until the group committed the end of both of billing's input topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    from aiokafka import AIOKafkaConsumer

    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await probe.start()
    try:
        names = (topics.META_WEBHOOKS, topics.REGISTRATION_EVENTS)
        wanted = [TopicPartition(t.name, p) for t in names for p in range(t.partitions)]
        ends = await probe.end_offsets(wanted)
        await until(lambda: _committed(admin, group, ends), timeout, "billing to consume everything")
    finally:
        await probe.stop()
        await admin.close()


async def _committed(admin: AIOKafkaAdminClient, group: str, ends: dict[TopicPartition, int]) -> bool:
    done = await admin.list_consumer_group_offsets(group)
    return all(end == 0 or (tp in done and done[tp].offset >= end) for tp, end in ends.items())


async def until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def ledger(db: asyncpg.Connection, *numbers: str) -> dict[str, tuple]:
    """message id -> (partner, rule, billable, sent_at, delivered_at, category) from billing's documented view."""
    rows = await db.fetch("SELECT message_id, partner, rule, billable, sent_at, delivered_at, pricing_category "
                          "FROM billing.ledger WHERE phone_number = ANY($1::text[])", list(numbers))
    return {r[0]: tuple(r[1:]) for r in rows}


async def has_ledger(db: asyncpg.Connection) -> bool:
    return bool(await db.fetchval("SELECT to_regclass('billing.ledger') IS NOT NULL"))
