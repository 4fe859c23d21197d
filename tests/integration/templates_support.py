"""Driving the templates service on its own: an eligible verdict in, TemplatesDuplicated (and friends) out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from deploy.local import kafkaio as kafka
from deploy.local.processes import ServiceProcess
from shared import topics
from shared.events import Event, NumberEligible, parse_event
from tests.factories import ELIGIBLE_NUMBER

SOURCE, DESTINATION = "200000000000001", "200000000000002"


def eligible(**changes: Any) -> NumberEligible:
    migration_id = changes.pop("migration_id", uuid.uuid4())
    fields: dict[str, Any] = dict(
        migration_id=migration_id, correlation_id=migration_id, occurred_at=datetime.now(UTC), producer="tests",
        phone_number=ELIGIBLE_NUMBER, report=(), partner_id="partner-a", business_id="100000000000001",
        destination_waba_id=DESTINATION, flow="programmatic", source="bsp_cloud_api", source_waba_id=SOURCE)
    return NumberEligible.create(**{**fields, **changes})


def start_templates(env: dict[str, str], **extra: str) -> ServiceProcess:
    service = ServiceProcess("templates", {**env, **extra}).start()
    service.wait_ready()
    return service


async def one_round(env: dict[str, str], **settings: str) -> tuple[Any, str]:
    """Start the templates service, hand it one eligible number: round 0's TemplatesDuplicated and /metrics."""
    service = start_templates(env, **settings)
    try:
        event = eligible()
        await kafka.produce_event(env["NUMPORT_KAFKA_BOOTSTRAP"], event)
        done = await duplicated(env["NUMPORT_KAFKA_BOOTSTRAP"], event.migration_id)
        return done, httpx.get(f"http://127.0.0.1:{service.port}/metrics", timeout=10).text
    finally:
        assert service.terminate() == 0, service.logs()[-3000:]


async def template_events(bootstrap: str, migration_id: uuid.UUID, until: Any, timeout: float = 60) -> list[Event]:
    """This migration's events on numport.templates.events, once `until(events)` holds."""
    def mine(records: list) -> list[Event]:
        return [e for e in map(parse_event, (r.value for r in records)) if e.migration_id == migration_id]

    records = await kafka.read(bootstrap, topics.TEMPLATE_EVENTS.name, until=lambda rs: until(mine(rs)),
                               timeout=timeout)
    return mine(records)


async def duplicated(bootstrap: str, migration_id: uuid.UUID, round_: int = 0, timeout: float = 60) -> Any:
    def done(events: list[Event]) -> bool:
        return any(e.type == "TemplatesDuplicated" and e.round == round_ for e in events)  # type: ignore[attr-defined]

    found = await template_events(bootstrap, migration_id, done, timeout)
    return next(e for e in found if e.type == "TemplatesDuplicated" and e.round == round_)  # type: ignore[attr-defined]


def outcomes_of(event: Any) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {(t.name, t.language): (t.outcome, t.reason_code) for t in event.templates}


def sandbox(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{url}/_sandbox/{path}", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()
