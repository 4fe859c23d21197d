"""When people or Meta do not play along: expiry, escalation with a ticket, refusal, outages; and no secret leaks."""

from __future__ import annotations

import asyncio
import re

from deploy.local import kafkaio as kafka
from shared import topics
from tests.integration.saga_support import accept_obo, migrate_fully, start, until_code, wait_for

WEEK, DAY, HOUR = 7 * 24 * 3600, 24 * 3600, 3600


async def timeline(api, migration_id: str) -> list[dict]:
    return (await api.get(f"/v1/migrations/{migration_id}/timeline")).json()["events"]


async def test_obo_never_accepted_reminds_then_expires(services):
    async with services.client() as api:
        migration_id = await start(api)
        await wait_for(api, migration_id, "awaiting_obo")
        services.advance_clock(DAY + 60)  # the injected clock, not a sleep
        for _ in range(100):
            if any(e["type"] == "OboReminderSent" for e in await timeline(api, migration_id)):
                break
            await asyncio.sleep(0.1)
        services.advance_clock(WEEK)
        failed = await wait_for(api, migration_id, "failed")
    assert failed["detail"]["reason_code"] == "OBO_NOT_ACCEPTED" and failed["detail"]["step"] == "obo"
    assert "OboReminderSent" in [e["type"] for e in await timeline_of(services, migration_id)]


async def timeline_of(services, migration_id: str) -> list[dict]:
    async with services.client() as api:
        return await timeline(api, migration_id)


async def test_no_code_within_an_hour_escalates_with_a_support_ticket(services, eligible_world):
    async with services.client() as api:
        migration_id = await start(api)
        await wait_for(api, migration_id, "awaiting_obo")
        accept_obo(eligible_world)
        await wait_for(api, migration_id, "awaiting_code")
        # Meta's live answer, not the partner's declaration (bsp_cloud_api), fills the ticket
        eligible_world.numbers["500000000000001"].platform_type = "ON_PREMISE"
        eligible_world.numbers["500000000000001"].status = "FLAGGED"
        services.advance_clock(HOUR + 5)
        escalated = await wait_for(api, migration_id, "escalated")
    assert escalated["detail"]["reason_code"] == "NO_CODE_WITHIN_1H"
    assert escalated["detail"]["ticket"] == {
        "current_bsp": "business:100000000000005", "business_verified": "yes", "infrastructure": "On-Premises",
        "number_status": "FLAGGED", "waba_id": "200000000000001", "business_manager_id": "100000000000001",
        "phone_number": "+5511987654321"}


async def test_a_number_still_setting_up_after_an_hour_escalates_then_completes(services, eligible_world):
    eligible_world.limits.register_leaves_pending = True
    async with services.client() as api:
        migration_id = await start(api)
        code = await until_code(api, eligible_world, migration_id)
        await api.post(f"/v1/migrations/{migration_id}/verification-code", json={"code": code})
        await wait_for(api, migration_id, "registered")
        services.advance_clock(HOUR + 5)
        escalated = await wait_for(api, migration_id, "escalated")
        assert escalated["detail"]["reason_code"] == "SETUP_OVER_1H"
        assert escalated["detail"]["ticket"]["number_status"] == "PENDING"
        eligible_world.numbers["500000000000001"].status = "CONNECTED"  # Meta finishes setting the number up
        services.advance_clock(120)
        await wait_for(api, migration_id, "completed")


async def test_register_refused_by_meta_fails_the_migration(services, eligible_world):
    eligible_world.limits.registers_per_window = 0  # Meta's 10-per-72-hours register budget is used up
    async with services.client() as api:
        migration_id = await start(api)
        code = await until_code(api, eligible_world, migration_id)
        await api.post(f"/v1/migrations/{migration_id}/verification-code", json={"code": code})
        failed = await wait_for(api, migration_id, "failed")
    assert failed["detail"]["step"] == "register" and failed["detail"]["reason_code"] == "META_133016"


async def test_a_burst_of_5xx_is_retried_and_the_migration_completes(services, eligible_world, sandbox_server):
    import httpx

    async with services.client() as api, httpx.AsyncClient(base_url=sandbox_server.url) as sandbox:
        migration_id = await start(api)
        await wait_for(api, migration_id, "awaiting_obo")
        await sandbox.post("/_sandbox/faults", json={"burst_status": 500, "burst_remaining": 6})
        await migrate_fully(api, eligible_world, migration_id)
        await sandbox.post("/_sandbox/faults", json={"burst_remaining": 0})
    assert sum(1 for c in eligible_world.calls if c[2] == 500) == 6
    assert eligible_world.succeeded("POST", "/phone_numbers") == 1
    assert eligible_world.succeeded("POST", "/register") == 1


async def test_pin_and_code_appear_in_no_log_and_no_event(services, eligible_world, service_env):
    async with services.client() as api:
        migration_id = await start(api)
        code = await until_code(api, eligible_world, migration_id)
        wrong = f"{(int(code) + 271828) % 10**6:06d}"
        await api.post(f"/v1/migrations/{migration_id}/verification-code", json={"code": wrong})
        await api.post(f"/v1/migrations/{migration_id}/verification-code", json={"code": code})
        await wait_for(api, migration_id, "completed")
        key = (await api.post(f"/v1/migrations/{migration_id}/api-key")).json()["api_key"]
    pin = eligible_world.numbers["500000000000001"].pin
    bootstrap = service_env["NUMPORT_KAFKA_BOOTSTRAP"]
    on_kafka = ""
    for topic in topics.ALL:
        for r in await kafka.read(bootstrap, topic.name, until=lambda rs: True, timeout=3, settle=0.5):
            on_kafka += (r.value + (r.key or b"") + b"".join(v for _, v in r.headers)).decode(errors="replace")
    logs = services.logs()
    assert "VerificationCodeRejected" in on_kafka and "PhoneRegistered" in on_kafka  # we did look at the events
    for secret in (pin, code, wrong, key):
        standalone = re.compile(rf"(?<![0-9A-Za-z_-]){re.escape(secret)}(?![0-9A-Za-z_-])")
        assert secret and not standalone.search(logs) and not standalone.search(on_kafka), "a secret leaked"
