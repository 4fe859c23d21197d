"""Billing on real Kafka and PostgreSQL: the rules at the migration instant, late holder changes corrected, A → B → C,
and unreadable records dead-lettered while the good ones behind them are billed."""

from __future__ import annotations

import json

from deploy.local import kafkaio as kafka
from shared import topics
from tests.integration.billing_support import (
    T0,
    billing,
    drained,
    has_ledger,
    ledger,
    produce,
    registered,
    status,
    until,
)

N1, N2, N3, N4 = "+4915100000001", "+4915100000002", "+4915100000003", "+4915100000004"


async def test_the_three_rules_at_the_boundary_even_when_the_migration_arrives_last(clean, db):
    statuses = [
        status(N1, "m.before", "sent", T0), status(N1, "m.before", "delivered", T0 + 7200),  # 1 ms before completion
        status(N1, "m.after", "delivered", T0 + 61), status(N1, "m.after", "sent", T0 + 60),  # out of order
        status(N1, "m.failed", "sent", T0 + 5), status(N1, "m.failed", "failed", T0 + 9),
        status(N1, "m.free", "sent", T0 + 6, category="service", kind="free_customer_service"),
        status(N2, "m.at", "sent", T0), status(N2, "m.at", "sent", T0),  # exactly at completion, delivered twice
        status(N3, "m.alone", "sent", T0, waba="230"), status(N3, "m.unpriced", "failed", T0, waba="230")]
    async with billing(clean.kafka_bootstrap, clean.database_url) as group:
        await produce(clean.kafka_bootstrap, statuses)
        await drained(clean.kafka_bootstrap, group)
        assert {v[1] for v in (await ledger(db, N1, N2)).values()} == {"no_migration"}  # nothing known yet
        await produce(clean.kafka_bootstrap, [registered(N1, T0 + 0.001, "business:1", "partner-a"),
                                              registered(N2, T0, "business:2", "partner-b")])
        await drained(clean.kafka_bootstrap, group)
        found = await ledger(db, N1, N2, N3)
        await until(lambda: _outbox_empty(db), 10, "the attribution stream")
        stream = [json.loads(r.value) for r in await kafka.read(
            clean.kafka_bootstrap, topics.BILLING_ATTRIBUTIONS.name, until=lambda rs: len(rs) >= 16, settle=0.3)]
    assert {k: v[:3] for k, v in found.items()} == {
        "m.before": ("business:1", "sent_before_completion", True),
        "m.after": ("partner-a", "sent_after_completion", True),
        "m.failed": ("partner-a", "sent_after_completion", False),
        "m.free": ("partner-a", "sent_after_completion", False),
        "m.at": ("partner-b", "sent_after_completion", True),
        "m.alone": ("waba:230", "no_migration", True)}  # m.unpriced: a failure Meta never priced is never billed
    assert found["m.before"][4] is not None and found["m.after"][3].timestamp() == T0 + 60
    reversed_ids = [e["correction_of"] for e in stream if e["kind"] == "reversal"]
    live = {e["message_id"]: e for e in stream if e["kind"] == "attribution" and e["event_id"] not in reversed_ids}
    assert len(reversed_ids) == len(set(reversed_ids)) >= 5  # each no_migration guess reversed once
    assert {k: (e["partner"], e["rule"], e["billable"]) for k, e in live.items()} == {k: v[:3] for k, v in
                                                                                       found.items()}
    totals = await db.fetch("SELECT partner, sum(messages), sum(billable) FROM billing.daily_totals GROUP BY 1")
    assert sorted(tuple(r) for r in totals) == [("business:1", 1, 1), ("partner-a", 3, 1), ("partner-b", 1, 1),
                                                ("waba:230", 1, 1)]


