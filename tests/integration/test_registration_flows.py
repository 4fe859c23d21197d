"""Each flow end to end over real Kafka, PostgreSQL and service processes, with the sandbox standing in for Meta."""

from __future__ import annotations

from datetime import datetime

import httpx

from deploy.local import kafkaio as kafka
from sandbox.state import read_scenario
from shared import topics
from shared.events import parse_event
from tests.integration.saga_support import enter_code, migrate_fully, start, wait_for


async def registered_events(bootstrap: str, migration_id: str) -> list:
    records = await kafka.read(bootstrap, topics.REGISTRATION_EVENTS.name, settle=0.5,
                               until=lambda rs: any(parse_event(r.value).type == "MigrationCompleted" for r in rs))
    return [e for e in (parse_event(r.value) for r in records) if str(e.migration_id) == migration_id]


async def test_another_bsps_cloud_api_number_migrates(services, eligible_world, service_env):
    async with services.client() as api:
        migration_id = await start(api)
        done = await migrate_fully(api, eligible_world, migration_id)
        key = await api.post(f"/v1/migrations/{migration_id}/api-key")
        again = await api.post(f"/v1/migrations/{migration_id}/api-key")
    number = eligible_world.numbers["500000000000001"]
    assert (number.waba_id, number.platform_type, number.status) == ("200000000000002", "CLOUD_API", "CONNECTED")
    assert number.verified_name == "Padaria Exemplo" and number.messaging_limit_tier == "TIER_10K"
    assert eligible_world.wabas["200000000000002"].primary_funding_id  # our credit line now pays
    assert key.status_code == 200 and key.json()["api_key"].startswith("wa_5511987654321_")
    assert again.status_code == 410
    events = await registered_events(service_env["NUMPORT_KAFKA_BOOTSTRAP"], migration_id)
    registered = [e for e in events if e.type == "PhoneRegistered"]
    assert len(registered) == 1
    assert registered[0].completed_at == datetime.strptime(number.last_onboarded_time, "%Y-%m-%dT%H:%M:%S%z")
    assert registered[0].source_partner == "business:100000000000005"
    assert registered[0].destination_partner == "partner-a"
    assert [e.type for e in events][-2:] == ["ApiKeyIssued", "MigrationCompleted"]
    assert done["detail"]["phone_number_id"] == "500000000000001"


async def test_an_on_premises_number_migrates_to_cloud_api(services, eligible_world):
    eligible_world.load(read_scenario("on_premises_source"))
    async with services.client() as api:
        migration_id = await start(api, source="bsp_on_premises")
        await migrate_fully(api, eligible_world, migration_id)
    number = eligible_world.numbers["500000000000001"]
    assert (number.waba_id, number.platform_type) == ("200000000000002", "CLOUD_API")


async def test_embedded_signup_v2_continues_from_the_session_result(services, eligible_world):
    async with services.client() as api:
        migration_id = await start(api, flow="embedded_signup")
        waiting = await wait_for(api, migration_id, "awaiting_signup")
        assert "Embedded Signup" in waiting["next_action"]
        async with httpx.AsyncClient(base_url=services.processes["gateway"].env["NUMPORT_GRAPH_BASE_URL"]) as sandbox:
            session = (await sandbox.post("/_sandbox/embedded-signup",
                                          json={"phone_number_id": "500000000000001"})).json()
        posted = await api.post("/v1/embedded-signup/events", json={"migration_id": migration_id, **session})
        assert posted.status_code == 202, posted.text
        await wait_for(api, migration_id, "completed")
    new_waba = eligible_world.wabas[session["waba_id"]]
    number = eligible_world.numbers["500000000000001"]
    assert number.waba_id == new_waba.id and number.platform_type == "CLOUD_API"
    assert new_waba.primary_funding_id and new_waba.subscribed_apps  # credit line shared, webhooks subscribed
    assert not eligible_world.obo_requests  # Embedded Signup needs no on-behalf-of request


async def test_wrong_codes_are_counted_and_a_new_code_opens_the_door_again(services, eligible_world):
    async with services.client() as api:
        migration_id = await start(api)
        eligible_world.limits.auto_accept_obo = True
        await wait_for(api, migration_id, "awaiting_obo", "awaiting_code")
        for request in eligible_world.obo_requests.values():
            request.status = "APPROVE"
        waiting = await wait_for(api, migration_id, "awaiting_code")
        good = eligible_world.codes["500000000000001"].value
        wrong = "000000" if good != "000000" else "111111"
        answers = [await api.post(f"/v1/migrations/{migration_id}/verification-code", json={"code": wrong})
                   for _ in range(4)]
        assert [a.status_code for a in answers] == [422, 422, 422, 409]
        assert "2 more tries" in answers[0].json()["error"]["message"]
        assert "request a new code" in answers[3].json()["error"]["message"]
        resent = await api.post(f"/v1/migrations/{migration_id}/verification-code:resend", json={"method": "VOICE"})
        assert resent.status_code == 202
        assert eligible_world.codes["500000000000001"].method == "VOICE"
        assert (await enter_code(api, eligible_world, migration_id, waiting["detail"]["phone_number_id"])).status_code \
            == 200
        await wait_for(api, migration_id, "completed")
        timeline = (await api.get(f"/v1/migrations/{migration_id}/timeline")).json()["events"]
    kinds = [e["type"] for e in timeline]
    assert kinds.count("VerificationCodeRejected") == 3 and kinds.count("VerificationCodeRequested") == 2
