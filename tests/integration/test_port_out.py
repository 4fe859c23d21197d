"""Port-out on real Kafka, PostgreSQL and the sandbox over HTTP: an owned WABA's customer switches two-step
verification off; a shared WABA's ticket runs its 72 h clock (reminders, escalation) until Meta's security webhook
closes it; the departure ends billing at its instant."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from deploy.local import kafkaio
from tests.integration.billing_support import billing, drained, ledger, produce, status
from tests.integration.port_out_support import (
    NEW_WABA,
    OWNED_NUMBER,
    OWNED_WABA,
    SHARED_NUMBER,
    SHARED_WABA,
    ShiftedClock,
    port_out_events,
    port_out_service,
    request,
    row_when,
    scenario,
    webhook,
)

DAY = timedelta(hours=24)


async def test_owned_waba_customer_switches_off_then_the_number_leaves_and_billing_stops(
        service_env, world, sandbox_server, db, clean):
    world.load(scenario())
    asked = request(OWNED_NUMBER, OWNED_WABA, known_id=False)  # read from the WABA
    number_id, e164 = OWNED_NUMBER
    async with port_out_service(service_env, ShiftedClock()), billing(clean.kafka_bootstrap, clean.database_url) \
            as group:
        await kafkaio.produce_event(clean.kafka_bootstrap, asked)
        row = await row_when(db, asked.migration_id, state="awaiting_two_step_off")
        assert (row["ownership"], row["path"], row["ticket"], row["due_at"]) == (
            "owned", "customer_switches_off", None, None)
        async with httpx.AsyncClient(base_url=sandbox_server.url) as admin:  # the admin, in WhatsApp Manager
            refused = await admin.post(f"/_sandbox/numbers/{number_id}/leave", json={"waba_id": NEW_WABA})
            assert refused.status_code == 409  # Meta moves no number whose two-step verification is on
            assert (await admin.post(f"/_sandbox/numbers/{number_id}/two-step/disable")).status_code == 200
            await row_when(db, asked.migration_id, state="awaiting_departure", ticket_closed_at=None)
            taken = await admin.post(f"/_sandbox/numbers/{number_id}/leave", json={"waba_id": NEW_WABA})
        left = datetime.strptime(taken.json()["last_onboarded_time"], "%Y-%m-%dT%H:%M:%S%z")  # the new BSP's
        row = await row_when(db, asked.migration_id, state="departed")
        assert (row["departed_at"], row["detected_by"], row["subscription"]) == (
            left, "read", "customer_told_to_cancel")
        at = left.timestamp()
        await produce(clean.kafka_bootstrap, [status(e164, "m.before", "sent", at - 0.001, number_id=number_id),
                                              status(e164, "m.at", "sent", at, number_id=number_id),
                                              status(e164, "m.after", "sent", at + 1, number_id=number_id)])
        events = await port_out_events(clean.kafka_bootstrap, asked.migration_id, 3)
        await drained(clean.kafka_bootstrap, group)
        billed = await ledger(db, e164)
    assert [e["type"] for e in events] == ["PortOutStarted", "TwoStepVerificationOff", "PhoneDeparted"]
    assert events[1]["detected_by"] == "read" and events[1]["ticket_closed"] is False
    assert {k: v[:3] for k, v in billed.items()} == {
        "m.before": ("partner-a", "sent_before_departure", True),
        "m.at": ("departed", "sent_after_departure", False),
        "m.after": ("departed", "sent_after_departure", False)}


async def test_shared_waba_ticket_reminds_escalates_at_72_hours_and_closes_on_the_security_webhook(
        service_env, world, sandbox_server, db, clean):
    world.load(scenario())
    asked, clock = request(SHARED_NUMBER, SHARED_WABA), ShiftedClock()
    number_id, e164 = SHARED_NUMBER
    async with port_out_service(service_env, clock, port_out_cancels_subscription=True):
        await kafkaio.produce_event(clean.kafka_bootstrap, asked)
        row = await row_when(db, asked.migration_id, state="awaiting_two_step_off")
        assert (row["ownership"], row["path"]) == ("shared", "operations_ticket")
        assert row["due_at"] - row["requested_at"] == 3 * DAY
        clock.advance(DAY)
        await row_when(db, asked.migration_id, reminders=1)
        clock.advance(DAY)
        await row_when(db, asked.migration_id, reminders=2)
        clock.advance(DAY - timedelta(minutes=1))  # a minute before the deadline: Meta read again, nothing more
        looked = clock.now()
        row = await row_when(db, asked.migration_id, lambda r: r["next_check_at"] > looked)
        assert (row["reminders"], row["escalated_at"]) == (2, None)
        clock.advance(timedelta(minutes=1))
        row = await row_when(db, asked.migration_id, lambda r: r["escalated_at"] is not None)
        assert row["escalated_at"] >= row["due_at"] and row["state"] == "awaiting_two_step_off"
        digits = e164.lstrip("+")  # operations switched it off; Meta's security webhook says so
        await webhook(clean.kafka_bootstrap, SHARED_WABA, "security",
                      {"display_phone_number": digits, "event": "PIN_REQUEST_SUCCESS"}, int(clock.now().timestamp()))
        row = await row_when(db, asked.migration_id, state="awaiting_departure")
        assert row["ticket_closed_at"] is not None
        left = int(clock.now().timestamp()) - 5
        await webhook(clean.kafka_bootstrap, NEW_WABA, "phone_number_quality_update",
                      {"display_phone_number": digits, "event": "ONBOARDING", "current_limit": "TIER_1K"}, left)
        row = await row_when(db, asked.migration_id, state="departed")
        events = await port_out_events(clean.kafka_bootstrap, asked.migration_id, 6)
    assert (row["departed_at"].timestamp(), row["detected_by"], row["subscription"]) == (left, "webhook", "cancelled")
    assert [e["type"] for e in events] == ["PortOutStarted", "PortOutReminderSent", "PortOutReminderSent",
                                           "PortOutEscalated", "TwoStepVerificationOff", "PhoneDeparted"]
    assert events[0]["ticket"]["topic"] == "2FA disable request"
    assert events[3]["reason_code"] == "TWO_STEP_TICKET_OVERDUE"
    assert events[4]["detected_by"] == "webhook" and events[4]["ticket_closed"] is True


async def test_a_number_our_waba_no_longer_lists_is_departed_at_once_and_the_listing_is_read_to_its_end(
        service_env, world, sandbox_server, db, clean):
    crowd = scenario()
    others = [{"id": f"5200000000{i:05d}", "waba_id": OWNED_WABA, "display_phone_number": f"+55119876{i:05d}"}
              for i in range(150)]
    crowd["phone_numbers"] = others + crowd["phone_numbers"]
    world.load(crowd)  # the owned number is listed after 150 others: on the second page of 100
    listed, gone = request(OWNED_NUMBER, OWNED_WABA, known_id=False), request(
        ("519999999999999", "+5511987659999"), OWNED_WABA, known_id=False)  # left before anyone asked
    async with port_out_service(service_env, ShiftedClock()):
        for asked in (listed, gone):
            await kafkaio.produce_event(clean.kafka_bootstrap, asked)
        row = await row_when(db, listed.migration_id, state="awaiting_two_step_off")
        left = await row_when(db, gone.migration_id, state="departed")
        events = await port_out_events(clean.kafka_bootstrap, gone.migration_id, 3)
    assert row["phone_number_id"] == OWNED_NUMBER[0]
    assert (left["detected_by"], left["subscription"]) == ("read", "customer_told_to_cancel")
    assert [e["type"] for e in events] == ["PortOutStarted", "TwoStepVerificationOff", "PhoneDeparted"]
    assert datetime.fromisoformat(events[2]["departed_at"]) == left["departed_at"]
