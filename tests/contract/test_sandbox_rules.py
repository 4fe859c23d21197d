"""Meta's rules as the sandbox enforces them, one scenario per rule."""

from __future__ import annotations

import pytest

from sandbox.state import World, read_scenario
from tests.contract.conftest import accept_obo, delivered_code, start_migration

MIGRATE = {"cc": "55", "phone_number": "11987654321", "migrate_phone_number": True}


async def add_to_destination(graph, world: World, scenario: str, body=MIGRATE):
    world.load(read_scenario(scenario))
    await accept_obo(graph)
    return await graph.post("/v23.0/200000000000002/phone_numbers", json=body)


@pytest.mark.parametrize("scenario, code, words", [
    ("two_step_on", 2388103, "Two-step verification is enabled"),
    ("test_number", 2388103, "test numbers cannot be migrated"),
    ("sandbox_account", 2388103, "SANDBOX mode"),
    ("name_not_approved", 2388103, "display name is not approved"),
    ("name_pending", 2388103, "display-name change is pending"),
    ("business_mismatch", 2388103, "same business"),
    ("no_webhook_app", 2388103, "No app is subscribed"),
    ("already_moved", 2388012, "already in the destination"),
    ("add_directly", 2388103, "can be added directly"),
])
async def test_migration_is_refused_as_meta_refuses_it(graph, sandbox_world, scenario, code, words):
    refused = await add_to_destination(graph, sandbox_world, scenario)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == code and words in refused.json()["error"]["message"]
    assert all(n.migrating_to is None for n in sandbox_world.numbers.values())


async def test_eligible_number_is_accepted_and_twin_without_ninth_digit_is_another_number(graph, sandbox_world):
    without_nine = await add_to_destination(graph, sandbox_world, "eligible", {**MIGRATE, "phone_number": "1187654321"})
    assert without_nine.json()["error"]["code"] == 2388103  # +55 11 8765-4321 is held by no WABA
    accepted = await graph.post("/v23.0/200000000000002/phone_numbers", json=MIGRATE)
    assert accepted.json() == {"id": "500000000000001"}


async def test_codes_expire_wrong_ones_are_counted_and_requests_are_throttled(graph, sandbox_world):
    number_id = await start_migration(graph)
    code_path = f"/v23.0/{number_id}/request_code"
    assert (await graph.post(code_path, json={"code_method": "SMS", "language": "pt_BR"})).status_code == 200
    await graph.post("/_sandbox/clock", json={"advance_seconds": 601})
    expired = await graph.post(f"/v23.0/{number_id}/verify_code", json={"code": await delivered_code(graph, number_id)})
    assert expired.status_code == 422 and "expired" in expired.json()["error"]["message"]

    await graph.post(code_path, json={"code_method": "SMS", "language": "pt_BR"})
    good = await delivered_code(graph, number_id)
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(5):
        assert (await graph.post(f"/v23.0/{number_id}/verify_code", json={"code": wrong})).status_code == 422
    assert sandbox_world.codes[number_id].wrong_attempts == 5
    locked = await graph.post(f"/v23.0/{number_id}/verify_code", json={"code": good})
    assert locked.status_code == 429 and locked.json()["error"]["code"] == 4


async def test_request_code_for_a_number_not_being_migrated_is_refused(graph):
    refused = await graph.post("/v23.0/500000000000001/request_code", json={"code_method": "SMS", "language": "en"})
    assert refused.json()["error"]["code"] == 2388091


async def registered(graph, number_id: str, **body):
    return await graph.post(f"/v23.0/{number_id}/register",
                            json={"messaging_product": "whatsapp", "pin": "424242", **body})


async def test_a_migrated_number_registers_on_cloud_api_only_and_after_verification(graph, sandbox_world):
    number_id = await start_migration(graph)
    unverified = await registered(graph, number_id)
    assert unverified.json()["error"]["code"] == 133006
    await graph.post(f"/v23.0/{number_id}/request_code", json={"code_method": "SMS", "language": "en"})
    await graph.post(f"/v23.0/{number_id}/verify_code", json={"code": await delivered_code(graph, number_id)})
    on_prem = await registered(graph, number_id, backup={"data": "x", "password": "y"})
    assert "Cloud API" in on_prem.json()["error"]["message"]
    assert (await registered(graph, number_id)).json() == {"success": True}
    number = sandbox_world.numbers[number_id]
    assert (number.waba_id, number.platform_type, number.pin) == ("200000000000002", "CLOUD_API", "424242")
    assert (number.verified_name, number.quality_rating, number.messaging_limit_tier,
            number.is_official_business_account) == ("Padaria Exemplo", "GREEN", "TIER_10K", True)