async def test_two_migrations_split_a_numbers_traffic_among_three_partners(clean, db):
    items = [registered(N4, T0 + 3600, "partner-b", "partner-c", new_id="530"),
             *(status(N4, f"m{i}", "sent", T0 - 1800 + i * 1800, number_id="510") for i in range(5)),
             registered(N4, T0, "business:4", "partner-b")]  # the first migration arrives after the second
    async with billing(clean.kafka_bootstrap, clean.database_url) as group:
        await produce(clean.kafka_bootstrap, items)
        await drained(clean.kafka_bootstrap, group)
        found = await ledger(db, N4)
    assert [found[f"m{i}"][:2] for i in range(5)] == [
        ("business:4", "sent_before_completion"), ("partner-b", "sent_after_completion"),
        ("partner-b", "sent_after_completion"), ("partner-c", "sent_after_completion"),
        ("partner-c", "sent_after_completion")]


async def test_unreadable_records_are_dead_lettered_and_the_good_ones_behind_them_billed(clean, db):
    good = status(N1, "m.good", "sent", T0)
    bad_status = status(N1, "m.bad", "sent", T0)
    bad_status = (bad_status[0], bad_status[1].replace(b'"status":"sent"', b'"status":"seen"'))
    unknown_schema = (good[0], good[1].replace(b'"schema_version":1', b'"schema_version":9'))
    async with billing(clean.kafka_bootstrap, clean.database_url):
        await produce(clean.kafka_bootstrap, [bad_status, unknown_schema, good])
        dead = await kafka.read(clean.kafka_bootstrap, topics.META_WEBHOOKS.dlq, until=lambda rs: len(rs) >= 2)
        await until(lambda: _billed(db, "m.good"), 30, "the good status to be billed")
    reasons = sorted(dict(r.headers)["x-numport-dlq-reason"].decode() for r in dead)
    assert "schema_version 9" in reasons[0] and "seen" in reasons[1], reasons
    assert all(r.key == N1.encode() for r in dead)


async def _billed(db, wamid: str) -> bool:
    return await has_ledger(db) and bool(await db.fetchval(
        "SELECT count(*) FROM billing.ledger WHERE message_id = $1", wamid))


async def _outbox_empty(db) -> bool:
    return not await db.fetchval("SELECT count(*) FROM billing.outbox WHERE published_at IS NULL")


async def test_a_late_status_with_only_the_old_graph_id_still_finds_its_number(clean, db):
    N5 = "+4915100000005"

    def without_number(key: bytes, record: bytes, number_id: str) -> tuple[bytes, bytes]:
        body = json.loads(record)
        body["phone_number"], body["phone_number_id"] = None, number_id
        body["value"]["metadata"] = {"phone_number_id": number_id}
        return b"210", json.dumps(body).encode()

    early = status(N5, "m.early", "sent", T0 - 30, number_id="515")  # teaches 515 -> N5
    late = without_number(*status(N5, "m.early", "delivered", T0 + 3600), "515")
    new_only = without_number(*status(N5, "m.new", "sent", T0 + 60), "525")  # 525: PhoneRegistered's new id
    stranger = without_number(*status(N5, "m.who", "sent", T0), "599")
    async with billing(clean.kafka_bootstrap, clean.database_url) as group:
        await produce(clean.kafka_bootstrap, [early, registered(N5, T0, "business:5", "partner-e", new_id="525")])
        await drained(clean.kafka_bootstrap, group)
        await produce(clean.kafka_bootstrap, [late, new_only, stranger])
        dead = await kafka.read(clean.kafka_bootstrap, topics.META_WEBHOOKS.dlq, until=lambda rs: len(rs) >= 1)
        await drained(clean.kafka_bootstrap, group)
        found = await ledger(db, N5)
    assert len(dead) == 1 and "599" in dict(dead[0].headers)["x-numport-dlq-reason"].decode()
    assert {k: v[:2] for k, v in found.items()} == {"m.early": ("business:5", "sent_before_completion"),
                                                    "m.new": ("partner-e", "sent_after_completion")}
    assert found["m.early"][4] is not None  # the late delivery reached the message through the old id
