"""A small chaos run in every CI: 100 migrations while services are SIGKILLed at random instants, Kafka and
PostgreSQL restart, and Meta applies writes late or loses their answers. Nothing may be stuck, no write
Meta applied may be repeated, every completed migration has exactly one PhoneRegistered, and billing records its
holder change once."""

from __future__ import annotations

import asyncio

from benchmarks import chaos


def test_chaos_hundred_migrations_ten_kills(clean):
    plan = chaos.Plan(n=100, kills=10, kill_every=(0.3, 1.5), fault_share=0.1, stall_seconds=90)
    with chaos.running(plan.n, on=clean) as local:
        report = asyncio.run(chaos.run(local, plan))
    chaos.parts.print_report(report)
    assert sum(report.kills.values()) == plan.kills
    assert report.restarts == ["kafka", "postgres"]
    assert report.faults_hit > 0
    assert report.stuck == {}
    assert report.repeated == {}
    assert report.completed == plan.n, report.failed
    assert len(report.registered) == report.completed
    assert set(report.registered.values()) == {1}
    assert {m: report.billed.get(m) for m in report.registered} == dict.fromkeys(report.registered, 1)
