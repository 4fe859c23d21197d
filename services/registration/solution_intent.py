"""The no-code path's steps: set Meta's solution-migration intent, wait until the customer accepted it, or fall back.

Setting the intent is a Graph write like the others (its attempt is committed first, see saga.run_step). No read
shows an intent by WABA, so an unsettled attempt is sent again once its outcome window passed: Meta keeps one open
intent per WABA and destination and answers it again. Accepted (by webhook or poll) → the number is added and
registered with no code; refused, rejected, expired, or naming another destination → the code path, from the OBO
request, and the timeline says why.
"""

from __future__ import annotations

from services.registration import domain, steps
from services.registration.repository import SagaRow
from shared import events as ev
from shared.events import MetaWebhookChange, parse_webhook_change
from shared.graph import GraphPermanentError

INTENT_TIMERS = ("intent_poll", "intent_expiry")
GOES_ON = {"ACCEPTED", "COMPLETED"}


def path_event(saga: SagaRow, ctx: steps.Context, path: str, reason: str, message: str,
               intent_id: str | None = None) -> ev.Event:
    return steps.event(ev.MigrationPathChosen, saga, ctx.now, path=path, reason_code=reason, message=message,
                       migration_intent_id=intent_id or saga.migration_intent_id)


def fall_back(saga: SagaRow, ctx: steps.Context, reason: str, message: str) -> steps.Outcome:
    """The code path from its first step: the OBO request, then the ownership code."""
    chosen = path_event(saga, ctx, "pin", reason, f"{message} The number moves with an ownership code instead.")
    return steps.Outcome("obo", {"flow": "programmatic"}, [chosen], clear=INTENT_TIMERS)


async def intent_check(saga: SagaRow, ctx: steps.Context, unsettled: bool) -> steps.Outcome | None:
    return None  # nothing to read: sending again answers the open intent (see the module's docstring)


async def intent_send(saga: SagaRow, ctx: steps.Context) -> steps.Outcome:
    try:
        intent_id = await ctx.api.set_migration_intent(saga.source_waba_id or "", saga.intent_solution_id or "")
    except GraphPermanentError as error:
        return fall_back(saga, ctx, "INTENT_REFUSED", f"Meta would not take the migration intent ({error.code}).")
    set_ = path_event(saga, ctx, "solution_intent", "INTENT_SET",
                      f"Migration intent {intent_id} is set: the customer accepts it in Business settings, Requests.",
                      intent_id)
    return steps.Outcome("awaiting_intent", {"migration_intent_id": intent_id}, [set_],
                         {"intent_poll": ctx.now, "intent_expiry": ctx.now + ctx.limits.obo_expiry})


async def on_intent_poll(saga: SagaRow, ctx: steps.Context) -> steps.Outcome:
    intent = await ctx.api.migration_intent(saga.migration_intent_id or "")
    status, destination = intent.get("status"), (intent.get("destination_waba") or {}).get("id")
    if status in GOES_ON and destination not in (None, saga.destination_waba_id):
        return fall_back(saga, ctx, "INTENT_DESTINATION_MISMATCH",
                         f"The accepted intent moves the number to WABA {destination}, not the one requested.")
    if status in GOES_ON:
        accepted = path_event(saga, ctx, "solution_intent", "INTENT_ACCEPTED",
                              "The customer accepted the migration intent: the number moves with no code.")
        return steps.Outcome(domain.after(saga.flow, "awaiting_intent"), events=[accepted], clear=INTENT_TIMERS)
    if status == "REJECTED":
        return fall_back(saga, ctx, "INTENT_REJECTED", "The migration intent was rejected or cancelled.")
    return steps.Outcome(saga.state, timers={"intent_poll": ctx.now + ctx.limits.obo_poll})


async def on_intent_expiry(saga: SagaRow, ctx: steps.Context) -> steps.Outcome:
    return fall_back(saga, ctx, "INTENT_EXPIRED", "The customer did not accept the migration intent in time.")


def account_update(raw: bytes) -> MetaWebhookChange | None:
    """Decode only account_update changes: the webhook stream is mostly message statuses, which registration skips
    without parsing them."""
    return parse_webhook_change(raw) if b'"account_update"' in raw else None


def wabas_of_partner_added(change: MetaWebhookChange) -> list[str]:
    """The WABAs a PARTNER_ADDED names (the entry's, and the one in waba_info); none for any other change."""
    if change.field != "account_update" or change.value.get("event") != "PARTNER_ADDED":
        return []
    named = (change.value.get("waba_info") or {}).get("waba_id")
    return [change.waba_id, *([str(named)] if named else [])]


GRAPH_STEPS: dict[str, tuple[steps.Check, steps.Send]] = {"intent": (intent_check, intent_send)}
