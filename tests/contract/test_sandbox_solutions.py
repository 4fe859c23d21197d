"""Multi-Partner Solutions and solution-migration intents: both bodies of the intent call, their union answer, the
intent's reads, the customer's answer and its webhooks, a move with no code, and the partner's accept/reject."""

from __future__ import annotations

import httpx
import pytest
from starlette.routing import Match

from sandbox.app import create_app
from sandbox.faults import Faults
from sandbox.state import World, read_scenario
from tests.contract.conftest import GRAPH
from tests.contract.spec import check_response, spec

SOURCE, DESTINATION, NUMBER = "200000000000001", "200000000000002", "500000000000001"
OURS, THEIRS = "800000000000009", "800000000000005"
SET_INTENT, INTENT = "/{Version}/{WABA-ID}/set_solution_migration_intent", "/{Version}/{Migration-Intent-ID}"
SOLUTIONS, SOLUTION = "/{Version}/{WABA-ID}/solutions", "/{Version}/{Solution-ID}"
OPERATIONS = {("post", SET_INTENT), ("get", INTENT), ("get", SOLUTIONS), ("get", SOLUTION),
              ("post", f"{SOLUTION}/accept"), ("post", f"{SOLUTION}/reject")}


@pytest.fixture
def sandbox_world() -> World:
    """Conftest's `graph` serves this world: the customer's WABAs on two Multi-Partner Solutions."""
    world = World()
    world.load(read_scenario("solution_intent"))
    return world


async def call(graph: httpx.AsyncClient, method: str, spec_path: str, path: str, status: int,
               **kwargs: object) -> httpx.Response:
    answer = await graph.request(method.upper(), path, **kwargs)
    assert answer.status_code == status, answer.text
    check_response(spec_path, method, status, answer.json())
    return answer


async def set_intent(graph: httpx.AsyncClient, status: int = 200, waba: str = SOURCE, **body: object) -> dict:
    return (await call(graph, "post", SET_INTENT, f"/v23.0/{waba}/set_solution_migration_intent", status,
                       json=body)).json()


def test_the_operations_are_in_the_spec_and_served():
    routes = create_app().routes
    for method, path in OPERATIONS:
        assert method in spec()["paths"][path], (method, path)
        concrete = path.replace("{Version}", "v23.0").replace("{WABA-ID}", SOURCE).replace(
            "{Migration-Intent-ID}", "1").replace("{Solution-ID}", OURS)
        scope = {"type": "http", "path": concrete, "method": method.upper()}
        assert any(r.matches(scope)[0] is Match.FULL for r in routes), (method, path)


async def test_both_bodies_are_accepted_and_answered_with_the_union(graph, sandbox_world):
    spec_form = await set_intent(graph, solution_id=OURS, migration_intent="INITIATE_MIGRATION")
    assert spec_form == {"success": True, "migration_intent_id": spec_form["id"], "status": "PENDING",
                         "id": spec_form["id"]}
    docs_form = await set_intent(graph, solution_id=OURS)
    assert docs_form == spec_form  # one open intent per WABA and destination: asking again answers the same one
    off_solution = await set_intent(graph, app_id="400000000000001")
    assert off_solution["id"] != spec_form["id"]
    assert sandbox_world.intents[off_solution["id"]].app_id == "400000000000001"
    query = await graph.post(f"/v23.0/{SOURCE}/set_solution_migration_intent", params={"solution_id": OURS})
    assert query.json()["id"] == spec_form["id"]
    assert [r.operation for r in sandbox_world.requests] == ["migration_intent"] * 4  # through the write layer, logged


async def test_refusals(graph, sandbox_world):
    await set_intent(graph, 400, solution_id=OURS, migration_intent="MOVE_IT")
    await set_intent(graph, 400)
    await set_intent(graph, 400, solution_id="not-a-number")
    await set_intent(graph, 400, solution_id=OURS, migration_intent="SCHEDULE_MIGRATION")
    await set_intent(graph, 400, solution_id=THEIRS)  # the WABA is already on that solution
    await set_intent(graph, 400, waba="299999999999999", solution_id=OURS)  # no such WABA
    await set_intent(graph, 422, solution_id=OURS, migration_intent="CONFIRM_MIGRATION")  # nothing accepted yet
    sandbox_world.numbers[NUMBER].is_on_biz_app = True
    coexistence = await set_intent(graph, 400, solution_id=OURS)
    assert "WhatsApp Business app" in coexistence["error"]["message"]
    sandbox_world.numbers[NUMBER].is_on_biz_app = False
    sandbox_world.solutions[OURS].status = "DEACTIVATED"
    inactive = await set_intent(graph, 422, solution_id=OURS)
    assert inactive["error"]["code"] == 100
    assert not sandbox_world.intents


async def test_cancel_and_schedule(graph, sandbox_world):
    scheduled = await set_intent(graph, solution_id=OURS, migration_intent="SCHEDULE_MIGRATION",
                                 scheduled_migration_time="2026-12-01T10:00:00Z")
    assert scheduled["status"] == "SCHEDULED"
    cancelled = await set_intent(graph, solution_id=OURS, migration_intent="CANCEL_MIGRATION")
    assert (cancelled["id"], cancelled["status"]) == (scheduled["id"], "REJECTED")
    read = await call(graph, "get", INTENT, f"/v23.0/{scheduled['id']}", 200)
    assert read.json()["status"] == "REJECTED"


