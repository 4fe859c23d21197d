"""The partner API: idempotent starts, tenancy, authentication, validation, and the way to the timeline."""

from __future__ import annotations

import asyncio

from deploy.local import kafkaio as kafka
from deploy.local.processes import ServiceProcess
from shared import topics
from shared.events import parse_event
from tests.integration.gateway_support import REQUEST, create_partner_with_cli


async def test_idempotency_key_returns_the_same_migration(gateway_stack, db):
    async with gateway_stack.client(gateway_stack.key_a) as api:
        first = await api.post("/v1/migrations", json=REQUEST, headers={"Idempotency-Key": "order-77"})
        again = await api.post("/v1/migrations", json=REQUEST, headers={"Idempotency-Key": "order-77"})
        other_body = await api.post("/v1/migrations", json={**REQUEST, "display_name": "Other"},
                                    headers={"Idempotency-Key": "order-77"})
        second_start = await api.post("/v1/migrations", json=REQUEST)
    assert first.status_code == 202 and again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["url"] == f"/v1/migrations/{first.json()['id']}"
    assert first.json()["phone_number"] == "+5511987654321" and first.json()["state"] == "requested"
    assert other_body.status_code == 409 and other_body.json()["error"]["code"] == "conflict"
    assert second_start.status_code == 409 and "still in progress" in second_start.json()["error"]["message"]
    assert await db.fetchval("SELECT count(*) FROM gateway.migrations") == 1
    assert await db.fetchval("SELECT count(*) FROM gateway.outbox") == 1


async def test_partners_see_only_their_own_migrations(gateway_stack):
    async with gateway_stack.client(gateway_stack.key_a) as a, gateway_stack.client(gateway_stack.key_b) as b:
        created = (await a.post("/v1/migrations", json=REQUEST)).json()
        assert (await a.get(created["url"])).status_code == 200
        assert (await b.get(created["url"])).status_code == 404
        assert (await b.get(f"{created['url']}/timeline")).status_code == 404
        assert (await b.get("/v1/migrations")).json()["data"] == []
        assert [m["id"] for m in (await a.get("/v1/migrations")).json()["data"]] == [created["id"]]


async def test_requests_without_a_valid_key_are_refused_and_the_cli_issues_keys(gateway_stack, service_env, db):
    async with gateway_stack.client() as anonymous, gateway_stack.client("np_partner-a_forged") as forged:
        for api in (anonymous, forged):
            refused = await api.post("/v1/migrations", json=REQUEST)
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthenticated"
    key = create_partner_with_cli(service_env, "reseller-c")
    async with gateway_stack.client(key) as api:
        assert (await api.get("/v1/migrations")).status_code == 200
    stored = await db.fetch("SELECT key_hash, prefix FROM gateway.api_keys WHERE partner_id = 'reseller-c'")
    assert len(stored) == 1 and key.encode() not in stored[0]["key_hash"] and key.startswith(stored[0]["prefix"])


async def test_malformed_numbers_are_422_with_the_field_named(gateway_stack):
    async with gateway_stack.client(gateway_stack.key_a) as api:
        bad = await api.post("/v1/migrations", json={**REQUEST, "phone_number": "12 34"})
        missing = await api.post("/v1/migrations", json={k: v for k, v in REQUEST.items() if k != "business_id"})
    assert bad.status_code == 422 and [f["field"] for f in bad.json()["error"]["fields"]] == ["phone_number"]
    assert [f["field"] for f in missing.json()["error"]["fields"]] == ["business_id"]
    assert "12 34" not in gateway_stack.gateway.logs()


async def test_batch_starts_each_row_on_its_own(gateway_stack):
    rows = [REQUEST, {**REQUEST, "phone_number": "not a number"}, {**REQUEST, "phone_number": "+49 151 1234 5678"}]
    async with gateway_stack.client(gateway_stack.key_a) as api:
        result = (await api.post("/v1/migrations:batch", json={"items": rows})).json()
    assert (result["accepted"], result["rejected"]) == (2, 1)
    assert [r["status"] for r in result["rows"]] == ["accepted", "rejected", "accepted"]
    assert result["rows"][1]["errors"][0]["field"] == "phone_number"


async def test_eligible_request_reaches_the_timeline_through_kafka(gateway_stack, service_env):
    precheck = ServiceProcess("precheck", service_env).start()
    try:
        async with gateway_stack.client(gateway_stack.key_a) as api:
            created = (await api.post("/v1/migrations", json=REQUEST)).json()
            records = await kafka.read(service_env["NUMPORT_KAFKA_BOOTSTRAP"], topics.PRECHECK_RESULTS.name)
            assert parse_event(records[0].value).type == "NumberEligible"
            for _ in range(100):
                migration = (await api.get(created["url"])).json()
                if migration["state"] == "eligible":
                    break
                await asyncio.sleep(0.1)
            timeline = (await api.get(f"{created['url']}/timeline")).json()
    finally:
        assert precheck.terminate() == 0
    assert migration["state"] == "eligible" and "turn" in migration["next_action"]
    assert [e["type"] for e in timeline["events"]] == ["MigrationRequested", "NumberEligible"]
    assert timeline["events"][0]["occurred_at"] <= timeline["events"][1]["occurred_at"]
