"""Port-out rules without infrastructure: who switches two-step verification off, the ticket's clock, departures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.partner_change.port_out import domain, transitions
from services.partner_change.port_out.meta_api import NumberState

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
US, CUSTOMER = "100000000000009", "100000000000001"


def test_a_waba_we_hold_for_the_customer_is_shared_any_other_is_the_customers_own():
    assert domain.ownership(US, CUSTOMER, US) == domain.SHARED
    assert domain.ownership(CUSTOMER, None, US) == domain.OWNED
    assert domain.ownership(US, None, US) == domain.OWNED  # our own WABA, held for nobody: no ticket to ourselves


def test_only_a_shared_waba_gets_a_ticket_with_reminders_before_its_72_hours():
    limits = domain.Limits()
    owned, shared = domain.plan(domain.OWNED, T, limits), domain.plan(domain.SHARED, T, limits)
    assert (owned.path, owned.due_at, owned.next_reminder_at) == ("customer_switches_off", None, None)
    assert (shared.path, shared.due_at) == ("operations_ticket", T + timedelta(hours=72))
    reminders = [domain.next_reminder(T, n, limits) for n in range(3)]
    assert reminders == [T + timedelta(hours=24), T + timedelta(hours=48), None]


def port_out(**changes) -> transitions.PortOut:
    base = dict(id=uuid.uuid4(), phone_number="+5511987650001", waba_id="210", partner_id="partner-a",
                requested_at=T, state=domain.AWAITING_TWO_STEP_OFF, ticket={"topic": "2FA disable request"},
                due_at=T + timedelta(hours=72), reminders=2, next_reminder_at=None, escalated_at=None)
    return transitions.PortOut(**{**base, **changes})


def test_the_clock_escalates_once_at_the_deadline_and_never_after_two_step_is_off():
    limits = domain.Limits()
    assert transitions.clock(port_out(), T + timedelta(hours=71, minutes=59), limits).events == []
    [escalated] = transitions.clock(port_out(), T + timedelta(hours=72), limits).events
    assert escalated.reason_code == domain.TICKET_OVERDUE
    assert transitions.clock(port_out(escalated_at=T + timedelta(hours=72)), T + timedelta(days=9), limits).events == []
    assert transitions.clock(port_out(state=domain.AWAITING_DEPARTURE), T + timedelta(days=9), limits).events == []


def test_a_read_showing_the_number_gone_departs_it_at_metas_onboarding_instant_and_closes_the_ticket():
    onboarded = T + timedelta(hours=5)
    outcome = transitions.after_read(port_out(), NumberState(False, False, onboarded), T + timedelta(hours=6),
                                     domain.Limits(cancel_subscription=True))
    assert [type(e).__name__ for e in outcome.events] == ["TwoStepVerificationOff", "PhoneDeparted"]
    assert outcome.events[1].departed_at == onboarded and outcome.events[1].subscription == "cancelled"
    assert outcome.changes["state"] == domain.DEPARTED and outcome.changes["ticket_closed_at"] is not None


def test_an_onboarding_before_the_request_is_not_this_departure():
    seen = T + timedelta(hours=1)
    assert domain.departure_read(False, T - timedelta(days=30), T, seen) == seen
    assert domain.departure_read(True, T + timedelta(minutes=5), T, seen) is None


def test_only_onboarding_on_a_waba_not_ours_is_a_departure_and_only_pin_request_success_is_two_step_off():
    assert domain.departure_in("phone_number_quality_update", {"event": "ONBOARDING"}, "999", "210", 1, T) \
        == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert domain.departure_in("phone_number_quality_update", {"event": "ONBOARDING"}, "210", "210", 1, T) is None
    assert domain.two_step_off_in("security", {"event": "PIN_REQUEST_SUCCESS"})
    assert not domain.two_step_off_in("security", {"event": "PIN_CHANGED"})
