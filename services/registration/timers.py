"""What each durable timer does when it comes due: poll the OBO request, remind, expire, escalate, re-check setup.

A timer's effect and its removal (or rescheduling) commit together with the saga's change; a crash before that
leaves the timer due, so it fires again after a restart.
"""

from __future__ import annotations

from services.registration import domain, solution_intent, steps
from services.registration.repository import SagaRow
from shared import events as ev
from shared.metrics import SAGA_ESCALATIONS

OBO_TIMERS = ("obo_poll", "obo_reminder", "obo_expiry")
REFUSED_OBO = {"DECLINE", "EXPIRED", "CANCELED", "INVALID"}


async def on_obo_poll(saga: SagaRow, ctx: steps.Context) -> steps.Outcome:
    status = await ctx.api.obo_status(saga.obo_request_id or "")
    if status == "APPROVE":
        accepted = steps.event(ev.OboAccepted, saga, ctx.now, business_id=saga.business_id,
                               destination_waba_id=saga.destination_waba_id, accepted_at=ctx.now)
        return steps.Outcome(domain.after(saga.flow, "awaiting_obo"), events=[accepted], clear=OBO_TIMERS)
    if status in REFUSED_OBO:
        return failed(saga, ctx, "obo", f"OBO_{status}", f"The customer's business answered our request: {status}.")
    return steps.Outcome(saga.state, timers={"obo_poll": ctx.now + ctx.limits.obo_poll})


async def on_obo_reminder(saga: SagaRow, ctx: steps.Context) -> steps.Outcome:
    reminder = saga.obo_reminders + 1
    return steps.Outcome(saga.state, {"obo_reminders": reminder},
                         [steps.event(ev.OboReminderSent, saga, ctx.now, reminder=reminder)],
                         {"obo_reminder": ctx.now + ctx.limits.obo_reminder})


async def on_obo_expiry(saga: SagaRow, ctx: steps.Context) -> steps.Outcome:
    return failed(saga, ctx, "obo", "OBO_NOT_ACCEPTED",
                  "The customer did not accept our Message-on-Behalf request in time; start again when they can.")


async def on_code_escalation(saga: SagaRow, ctx: steps.Context) -> steps.Outcome:
    return await escalate(saga, ctx, "NO_CODE_WITHIN_1H", "code_escalation")


async def on_verify_check(saga: SagaRow, ctx: steps.Context) -> steps.Outcome:
    """A code entry whose answer never came (a crash, a lost answer): Meta's number state says if it went through."""
    if await ctx.api.code_verified(saga.phone_number_id or ""):
        return steps.code_verified(saga, ctx)
    return steps.Outcome(saga.state, clear=("verify_check",))  # Meta did not take it: the customer types again


async def on_setup_poll(saga: SagaRow, ctx: steps.Context) -> steps.Outcome:
    if (await ctx.api.number(saga.phone_number_id or "")).get("status") == "CONNECTED":
        return steps.Outcome(domain.after(saga.flow, "register"), clear=("setup_poll", "setup_escalation"))
    return steps.Outcome(saga.state, timers={"setup_poll": ctx.now + ctx.limits.setup_poll})


async def on_setup_escalation(saga: SagaRow, ctx: steps.Context) -> steps.Outcome:
    return await escalate(saga, ctx, "SETUP_OVER_1H", "setup_escalation")


async def on_templates_deadline(saga: SagaRow, ctx: steps.Context) -> steps.Outcome:
    """The templates did not arrive within the bound: register anyway, and say so on the timeline."""
    waited = ctx.limits.templates_wait.total_seconds()
    expired = steps.event(ev.TemplateWaitExpired, saga, ctx.now, waited_seconds=waited, message=(
        f"The templates were not on the destination after {waited:.0f} s, so the number is registered without "
        "them; templates still missing are unusable until copied (the timeline shows the downtime)."))
    return steps.Outcome(domain.after(saga.flow, "awaiting_templates"), events=[expired],
                         clear=("templates_deadline",))


async def escalate(saga: SagaRow, ctx: steps.Context, reason: str, timer: str) -> steps.Outcome:
    """Open a support ticket with what an onboarding team needs; the saga keeps waiting for the customer."""
    source_owner = await ctx.api.owner_of(saga.source_waba_id) if saga.source_waba_id else None
    number = await live_number(saga, ctx)
    ticket = domain.support_ticket(
        current_bsp=f"business:{source_owner or 'unknown'}", business_verified=await ctx.api.business_verified(
            saga.business_id), platform=str(number.get("platform_type") or ""),
        number_status=str(number.get("status", "unknown")), waba_id=saga.source_waba_id or "unknown",
        business_id=saga.business_id, phone_number=saga.phone_number)
    escalated = steps.event(ev.MigrationEscalated, saga, ctx.now, reason_code=reason, ticket=ticket)
    SAGA_ESCALATIONS.labels(reason).inc()
    return steps.Outcome(saga.state, {"escalations": [*saga.escalations, reason]}, [escalated], clear=(timer,))


async def live_number(saga: SagaRow, ctx: steps.Context) -> dict:
    """The number as Meta shows it now: by its id once added to the destination, else in the source WABA."""
    if saga.phone_number_id:
        return await ctx.api.number(saga.phone_number_id)
    if saga.source_waba_id:
        return await ctx.api.number_in(saga.source_waba_id, saga.phone_number) or {}
    return {}


def failed(saga: SagaRow, ctx: steps.Context, step: str, reason: str, message: str) -> steps.Outcome:
    event = steps.event(ev.MigrationFailed, saga, ctx.now, step=step, reason_code=reason, message=message)
    return steps.Outcome("failed", events=[event], clear=ALL_TIMERS)


ALL_TIMERS = ("advance", *OBO_TIMERS, "code_escalation", "verify_check", "setup_poll", "setup_escalation",
              "templates_deadline", *solution_intent.INTENT_TIMERS)
WAITS_FOR = {"obo_poll": "awaiting_obo", "obo_reminder": "awaiting_obo", "obo_expiry": "awaiting_obo",
             "code_escalation": "awaiting_code", "verify_check": "awaiting_code", "setup_poll": "setting_up",
             "setup_escalation": "setting_up", "templates_deadline": "awaiting_templates",
             "intent_poll": "awaiting_intent", "intent_expiry": "awaiting_intent"}
SETTLES = {"verify_check": "verify_code"}  # the step attempt a timer's outcome settles
HANDLERS = {"obo_poll": on_obo_poll, "obo_reminder": on_obo_reminder, "obo_expiry": on_obo_expiry,
            "code_escalation": on_code_escalation, "verify_check": on_verify_check, "setup_poll": on_setup_poll,
            "setup_escalation": on_setup_escalation, "templates_deadline": on_templates_deadline,
            "intent_poll": solution_intent.on_intent_poll, "intent_expiry": solution_intent.on_intent_expiry}