async def test_register_attempts_are_limited_per_number_per_window(graph, sandbox_world):
    sandbox_world.numbers["500000000000001"].pin = "111111"
    for _ in range(10):
        assert (await registered(graph, "500000000000001")).json()["error"]["code"] == 133005  # wrong PIN
    blocked = await registered(graph, "500000000000001", pin="111111")
    assert blocked.status_code == 429 and blocked.json()["error"]["code"] == 133016
    await graph.post("/_sandbox/clock", json={"advance_seconds": 72 * 3600})
    assert (await registered(graph, "500000000000001", pin="111111")).json() == {"success": True}


async def test_only_approved_green_templates_duplicate_up_to_the_limit_as_unknown(graph, sandbox_world):
    sandbox_world.load(read_scenario("templates_mixed"))
    await graph.post("/_sandbox/settings", json={"rejected_share": 0.5})
    number_id = await start_migration(graph)
    await graph.post(f"/v23.0/{number_id}/request_code", json={"code_method": "SMS", "language": "en"})
    await graph.post(f"/v23.0/{number_id}/verify_code", json={"code": await delivered_code(graph, number_id)})
    assert (await registered(graph, number_id)).json() == {"success": True}
    copies = [t for t in sandbox_world.templates_of("200000000000002") if t.name != "existing_on_destination"]
    source_green = [t for t in sandbox_world.templates_of("200000000000001")
                    if t.status == "APPROVED" and t.quality_score == "GREEN"]
    assert len(source_green) == 4 and len(copies) == 2  # limit 3, one slot already used
    assert {t.name for t in copies} <= {t.name for t in source_green}
    assert all(t.quality_score == "UNKNOWN" for t in copies)
    assert {t.status for t in copies} <= {"APPROVED", "REJECTED"}


async def test_template_migration_endpoint_pages_and_reports_failures(graph, sandbox_world):
    sandbox_world.load(read_scenario("templates_mixed"))
    first = (await graph.post("/v23.0/200000000000002/migrate_message_templates",
                              json={"source_waba_id": "200000000000001", "page_number": 0, "count": 3})).json()
    copies = {sandbox_world.templates[i].name for i in first["migrated_templates"]}  # ids of the new copies
    assert copies == {"order_update", "welcome_offer"}
    assert all(sandbox_world.templates[i].waba_id == "200000000000002" for i in first["migrated_templates"])
    assert "limit" in first["failed_templates"]["600000000000003"]  # three slots, one already used
    second = (await graph.post("/v23.0/200000000000002/migrate_message_templates",
                               params={"source_waba_id": "200000000000001", "page_number": 1, "count": 3})).json()
    assert second["migrated_templates"] == []
    assert set(second["failed_templates"]) == {"600000000000004", "600000000000005", "600000000000006"}
    assert "quality YELLOW" in second["failed_templates"]["600000000000004"]
    too_many = await graph.post("/v23.0/200000000000002/migrate_message_templates",
                                json={"source_waba_id": "200000000000001", "count": 600})
    assert too_many.status_code == 400


async def test_credit_line_sharing_gives_the_destination_a_payment_method(graph, sandbox_world):
    lines = (await graph.get("/v23.0/100000000000009/extendedcredits")).json()["data"]
    shared = await graph.post(f"/v23.0/{lines[0]['id']}/whatsapp_credit_sharing_and_attach",
                              params={"waba_id": "200000000000002", "waba_currency": "BRL"})
    allocation = shared.json()["allocation_config_id"]
    credential = (await graph.get(f"/v23.0/{allocation}", params={"fields": "receiving_credential"})).json()
    waba = (await graph.get("/v23.0/200000000000002", params={"fields": "primary_funding_id,currency"})).json()
    assert credential["receiving_credential"] == waba["primary_funding_id"] and waba["currency"] == "BRL"


def test_every_scenario_file_loads():
    from sandbox.state import SCENARIOS

    names = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
    assert len(names) >= 16
    for name in names:
        world = World()
        world.load(read_scenario(name))
        assert world.wabas, name
