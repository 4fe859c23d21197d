"""Partner change on real Kafka and PostgreSQL, through the gateway: a WABA's three numbers move at one instant, the
refusals of 360dialog's page, manual approval, decline and expiry, permissions before and after the grant, who may
call what, and a SIGKILL between approval and transfer. One stack for the module; each test has its own WABA."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import datetime

import asyncpg
import pytest

from deploy.local import kafkaio
from deploy.local.stack import services_env
from shared import topics
from tests.conftest import SERVICE_SCHEMAS
from tests.integration import partner_change_support as pc
from tests.integration.billing_support import billing, ledger, status
from tests.integration.billing_support import produce as bill_produce
from tests.integration.partner_change_support import held, produce, request, submitted, until

wabas = itertools.count(1)


@pytest.fixture(scope="module")
async def stack(infra, sandbox_server, tmp_path_factory):
    conn = await asyncpg.connect(infra.database_url)
    for schema in SERVICE_SCHEMAS:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    await conn.close()
    await kafkaio.reset(infra.kafka_bootstrap)
    env = services_env(infra.kafka_bootstrap, infra.database_url, sandbox_server.url,
                       NUMPORT_CONSUMER_GROUP_PREFIX=f"test-{uuid.uuid4().hex[:12]}",
                       NUMPORT_CONSUMER_BACKOFF_SECONDS="0.05")
    running = await pc.start(env, tmp_path_factory.mktemp("partner-change") / "clock")
    yield running
    for process in (running.gateway, running.service):
        assert process.terminate() == 0, process.logs()[-3000:]


async def events_of(stack: pc.Stack, change_id: str, count: int) -> list[dict]:
    """The change's distinct events on Kafka (a redelivered one counts once), once there are `count` of them."""
    def mine(records: list) -> list[dict]:
        found = [e for e in map(json.loads, (r.value for r in records)) if e["migration_id"] == change_id]
        return list({e["event_id"]: e for e in found}.values())

    return mine(await kafkaio.read(stack.bootstrap, topics.PARTNER_CHANGE_EVENTS.name,
                                   until=lambda rs: len(mine(rs)) >= count, settle=0.3))


async def _in_state(api, path: str, state: str) -> dict | None:  # noqa: ANN001
    found = (await api.get(path)).json()
    return found if found["state"] == state else None


async def test_three_numbers_move_at_one_instant_a_subset_is_refused_and_permissions_follow_the_grant(stack):
    waba, numbers = await pc.waba_of_three(stack, next(wabas))
    async with stack.client("customer") as customer, stack.client("partner-b") as new, \
            stack.client("partner-a") as old:
        subset = await request(customer, waba, "partner-b", phone_numbers=[numbers[0]])
        assert subset.status_code == 422 and subset.json()["error"]["code"] == "all_numbers_move_together"
        assert subset.json()["error"]["fields"][0]["field"] == "phone_numbers"
        change = (await request(customer, waba, "partner-b")).json()
        base = change["url"]
        assert change["phone_numbers"] == list(numbers) and change["state"] == "requested"
        fewer = await customer.post(f"{base}:review", json={"phone_numbers": list(numbers[:2])})
        assert fewer.status_code == 422 and fewer.json()["error"]["code"] == "all_numbers_move_together"
        await customer.post(f"{base}:review", json={"phone_numbers": list(numbers)})
        assert [(await new.get(f"/v1/numbers/{n}")).status_code for n in numbers] == [404] * 3  # not yet its
        assert (await customer.post(f"{base}:accept-terms")).json()["state"] == "approved"  # auto, no payment step
        await until(lambda: _in_state(customer, base, "completed"), what="the transfer")
        moved = [e for e in await events_of(stack, change["id"], 5) if e["type"] == "PartnerChangeCompleted"]
        assert sorted(e["phone_number"] for e in moved) == list(numbers) and len({e["transferred_at"]
                                                                                 for e in moved}) == 1
        assert {(e["old_partner"], e["new_partner"], tuple(e["phone_numbers"])) for e in moved} == {
            ("partner-a", "partner-b", numbers)}
        assert [(await new.get(f"/v1/numbers/{n}")).json()["access"] for n in numbers] == ["read"] * 3
        assert [(await old.get(f"/v1/numbers/{n}")).status_code for n in numbers] == [404] * 3
        seen_by_old = (await old.get(base)).json()
        assert (seen_by_old["state"], seen_by_old["destination_partner_id"]) == ("completed", None)
        granted = await customer.post(f"{base}:grant-permissions", json={"managed_numbers": list(numbers[:2])})
        assert granted.json()["managed_numbers"] == list(numbers[:2])
        assert [(await new.get(f"/v1/numbers/{n}")).json()["access"] for n in numbers] == ["manage", "manage", "read"]


