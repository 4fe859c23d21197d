"""Each side-effecting saga step: the Graph write, and the read that proves whether Meta already did it.

`check` runs first whenever an earlier attempt was sent but never settled (a crash, a lost answer), and for
steps whose result may already exist for another reason (an OBO accepted for an earlier number of the WABA,
a WABA already paid through our credit line). Only when Meta's state shows the step did not happen is it sent.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from services.registration import domain
from services.registration.meta_api import MetaRegistrationApi
from services.registration.repository import SagaRow
from shared import events as ev
from shared.errors import TransientError
from shared.graph import GraphPermanentError


@dataclass
class Outcome:
    state: str
    changes: dict[str, object] = field(default_factory=dict)
    events: list[ev.Event] = field(default_factory=list)
    timers: dict[str, datetime] = field(default_factory=dict)
    clear: tuple[str, ...] = ()


@dataclass
class Context:
    api: MetaRegistrationApi
    now: datetime
    limits: domain.Limits
    bsp_business_id: str
    app_id: str
    currency: str
    new_pin: Callable[[], str] = lambda: f"{secrets.randbelow(10**6):06d}"


def event(cls: type[ev.Event], saga: SagaRow, now: datetime, **fields: object) -> ev.Event:
    return cls.create(migration_id=saga.migration_id, phone_number=saga.phone_number,
                      correlation_id=saga.correlation_id, occurred_at=now, producer="registration", **fields)


def next_of(saga: SagaRow, step: str) -> str:
    return domain.after(saga.flow, step)


async def obo_check(saga: SagaRow, ctx: Context, unsettled: bool) -> Outcome | None:
    if await ctx.api.owner_of(saga.destination_waba_id) == saga.business_id:
        return Outcome(domain.after(saga.flow, "awaiting_obo"))  # the customer owns the destination: no OBO needed
    found = await ctx.api.obo_request(saga.destination_waba_id, saga.business_id)
    if found is None:
        return None
    requested = event(ev.OboRequested, saga, ctx.now, obo_request_id=found["id"],
                      destination_waba_id=saga.destination_waba_id)
    if found["status"] == "APPROVE":
        accepted = event(ev.OboAccepted, saga, ctx.now, business_id=saga.business_id,
                         destination_waba_id=saga.destination_waba_id, accepted_at=ctx.now)
        return Outcome(domain.after(saga.flow, "awaiting_obo"), {"obo_request_id": found["id"]}, [requested, accepted])
    return Outcome("awaiting_obo", {"obo_request_id": found["id"]}, [requested], domain.obo_timers(ctx.now, ctx.limits))


async def obo_send(saga: SagaRow, ctx: Context) -> Outcome:
    request_id = await ctx.api.send_obo_request(saga.destination_waba_id, saga.business_id)
    requested = event(ev.OboRequested, saga, ctx.now, obo_request_id=request_id,
                      destination_waba_id=saga.destination_waba_id)
    timers = {**domain.obo_timers(ctx.now, ctx.limits), "obo_poll": ctx.now}  # first look right away
    return Outcome("awaiting_obo", {"obo_request_id": request_id}, [requested], timers)


async def add_number_check(saga: SagaRow, ctx: Context, unsettled: bool) -> Outcome | None:
    if not unsettled:
        return None
    found = await ctx.api.number_in(saga.destination_waba_id, saga.phone_number)
    return _added(saga, ctx, found["id"]) if found else None


def _added(saga: SagaRow, ctx: Context, number_id: str) -> Outcome:
    added = event(ev.PhoneNumberAdded, saga, ctx.now, phone_number_id=number_id,
                  destination_waba_id=saga.destination_waba_id)
    return Outcome(next_of(saga, "add_number"), {"phone_number_id": number_id}, [added])


async def add_number_send(saga: SagaRow, ctx: Context) -> Outcome:
    try:
        return _added(saga, ctx, await ctx.api.add_number(saga.destination_waba_id, saga.phone_number))
    except GraphPermanentError as error:
        if error.code != 2388012:  # "already in the destination" means our earlier call went through
            raise
        found = await add_number_check(saga, ctx, True)
        if found is None:  # Meta says it is there but does not list it yet: look again later, do not resend now
            raise TransientError("number reported in the destination but not listed yet", retry_after=5) from None
        return found


async def request_code_check(saga: SagaRow, ctx: Context, unsettled: bool) -> Outcome | None:
    # No read shows whether a code went out; assume it did rather than text the customer twice.
    return _code_requested(saga, ctx, saga.code_method) if unsettled else None


def _code_requested(saga: SagaRow, ctx: Context, method: str) -> Outcome:
    attempt = saga.code_requests + 1
    requested = event(ev.VerificationCodeRequested, saga, ctx.now, attempt=attempt, method=method,
                      language=domain.language_for(saga.phone_number))
    timers = {"code_escalation": ctx.now + ctx.limits.code_escalation} if attempt == 1 else {}
    return Outcome("awaiting_code", {"code_requests": attempt, "code_method": method, "wrong_codes": 0},
                   [requested], timers)


async def request_code_send(saga: SagaRow, ctx: Context) -> Outcome:
    language = domain.language_for(saga.phone_number)
    try:
        await ctx.api.request_code(saga.phone_number_id or "", saga.code_method, language)
        return _code_requested(saga, ctx, saga.code_method)
    except GraphPermanentError:
        if saga.code_method != "SMS":
            raise
        await ctx.api.request_code(saga.phone_number_id or "", "VOICE", language)  # SMS refused: call instead
        return _code_requested(saga, ctx, "VOICE")


def code_verified(saga: SagaRow, ctx: Context) -> Outcome:
    verified = event(ev.PhoneNumberVerified, saga, ctx.now, phone_number_id=saga.phone_number_id)
    return Outcome(domain.after(saga.flow, "awaiting_code"), {"wrong_codes": 0}, [verified],
                   clear=("code_escalation", "verify_check"))


async def register_check(saga: SagaRow, ctx: Context, unsettled: bool) -> Outcome | None:
    if not unsettled:
        return None
    found = await ctx.api.number_in(saga.destination_waba_id, saga.phone_number)
    return await _registered(saga, ctx) if found and found.get("status") == "LINKED" else None


async def register_send(saga: SagaRow, ctx: Context, pin: str) -> Outcome:
    await ctx.api.register(saga.phone_number_id or "", pin)
    return await _registered(saga, ctx)


async def _registered(saga: SagaRow, ctx: Context) -> Outcome:
    number = await ctx.api.number(saga.phone_number_id or "")
    completed_at = _meta_time(number.get("last_onboarded_time")) or ctx.now
    source_owner = await ctx.api.owner_of(saga.source_waba_id) if saga.source_waba_id else None
    registered = event(ev.PhoneRegistered, saga, ctx.now, phone_number_id=saga.phone_number_id,
                       destination_waba_id=saga.destination_waba_id, completed_at=completed_at,
                       source_partner=f"business:{source_owner or 'unknown'}", destination_partner=saga.partner_id)
    if number.get("status") not in (None, "CONNECTED"):
        return Outcome("setting_up", {"completed_at": completed_at}, [registered],
                       {"setup_poll": ctx.now + ctx.limits.setup_poll,
                        "setup_escalation": ctx.now + ctx.limits.setup_escalation})
    return Outcome(next_of(saga, "register"), {"completed_at": completed_at}, [registered])


def _meta_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.strptime(value.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S%z")


async def credit_line_check(saga: SagaRow, ctx: Context, unsettled: bool) -> Outcome | None:
    funding = await ctx.api.funding_of(saga.destination_waba_id)
    if not funding:
        return None
    shared = [event(ev.CreditLineShared, saga, ctx.now, destination_waba_id=saga.destination_waba_id,
                    allocation_config_id=funding)] if unsettled else []
    return Outcome(next_of(saga, "credit_line"), events=shared)


async def credit_line_send(saga: SagaRow, ctx: Context) -> Outcome:
    allocation = await ctx.api.share_credit_line(ctx.bsp_business_id, saga.destination_waba_id, ctx.currency)
    return Outcome(next_of(saga, "credit_line"), events=[
        event(ev.CreditLineShared, saga, ctx.now, destination_waba_id=saga.destination_waba_id,
              allocation_config_id=allocation)])


async def webhooks_check(saga: SagaRow, ctx: Context, unsettled: bool) -> Outcome | None:
    if ctx.app_id not in await ctx.api.subscribed_app_ids(saga.destination_waba_id):
        return None
    return Outcome(next_of(saga, "webhooks"), events=[
        event(ev.WebhooksSubscribed, saga, ctx.now, destination_waba_id=saga.destination_waba_id)])


async def webhooks_send(saga: SagaRow, ctx: Context) -> Outcome:
    await ctx.api.subscribe(saga.destination_waba_id)
    return Outcome(next_of(saga, "webhooks"), events=[
        event(ev.WebhooksSubscribed, saga, ctx.now, destination_waba_id=saga.destination_waba_id)])


ContextFactory = Callable[[datetime], Context]
Check = Callable[[SagaRow, Context, bool], Awaitable[Outcome | None]]
Send = Callable[[SagaRow, Context], Awaitable[Outcome]]
GRAPH_STEPS: dict[str, tuple[Check, Send]] = {
    "obo": (obo_check, obo_send),
    "add_number": (add_number_check, add_number_send),
    "request_code": (request_code_check, request_code_send),
    "credit_line": (credit_line_check, credit_line_send),
    "webhooks": (webhooks_check, webhooks_send),
}
