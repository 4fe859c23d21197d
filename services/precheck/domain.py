"""Precheck's pure core: the facts a verdict rests on, how a rule reports, and the verdict itself; no I/O."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.precheck import solution_path
from shared.events import CheckOutcome, Event, MigrationNotNeeded, MigrationRequested, NumberEligible, NumberIneligible


@dataclass(frozen=True)
class Facts:
    """What Meta reports about the business, the source WABA, the number and the destination WABA."""

    business_verified: bool
    source_waba_business_id: str | None
    source_waba_approved: bool
    source_waba_has_payment_method: bool
    source_waba_shared: bool
    registered_number: str | None  # E.164 as registered; None when no WABA holds the number
    in_destination: bool
    two_step_enabled: bool
    name_status: str
    name_change_pending: bool
    test_number: bool
    account_mode: str
    platform: str
    destination_apps_subscribed: int
    website_live: bool | None  # None: no website given
    source_known: bool = True  # False when the request named no source WABA to read
    number_id: str | None = None  # the number's Graph id, when a WABA holds it
    on_biz_app: bool = False  # also on the WhatsApp Business app (coexistence)
    source_waba_owner: str | None = None  # the portfolios that own the WABAs (not whom they serve)
    destination_waba_owner: str | None = None
    destination_solution_id: str | None = None  # the destination WABA's Multi-Partner Solution, if any
    destination_solution_status: str | None = None


@dataclass(frozen=True)
class Blocker:
    """A failed check: stable code, who must act, what is wrong and how to fix it."""

    code: str
    actor: str
    message: str
    remedy: str


NOT_APPLICABLE = object()
Check = Callable[[MigrationRequested, Facts], CheckOutcome]


def rule(fn: Callable[[MigrationRequested, Facts], Any]) -> Check:
    """Turn a rule returning Blocker / None / NOT_APPLICABLE into a check reporting under the rule's name."""

    @functools.wraps(fn)
    def check(req: MigrationRequested, facts: Facts) -> CheckOutcome:
        found = fn(req, facts)
        if found is NOT_APPLICABLE:
            return CheckOutcome(check=fn.__name__, status="not_applicable")
        if isinstance(found, Blocker):
            return CheckOutcome(check=fn.__name__, status="fail", reason_code=found.code, message=found.message,
                                remedy=found.remedy, actor=found.actor)
        return CheckOutcome(check=fn.__name__, status="pass")

    return check


def not_needed(f: Facts) -> tuple[str, str] | None:
    """A number held by no WABA is simply added; one already in the destination has moved."""
    if f.in_destination:
        return "already_moved", "The number is already in the destination WABA; manage it there."
    if f.source_known and f.registered_number is None:
        return "add_directly", "No WABA holds this number; add it to the destination as a new number."
    return None


def run_checks(req: MigrationRequested, f: Facts, every: Iterable[Check],
               applied: Iterable[Check]) -> list[CheckOutcome]:
    """Every check in checklist order; those the flow does not use are reported as not applicable."""
    used = set(applied)
    return [check(req, f) if check in used else CheckOutcome(check=check.__name__, status="not_applicable")
            for check in every]


def decide(req: MigrationRequested, f: Facts, now: datetime, every: tuple[Check, ...], applied: tuple[Check, ...],
           producer: str = "precheck") -> tuple[str, list[CheckOutcome], Event]:
    """The verdict as an event: no migration needed, ineligible with every blocker, or eligible."""
    common = dict(cause=req, occurred_at=now, producer=producer)
    if (reason := not_needed(f)) is not None:
        outcome, message = reason
        return outcome, [], MigrationNotNeeded.create(**common, outcome=outcome, message=message)
    report = run_checks(req, f, every, applied)
    failed = tuple(c.reason_code for c in report if c.status == "fail" and c.reason_code)
    if failed:
        return "ineligible", report, NumberIneligible.create(**common, report=tuple(report), failed=failed)
    return "eligible", report, NumberEligible.create(
        **common, report=tuple(report), partner_id=req.partner_id, business_id=req.business_id,
        destination_waba_id=req.destination_waba_id, flow=req.flow, source=req.source,
        source_waba_id=req.source_waba_id, phone_number_id=f.number_id,
        solution_migration=solution_path.qualification(req, f))


def lookup_refused(req: MigrationRequested, now: datetime, meta_says: str,
                   producer: str = "precheck") -> tuple[str, list[CheckOutcome], Event]:
    """Meta would not show us the business, a WABA or the number: nothing else can be checked."""
    report = [CheckOutcome(check="meta_lookup", status="fail", reason_code="META_LOOKUP_REFUSED", actor="customer",
                           message=f"Meta refused to show an object of this request: {meta_says}",
                           remedy="Check the business, WABA and number IDs, and that our app may read them.")]
    return "ineligible", report, NumberIneligible.create(cause=req, occurred_at=now, producer=producer,
                                                         report=tuple(report), failed=("META_LOOKUP_REFUSED",))