async def test_refusals_each_with_its_code_and_field_and_the_idempotency_key(stack):
    waba, _ = await pc.waba_of_three(stack, next(wabas))
    async with stack.client("customer") as customer:
        cases = {"partner-z": (422, "unknown_destination_partner", "destination_partner_id"),
                 "partner-a": (409, "same_partner", "destination_partner_id"),
                 "partner-x": (409, "payment_processor_mismatch", "destination_partner_id")}
        for destination, expected in cases.items():
            answer = await request(customer, waba, destination)
            error = answer.json()["error"]
            assert (answer.status_code, error["code"], error["fields"][0]["field"]) == expected, answer.text
        invalid = await request(customer, waba, "partner-b", country="Germany")
        assert (invalid.status_code, invalid.json()["error"]["fields"][0]["field"]) == (422, "country")
        spare, _ = await pc.waba_of_three(stack, next(wabas))
        once = {"Idempotency-Key": f"k-{spare}"}
        first, again = [await customer.post("/v1/partner-changes", headers=once, json={
            "waba_id": spare, "destination_partner_id": "partner-m", "legal_name": "Acme", "country": "DE"})
            for _ in range(2)]
        assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
        other = await customer.post("/v1/partner-changes", headers=once, json={
            "waba_id": spare, "destination_partner_id": "partner-b", "legal_name": "Acme", "country": "DE"})
        assert (other.status_code, other.json()["error"]["code"]) == (409, "conflict")
        migrating = f"+49151{waba[-2:]}000009"
        await produce(stack.bootstrap, held(migrating, waba, "partner-a", migrating_only=True))
        busy = await until(lambda: _refused(customer, waba), what="the migration to be seen")
        assert busy.json()["error"]["code"] == "number_in_progress" and migrating in busy.text


async def _refused(customer, waba: str):  # noqa: ANN001, ANN202
    answer = await request(customer, waba, "partner-b")
    return answer if answer.status_code == 409 else None


async def test_a_manual_partner_declines_lets_one_expire_then_approves(stack):
    waba, _ = await pc.waba_of_three(stack, next(wabas))
    async with stack.client("partner-m") as manual:
        first = await submitted(stack, waba, "partner-m")
        assert (first["state"], first["payment_method_required"]) == ("awaiting_approval", True)
        declined = (await manual.post(f"{first['url']}:decline")).json()
        assert (declined["state"], declined["ended_reason"]) == ("declined", "declined_by_partner")
        second = await submitted(stack, waba, "partner-m")
        stack.advance_clock(pc.APPROVAL_SECONDS + 1)
        expired = await until(lambda: _in_state(manual, second["url"], "expired"), what="the expiry")
        assert expired["ended_reason"] == "approval_expired"
        assert (await manual.post(f"{second['url']}:approve")).status_code == 409
        third = await submitted(stack, waba, "partner-m")
        assert (await manual.post(f"{third['url']}:approve")).json()["state"] in ("approved", "completed")
        await until(lambda: _in_state(manual, third["url"], "completed"), what="the transfer")
    assert [e["type"] for e in await events_of(stack, first["id"], 2)] == ["PartnerChangeRequested",
                                                                            "PartnerChangeDeclined"]
    assert [e["reason_code"] for e in await events_of(stack, second["id"], 2)
            if e["type"] == "PartnerChangeDeclined"] == ["approval_expired"]


# The README's "who may call what": the answer each caller gets, on a change awaiting the new partner's approval.
# Allowed calls that change the state are exercised in the flows above; here every other cell.
WHO_MAY = {  # caller -> (view, review, accept-terms, confirm-payment-method, approve, decline, grant-permissions)
    "customer": (200, 409, 409, 409, 403, 403, 409),
    "partner-m": (200, 403, 403, 403, None, None, 403),  # the destination: approve/decline in the flow test
    "partner-a": (200, 403, 403, 403, 403, 403, 403),    # the source: sees, cannot block
    "partner-b": (404, 404, 404, 404, 404, 404, 404),    # another partner
    "stranger": (404, 404, 404, 404, 404, 404, 404),     # another customer
}
STEPS = (":review", ":accept-terms", ":confirm-payment-method", ":approve", ":decline", ":grant-permissions")


