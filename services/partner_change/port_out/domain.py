"""Port-out rules, as 360dialog's port-out page reads: who switches two-step verification off, by when, what tells
us the number left, and what happens to the customer's subscription. Pure: `now` comes in, nothing is read here.

- Owned WABA (onboarded through Embedded Signup): the business admin switches two-step verification off in
  WhatsApp Manager; we show how and watch the number until it is off.
- Shared WABA (classic signup, our business owns it on the customer's behalf): a "2FA disable request" ticket for
  our operations team, answered within 48-72 h; reminders before, an escalation when the 72 h run out.
- Meta has no call that switches two-step verification off, so both paths end the same way: `is_pin_enabled`
  reads false, or a `security` webhook says PIN_REQUEST_SUCCESS; the ticket then closes itself.
- After the number left, the customer cancels its subscription so it is not charged again (or we cancel it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

OWNED, SHARED = "owned", "shared"
PATHS = {OWNED: "customer_switches_off", SHARED: "operations_ticket"}
AWAITING_TWO_STEP_OFF, AWAITING_DEPARTURE, DEPARTED = "awaiting_two_step_off", "awaiting_departure", "departed"
OPEN_STATES = (AWAITING_TWO_STEP_OFF, AWAITING_DEPARTURE)
TICKET_OVERDUE = "TWO_STEP_TICKET_OVERDUE"
TWO_STEP_OFF_SIGNAL = "PIN_REQUEST_SUCCESS"  # Meta's security webhook once the switch-off went through

STEPS = {
    OWNED: (
        "An admin of your business opens WhatsApp Manager, Account tools, Phone numbers.",
        "Select the number, open its settings, Two-step verification, and turn two-step verification off.",
        "Confirm through the link Meta e-mails to the admin.",
        "Nothing else to tell us: we see the change ourselves and then the new provider can take the number.",
    ),
    SHARED: (
        "Our operations team switches two-step verification off for you (we hold this WABA for you).",
        "This takes up to 72 hours; you can follow it here and need not write to us.",
        "Once it is off, give the number to your new provider.",
    ),
}


@dataclass(frozen=True)
class Limits:
    """The ticket's service level (360dialog promises 48-72 h) and how often we look at Meta (configurable)."""

    service_level: timedelta = timedelta(hours=72)
    remind_every: timedelta = timedelta(hours=24)  # reminders at 24 h and 48 h, the promise's lower bound
    check_every: timedelta = timedelta(minutes=5)
    cancel_subscription: bool = False  # True: we cancel the customer's subscription ourselves when it leaves


@dataclass(frozen=True)
class Plan:
    ownership: str
    path: str
    steps: tuple[str, ...]
    due_at: datetime | None
    next_reminder_at: datetime | None


def ownership(owner_business_id: str | None, on_behalf_of_business_id: str | None, our_business_id: str) -> str:
    """Shared when our business owns the WABA on the customer's behalf; otherwise the customer owns it."""
    return SHARED if owner_business_id == our_business_id and on_behalf_of_business_id else OWNED


def plan(ownership_: str, now: datetime, limits: Limits) -> Plan:
    """What must happen for this WABA; only a shared WABA gets a ticket with a clock."""
    if ownership_ == OWNED:
        return Plan(OWNED, PATHS[OWNED], STEPS[OWNED], None, None)
    return Plan(SHARED, PATHS[SHARED], STEPS[SHARED], now + limits.service_level, next_reminder(now, 0, limits))


def ticket(phone_number: str, waba_id: str, partner_id: str, opened_at: datetime, due_at: datetime) -> dict[str, str]:
    """The operations ticket: topic, the number and WABA to act on, and the deadline."""
    return {"topic": "2FA disable request", "phone_number": phone_number, "waba_id": waba_id,
            "partner_id": partner_id, "opened_at": opened_at.isoformat(), "due_at": due_at.isoformat(),
            "action": "Switch two-step verification off in WhatsApp Manager; numport closes this ticket itself."}


def next_reminder(opened_at: datetime, reminders: int, limits: Limits) -> datetime | None:
    """Every `remind_every` after the ticket opened, while that is before the deadline."""
    at = opened_at + limits.remind_every * (reminders + 1)
    return at if at < opened_at + limits.service_level else None


def overdue(state: str, due_at: datetime | None, escalated: bool, now: datetime) -> bool:
    """The clock ran out with two-step verification still on, and nobody was told yet."""
    return state == AWAITING_TWO_STEP_OFF and due_at is not None and now >= due_at and not escalated


def reminder_due(state: str, next_reminder_at: datetime | None, now: datetime) -> bool:
    return state == AWAITING_TWO_STEP_OFF and next_reminder_at is not None and now >= next_reminder_at


def two_step_off_in(field: str, value: dict[str, Any]) -> bool:
    """A `security` webhook saying the switch-off went through."""
    return field == "security" and value.get("event") == TWO_STEP_OFF_SIGNAL


def departure_in(field: str, value: dict[str, Any], entry_waba_id: str, our_waba_id: str,
                 entry_time: int | None, now: datetime) -> datetime | None:
    """Meta onboarding the number on a WABA that is not ours: it left at the entry's time."""
    if field != "phone_number_quality_update" or value.get("event") != "ONBOARDING" or entry_waba_id == our_waba_id:
        return None
    return datetime.fromtimestamp(entry_time, UTC) if entry_time is not None else now


def departure_read(listed: bool, last_onboarded: datetime | None, requested_at: datetime,
                   now: datetime) -> datetime | None:
    """Our WABA no longer lists the number: it left when Meta onboarded it elsewhere (its `last_onboarded_time`),
    or, when Meta shows no onboarding since the request (at Meta's precision, whole seconds), when we saw it gone."""
    if listed:
        return None
    since = requested_at.replace(microsecond=0)
    return last_onboarded if last_onboarded is not None and since <= last_onboarded <= now else now


def subscription_after(limits: Limits) -> str:
    return "cancelled" if limits.cancel_subscription else "customer_told_to_cancel"


def meta_time(text: str | None) -> datetime | None:
    """Meta's `2025-11-24T10:00:00+0000`."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC) if text else None

