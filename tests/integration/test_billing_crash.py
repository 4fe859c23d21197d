"""Billing SIGKILLed in the middle of a batch, and again at a random instant, then restarted: the ledger equals the
input exactly (nothing lost, nothing counted twice), and the attribution stream nets to it."""

from __future__ import annotations

import json

from benchmarks.billing_traffic import build
from deploy.local import kafkaio as kafka
from deploy.local.processes import ServiceProcess
from shared import topics
from tests.integration.billing_support import has_ledger, produce, until


async def test_killed_mid_batch_and_restarted_the_ledger_matches_the_input(service_env, db):
    traffic = build(9000, number_count=40, migrating=8, seed=5)
    await produce(service_env["NUMPORT_KAFKA_BOOTSTRAP"], [*traffic.records[:4000], *traffic.registered,
                                                           *traffic.records[4000:]])
    env = {**service_env, "NUMPORT_BATCH_MAX_RECORDS": "700"}
    service = ServiceProcess("billing", env).start(NUMPORT_FAILPOINTS="billing.mid_batch")
    assert service.wait_exit(60) == -9  # killed itself with its first batch's rows written, uncommitted
    service.start()
    await until(lambda: _billed_at_least(db, traffic.messages // 3), 60, "a third of the ledger")
    service.kill()  # wherever it is now
    service.start()
    try:
        await until(lambda: _billed_at_least(db, traffic.messages), 90, "the whole ledger")
        await until(lambda: _streamed(db), 30, "the attribution stream")
    finally:
        assert service.terminate() == 0, service.logs()[-3000:]
    rows = await db.fetch("SELECT partner, day::text, pricing_category, messages, billable FROM billing.daily_totals")
    assert {(r[0], r[1], r[2]): [r[3], r[4]] for r in rows} == traffic.expected
    assert await db.fetchval("SELECT count(*) FROM billing.ledger") == traffic.messages
    stream = {}
    for record in await kafka.read(service_env["NUMPORT_KAFKA_BOOTSTRAP"], topics.BILLING_ATTRIBUTIONS.name,
                                   until=lambda rs: len(rs) >= traffic.messages, settle=1.0, timeout=60):
        event = json.loads(record.value)
        stream[event["event_id"]] = event  # the same event twice (a relay killed after sending) counts once
    cancelled = {e["correction_of"] for e in stream.values() if e["kind"] == "reversal"}
    live = [e for e in stream.values() if e["kind"] == "attribution" and e["event_id"] not in cancelled]
    assert len(live) == len({e["message_id"] for e in live}) == traffic.messages


async def _billed_at_least(db, count: int) -> bool:
    return await has_ledger(db) and await db.fetchval("SELECT count(*) FROM billing.ledger") >= count


async def _streamed(db) -> bool:
    return not await db.fetchval("SELECT count(*) FROM billing.outbox WHERE published_at IS NULL")
