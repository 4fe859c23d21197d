"""A port-out's moves, pure: each fact (a read, a webhook, the clock) gives the row's changes and the events to emit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.partner_change.port_out import domain
from services.partner_change.port_out.domain import AWAITING_DEPARTURE, AWAITING_TWO_STEP_OFF, DEPARTED, Limits
from services.partner_change.port_out.meta_api import NumberState
from shared import events as ev

PRODUCER = "partner_change"


@dataclass(frozen=True)
class PortOut:
    """The saved port-out, as the transitions read it."""

    id: Any
    phone_number: str
    waba_id: str
    partner_id: str
    requested_at: datetime
    state: str
    ticket: dict[str, str] | None
    due_at: datetime | None
    reminders: int
    next_reminder_at: datetime | None
    escalated_at: datetime | None


@dataclass
class Outcome:
    changes: dict[str, Any] = field(default_factory=dict)
    events: list[ev.Event] = field(default_factory=list)
    released: bool = False  # the number is no longer ours: partner change stops counting it among the WABA's


def _event(kind: type[ev.Event], p: PortOut, now: datetime, **fields: Any) -> Any:
    return kind.create(migration_id=p.id, correlation_id=p.id, phone_number=p.phone_number, producer=PRODUCER,
                       occurred_at=now, **fields)


def start(request: ev.PortOutRequested, number_id: str, ownership: str, pin_enabled: bool, now: datetime,
          limits: Limits) -> tuple[dict[str, Any], list[ev.Event]]:
    """The new row and what it announces; a number whose two-step verification is already off skips the wait."""
    plan = domain.plan(ownership, now, limits)
    ticket = domain.ticket(request.phone_number, request.waba_id, request.partner_id, now, plan.due_at) \
        if plan.due_at else None
    row = {"id": request.migration_id, "phone_number": request.phone_number, "waba_id": request.waba_id,
           "phone_number_id": number_id, "partner_id": request.partner_id,
           "requested_by": request.requested_by, "requested_at": now, "ownership": ownership, "path": plan.path,
           "state": AWAITING_TWO_STEP_OFF, "steps": list(plan.steps), "ticket": ticket, "due_at": plan.due_at,
           "next_reminder_at": plan.next_reminder_at, "next_check_at": now}
    p = PortOut(request.migration_id, request.phone_number, request.waba_id, request.partner_id, now,
                AWAITING_TWO_STEP_OFF, ticket, plan.due_at, 0, plan.next_reminder_at, None)
    started = _event(ev.PortOutStarted, p, now, causation_id=request.event_id, path=plan.path,
                     waba_id=request.waba_id, steps=plan.steps, ticket=ticket, due_at=plan.due_at)
    off = Outcome() if pin_enabled else two_step_off(p, "read", now)
    return {**row, **off.changes}, [started, *off.events]


def gone_before_asked(request: ev.PortOutRequested, ownership: str, now: datetime,
                      limits: Limits) -> tuple[dict[str, Any], list[ev.Event]]:
    """Our WABA no longer lists the number: it left before anyone asked, so there is nothing to switch off. Billing
    stops now, the latest instant it can have left (its messages stopped reaching us then anyway)."""
    row, started = start(request, request.phone_number_id or "", ownership, True, now, limits)
    p = PortOut(request.migration_id, request.phone_number, request.waba_id, request.partner_id, now,
                row["state"], row["ticket"], row["due_at"], 0, row["next_reminder_at"], None)
    gone = departed(p, now, "read", now, limits)
    return {**row, **gone.changes}, [*started, *gone.events]


def two_step_off(p: PortOut, detected_by: str, now: datetime) -> Outcome:
    """Meta shows two-step verification off: the ticket (if any) closes itself and we wait for the number to go."""
    if p.state != AWAITING_TWO_STEP_OFF:
        return Outcome()
    closed = p.ticket is not None
    changes = {"state": AWAITING_DEPARTURE, "two_step_off_at": now, "next_reminder_at": None,
               **({"ticket_closed_at": now} if closed else {})}
    return Outcome(changes, [_event(ev.TwoStepVerificationOff, p, now, detected_by=detected_by,
                                    ticket_closed=closed)])


def departed(p: PortOut, at: datetime, detected_by: str, now: datetime, limits: Limits) -> Outcome:
    """The number is on another WABA: billing stops at `at`, the subscription follows the configuration."""
    if p.state == DEPARTED:
        return Outcome()
    off = two_step_off(p, detected_by, now)  # it could not have left with two-step verification on
    subscription = domain.subscription_after(limits)
    changes = {**off.changes, "state": DEPARTED, "departed_at": at, "detected_by": detected_by,
               "subscription": subscription}
    gone = _event(ev.PhoneDeparted, p, now, departed_at=at, waba_id=p.waba_id, partner_id=p.partner_id,
                  detected_by=detected_by, subscription=subscription)
    return Outcome(changes, [*off.events, gone], released=True)


def clock(p: PortOut, now: datetime, limits: Limits) -> Outcome:
    """The ticket's clock: a reminder when one is due, an escalation once the service level ran out."""
    if domain.overdue(p.state, p.due_at, p.escalated_at is not None, now):
        assert p.due_at is not None
        return Outcome({"escalated_at": now, "next_reminder_at": None},
                       [_event(ev.PortOutEscalated, p, now, reason_code=domain.TICKET_OVERDUE, due_at=p.due_at)])
    if domain.reminder_due(p.state, p.next_reminder_at, now):
        assert p.due_at is not None
        reminder = p.reminders + 1
        return Outcome({"reminders": reminder,
                        "next_reminder_at": domain.next_reminder(p.requested_at, reminder, limits)},
                       [_event(ev.PortOutReminderSent, p, now, reminder=reminder, due_at=p.due_at)])
    return Outcome()


def after_read(p: PortOut, state: NumberState, now: datetime, limits: Limits) -> Outcome:
    """What one look at Meta tells: gone from our WABA, two-step verification off, or the ticket's clock."""
    if (at := domain.departure_read(state.listed, state.last_onboarded, p.requested_at, now)) is not None:
        outcome = departed(p, at, "read", now, limits)
    elif not state.pin_enabled:
        outcome = two_step_off(p, "read", now)
    else:
        outcome = clock(p, now, limits)
    outcome.changes["next_check_at"] = now + limits.check_every
    return outcome


def after_webhook(p: PortOut, change: ev.MetaWebhookChange, now: datetime, limits: Limits) -> Outcome:
    """Meta's `security` webhook (two-step verification off), or the number onboarded on a WABA not ours."""
    if domain.two_step_off_in(change.field, change.value):
        return two_step_off(p, "webhook", now)
    at = domain.departure_in(change.field, change.value, change.waba_id, p.waba_id, change.entry_time, now)
    return departed(p, at, "webhook", now, limits) if at is not None else Outcome()
