"""Precheck rules, one small function per checklist item of the migration documents; no I/O.

Each check reads the facts gathered from the Graph API and answers pass, fail (with a stable reason code, our
own message and remedy, and who must act) or not applicable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.events import (
    CheckOutcome,
    Event,
    MigrationNotNeeded,
    MigrationRequested,
    NumberEligible,
    NumberIneligible,
)
from shared.phone import BrazilNinthDigit, brazil_ninth_digit


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


Check = Callable[[MigrationRequested, Facts], CheckOutcome]
PLATFORM_OF_SOURCE = {
    "bsp_cloud_api": "CLOUD_API",
    "bsp_on_premises": "ON_PREMISE",
    "own_on_premises": "ON_PREMISE",
}


def _pass(name: str) -> CheckOutcome:
    return CheckOutcome(check=name, status="pass")


def _fail(name: str, code: str, message: str, remedy: str, actor: str) -> CheckOutcome:
    return CheckOutcome(
        check=name, status="fail", reason_code=code, message=message, remedy=remedy, actor=actor
    )


def _verdict(name: str, ok: bool, code: str, message: str, remedy: str, actor: str) -> CheckOutcome:
    return _pass(name) if ok else _fail(name, code, message, remedy, actor)


def business_verified(req: MigrationRequested, f: Facts) -> CheckOutcome:
    return _verdict(
        "business_verified",
        f.business_verified,
        "BUSINESS_NOT_VERIFIED",
        "Meta has not verified this business yet.",
        "Finish business verification in Business Manager's Security Centre, then ask again.",
        "customer",
    )


def same_business(req: MigrationRequested, f: Facts) -> CheckOutcome:
    return _verdict(
        "same_business",
        f.source_waba_business_id in (None, req.business_id),
        "BUSINESS_MISMATCH",
        "The business ID given is not the one that the number's current WABA belongs to.",
        "Look up which Business Manager manages the number (ask the current provider) and resubmit "
        "with that ID.",
        "customer",
    )


def admin_access(req: MigrationRequested, f: Facts) -> CheckOutcome:
    return _verdict(
        "admin_access",
        req.admin_access_confirmed,
        "ADMIN_ACCESS_NOT_CONFIRMED",
        "Nobody confirmed admin access to the Business Manager; the OBO request needs an admin to accept.",
        "Have a Business Manager admin submit or confirm the request.",
        "customer",
    )


def source_waba_approved(req: MigrationRequested, f: Facts) -> CheckOutcome:
    return _verdict(
        "source_waba_approved",
        f.source_waba_approved,
        "SOURCE_WABA_NOT_APPROVED",
        "The current WABA's review is not approved.",
        "Wait for Meta's account review to pass or resolve what it flagged.",
        "current_bsp",
    )


def source_waba_payment(req: MigrationRequested, f: Facts) -> CheckOutcome:
    return _verdict(
        "source_waba_payment",
        f.source_waba_has_payment_method,
        "SOURCE_WABA_NO_PAYMENT_METHOD",
        "The current WABA has no valid payment method.",
        "Add a payment method under the WABA's payment settings.",
        "customer",
    )


def two_step_disabled(req: MigrationRequested, f: Facts) -> CheckOutcome:
    if not f.two_step_enabled:
        return _pass("two_step_disabled")
    if f.source_waba_shared:
        return _fail(
            "two_step_disabled",
            "TWO_STEP_ENABLED_SHARED_WABA",
            "Two-step verification is on, and the WABA is shared by the current provider.",
            "Ask the current provider to switch two-step verification off; providers often take "
            "two to three days.",
            "current_bsp",
        )
    return _fail(
        "two_step_disabled",
        "TWO_STEP_ENABLED_OWNED_WABA",
        "Two-step verification is on.",
        "A WABA admin switches it off in WhatsApp Manager (phone number settings).",
        "customer",
    )


def display_name_approved(req: MigrationRequested, f: Facts) -> CheckOutcome:
    return _verdict(
        "display_name_approved",
        f.name_status == "APPROVED",
        "DISPLAY_NAME_NOT_APPROVED",
        f"The display name status is {f.name_status}, not APPROVED.",
        "Get the display name approved before migrating.",
        "customer",
    )


def no_pending_name_change(req: MigrationRequested, f: Facts) -> CheckOutcome:
    return _verdict(
        "no_pending_name_change",
        not f.name_change_pending,
        "DISPLAY_NAME_CHANGE_PENDING",
        "A display-name change is under review.",
        "Wait until Meta decides on the new name (or withdraw it), then migrate.",
        "customer",
    )


def not_test_number(req: MigrationRequested, f: Facts) -> CheckOutcome:
    return _verdict(
        "not_test_number",
        not f.test_number,
        "TEST_NUMBER",
        "This is a test number issued by WhatsApp; those never migrate.",
        "Use a real business number; create a fresh test number on the destination if needed.",
        "customer",
    )


def not_sandbox_account(req: MigrationRequested, f: Facts) -> CheckOutcome:
    return _verdict(
        "not_sandbox_account",
        f.account_mode != "SANDBOX",
        "SANDBOX_ACCOUNT",
        "The number's account is in SANDBOX mode.",
        "Take the account live (verified business, approved WABA) before migrating.",
        "customer",
    )


def source_platform(req: MigrationRequested, f: Facts) -> CheckOutcome:
    expected = PLATFORM_OF_SOURCE[req.source]
    return _verdict(
        "source_platform",
        f.platform == expected,
        "SOURCE_PLATFORM_MISMATCH",
        f"The request says the number runs on {expected}, but Meta reports {f.platform}.",
        "Resubmit with the source that matches where the number runs today.",
        "numport",
    )


def website_live(req: MigrationRequested, f: Facts) -> CheckOutcome:
    if f.website_live is None:
        return CheckOutcome(check="website_live", status="not_applicable")
    return _verdict(
        "website_live",
        f.website_live,
        "WEBSITE_DOWN",
        f"The business website {req.website} did not answer.",
        "Bring the site back up, or correct the URL under Business Info in Business Manager.",
        "customer",
    )


def brazil_number_as_registered(req: MigrationRequested, f: Facts) -> CheckOutcome:
    verdict = brazil_ninth_digit(req.phone_number, f.registered_number)
    if verdict is BrazilNinthDigit.NOT_BRAZILIAN:
        return CheckOutcome(check="brazil_ninth_digit", status="not_applicable")
    return _verdict(
        "brazil_ninth_digit",
        verdict is BrazilNinthDigit.SAME,
        "BR_NINTH_DIGIT_MISMATCH",
        f"The number was given as {req.phone_number} but is registered as {f.registered_number}.",
        "Submit the number exactly as the current WhatsApp profile shows it, with or without the 9.",
        "customer",
    )


def destination_webhooks(req: MigrationRequested, f: Facts) -> CheckOutcome:
    return _verdict(
        "destination_webhooks",
        f.destination_apps_subscribed > 0,
        "DESTINATION_NO_WEBHOOK_APP",
        "No app is subscribed to webhooks on the destination WABA.",
        "Subscribe our app to the destination WABA's webhooks (subscribed_apps).",
        "numport",
    )


ALL_CHECKS: tuple[Check, ...] = (
    business_verified,
    same_business,
    admin_access,
    source_waba_approved,
    source_waba_payment,
    two_step_disabled,
    display_name_approved,
    no_pending_name_change,
    not_test_number,
    not_sandbox_account,
    source_platform,
    website_live,
    brazil_number_as_registered,
    destination_webhooks,
)


def not_needed(f: Facts) -> tuple[str, str] | None:
    """A number held by no WABA is simply added; one already in the destination has moved."""
    if f.in_destination:
        return "already_moved", "The number is already in the destination WABA; manage it there."
    if f.source_known and f.registered_number is None:
        return "add_directly", "No WABA holds this number; add it to the destination as a new number."
    return None


def run_checks(
    req: MigrationRequested, f: Facts, checks: tuple[Check, ...] = ALL_CHECKS
) -> list[CheckOutcome]:
    return [check(req, f) for check in checks]


def decide(
    req: MigrationRequested, f: Facts, now: datetime, producer: str = "precheck"
) -> tuple[str, list[CheckOutcome], Event]:
    """The precheck verdict as an event: not needed, ineligible with every blocker, or eligible."""
    if (reason := not_needed(f)) is not None:
        outcome, message = reason
        return (
            outcome,
            [],
            MigrationNotNeeded.create(
                cause=req, occurred_at=now, producer=producer, outcome=outcome, message=message
            ),
        )
    report = run_checks(req, f)
    failed = tuple(c.reason_code for c in report if c.status == "fail" and c.reason_code)
    if failed:
        return (
            "ineligible",
            report,
            NumberIneligible.create(
                cause=req, occurred_at=now, producer=producer, report=tuple(report), failed=failed
            ),
        )
    return (
        "eligible",
        report,
        NumberEligible.create(
            cause=req,
            occurred_at=now,
            producer=producer,
            report=tuple(report),
            source_waba_id=req.source_waba_id,
        ),
    )