async def test_an_accepted_intent_moves_the_number_without_a_code(graph, sandbox_world, hooks):
    intent = (await set_intent(graph, solution_id=OURS))["id"]
    before = await call(graph, "get", INTENT, f"/v23.0/{intent}", 200, params={"fields": "id,status"})
    assert before.json() == {"id": intent, "status": "INITIATED"}
    assert (await graph.post(f"/_sandbox/intents/{intent}/accept")).status_code == 200
    accepted = (await call(graph, "get", INTENT, f"/v23.0/{intent}", 200)).json()
    assert accepted["status"] == "ACCEPTED" and accepted["destination_waba"]["id"] == DESTINATION
    assert accepted["solution"] == {"id": OURS, "name": "numport solution", "status": "ACTIVE",
                                    "status_for_pending_request": "NONE"}
    added = [c["value"] for d in hooks.deliveries for e in d["payload"]["entry"] for c in e["changes"]
             if c["field"] == "account_update"]
    assert {a["event"] for a in added} == {"PARTNER_ADDED"}
    assert [a["waba_info"]["solution_id"] for a in added] == [OURS, OURS]  # to the destination and the source
    assert [e["id"] for d in hooks.deliveries for e in d["payload"]["entry"]] == [DESTINATION, SOURCE]

    moved = await graph.post(f"/v23.0/{DESTINATION}/phone_numbers",
                             json={"cc": "55", "phone_number": "11987654321", "migrate_phone_number": True})
    assert moved.status_code == 200, moved.text
    assert sandbox_world.numbers[NUMBER].code_verification_status == "VERIFIED"  # no ownership code to wait for
    registered = await graph.post(f"/v23.0/{NUMBER}/register", json={"messaging_product": "whatsapp",
                                                                     "pin": "424242"})
    assert registered.status_code == 200, registered.text
    assert sandbox_world.numbers[NUMBER].waba_id == DESTINATION and not sandbox_world.applied_writes("request_code")
    assert (await graph.get(f"/v23.0/{intent}")).json()["status"] == "COMPLETED"
    assert (await graph.post(f"/_sandbox/intents/{intent}/reject")).status_code == 404  # answered already


async def test_a_rejected_intent_leaves_the_code_in_place(graph, sandbox_world):
    intent = (await set_intent(graph, solution_id=OURS))["id"]
    assert (await graph.post(f"/_sandbox/intents/{intent}/reject")).json()["status"] == "REJECTED"
    await graph.post(f"/v23.0/{DESTINATION}/phone_numbers",
                     json={"cc": "55", "phone_number": "11987654321", "migrate_phone_number": True})
    assert sandbox_world.numbers[NUMBER].code_verification_status == "UNVERIFIED"


async def test_solutions_of_a_waba_and_one_solution(graph):
    listed = (await call(graph, "get", SOLUTIONS, f"/v23.0/{DESTINATION}/solutions", 200)).json()
    assert [(s["id"], s["status"], s["owner_app"]["id"]) for s in listed["data"]] == [(OURS, "ACTIVE",
                                                                                       "400000000000001")]
    one = (await call(graph, "get", SOLUTION, f"/v23.0/{OURS}", 200, params={"fields": "status"})).json()
    assert one["status"] == "ACTIVE" and one["status_for_pending_request"] == "NONE"
    assert (await graph.get(f"/v23.0/{DESTINATION}/solutions", params={"fields": "colour"})).status_code == 400


async def test_the_partner_accepts_or_rejects_a_solution(graph, sandbox_world, hooks):
    sandbox_world.solutions[OURS].status = "INITIATED"
    accept = f"{SOLUTION}/accept"
    await call(graph, "post", accept, f"/v23.0/{OURS}/accept", 400, json={"partner_app_id": "1"})
    answer = (await call(graph, "post", accept, f"/v23.0/{OURS}/accept", 200,
                         json={"partner_app_id": "400000000000007"})).json()
    assert (answer["partner_status"], sandbox_world.solutions[OURS].status) == ("ACCEPTED", "ACTIVE")
    rejected = (await call(graph, "post", f"{SOLUTION}/reject", f"/v23.0/{THEIRS}/reject", 200,
                           json={"request_type": "PARTNERSHIP_REQUEST"})).json()
    assert rejected["rejected_request_type"] == "PARTNERSHIP_REQUEST"
    updates = [(e["id"], c["value"]) for d in hooks.deliveries for e in d["payload"]["entry"] for c in e["changes"]
               if c["field"] == "partner_solutions"]
    assert updates == [("100000000000009", {"event": "SOLUTION_UPDATED", "solution_id": OURS,
                                            "solution_status": "ACTIVE"}),
                       ("100000000000005", {"event": "SOLUTION_UPDATED", "solution_id": THEIRS,
                                            "solution_status": "REJECTED"})]
    assert [r.operation for r in sandbox_world.requests] == ["solution_accept", "solution_accept", "solution_reject"]


async def test_an_intent_write_takes_injected_faults(sandbox_world):
    faults = Faults()
    faults.configure(writes=[{"operation": "migration_intent", "mode": "error_after_apply", "times": 1}])
    app = create_app(sandbox_world, faults=faults)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=GRAPH,
                                 headers={"Authorization": "Bearer sandbox-token"}) as graph:
        first = await graph.post(f"/v23.0/{SOURCE}/set_solution_migration_intent", json={"solution_id": OURS})
        assert first.status_code == 500 and len(sandbox_world.intents) == 1  # applied, then the answer failed
        again = await set_intent(graph, solution_id=OURS)
    assert again["id"] in sandbox_world.intents and len(sandbox_world.intents) == 1
    assert sandbox_world.applied_writes("migration_intent") == {SOURCE: 2}