async def test_who_may_call_what(stack):
    waba, numbers = await pc.waba_of_three(stack, next(wabas))
    change = await submitted(stack, waba, "partner-m")
    bodies = {":review": {"phone_numbers": list(numbers)}, ":grant-permissions": {"managed_numbers": [numbers[0]]}}
    for caller, expected in WHO_MAY.items():
        async with stack.client(caller) as api:
            found = [(await api.get(change["url"])).status_code]
            for step, want in zip(STEPS, expected[1:], strict=True):
                found.append((await api.post(change["url"] + step, json=bodies.get(step))).status_code
                             if want is not None else None)
            assert tuple(found) == expected, caller
            if caller == "partner-a":
                assert (await api.get(change["url"])).json()["destination_partner_id"] is None
    async with stack.client("partner-a") as partner, stack.client("customer") as customer:
        assert (await request(partner, waba, "partner-b")).status_code == 403  # a partner does not start one
        assert (await partner.get("/v1/migrations")).status_code == 200  # partner keys work as before
        assert (await customer.get("/v1/migrations")).json()["error"]["code"] == "partner_key_required"
    async with stack.client("stranger") as stranger:
        assert (await request(stranger, waba, "partner-b")).status_code == 404  # not its WABA
        assert (await stranger.get(f"/v1/numbers/{numbers[0]}")).status_code == 404


async def test_killed_between_approval_and_transfer_every_number_moves_once_at_the_approved_instant(stack, infra):
    waba, numbers = await pc.waba_of_three(stack, next(wabas))
    stack.service.terminate()
    stack.service.start(NUMPORT_FAILPOINTS="partner_change.before_transfer")
    stack.service.wait_ready()
    async with billing(infra.kafka_bootstrap, infra.database_url), stack.client("customer") as customer:
        change = (await request(customer, waba, "partner-b")).json()
        await customer.post(f"{change['url']}:review", json={"phone_numbers": list(numbers)})
        await customer.post(f"{change['url']}:accept-terms")  # approved (auto), committed; then the loop dies
        assert stack.service.wait_exit() == -9
        stack.service.start()
        stack.service.wait_ready()
        await until(lambda: _in_state(customer, change["url"], "completed"), what="the transfer after the restart")
        # the relay may have sent a batch and died before marking it: the same event again is at-least-once
        # delivery (subscribers drop it by event_id); a second event for one fact would be a defect
        found = await events_of(stack, change["id"], 5)
        [approved] = [e for e in found if e["type"] == "PartnerChangeApproved"]
        moved = [e for e in found if e["type"] == "PartnerChangeCompleted"]
        assert sorted(e["phone_number"] for e in moved) == list(numbers)  # one fact per number, each once
        assert {e["transferred_at"] for e in moved} == {approved["transfer_at"]}
        at = datetime.fromisoformat(approved["transfer_at"]).timestamp()
        await bill_produce(infra.kafka_bootstrap, [status(numbers[0], "m.before", "sent", at - 0.001),
                                                   status(numbers[0], "m.at", "sent", at)])
        conn = await asyncpg.connect(infra.database_url)
        try:
            billed = await until(lambda: _both_billed(conn, numbers[0]), what="billing both messages")
            timeline = await conn.fetch("SELECT phone_number, changed_at FROM billing.holder_timeline "
                                        "WHERE kind = 'partner_change' AND phone_number = ANY($1) ORDER BY 1",
                                        list(numbers))
        finally:
            await conn.close()
    assert billed == {"m.before": ("partner-a", "sent_after_completion"),  # its migration's rule: the change before
                      "m.at": ("partner-b", "sent_after_partner_change")}
    assert [(r[0], r[1].timestamp()) for r in timeline] == [(n, at) for n in numbers]


async def _both_billed(conn: asyncpg.Connection, number: str) -> dict | None:
    found = {k: v[:2] for k, v in (await ledger(conn, number)).items()}
    return found if found.get("m.at", ("",))[0] == "partner-b" and len(found) == 2 else None
