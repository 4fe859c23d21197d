"""The migration checklist, one rule per item of the source documents; each returns a Blocker or nothing.

Messages and remedies are ours; the conditions come from Meta's migration guides (DE/FR), 360dialog's
On-Premises and partner-change documents, and Sinch's migration page (PT).
"""

from __future__ import annotations

from services.precheck.domain import NOT_APPLICABLE, Blocker, Facts, rule
from shared.events import MigrationRequested
from shared.phone import BrazilNinthDigit, brazil_ninth_digit

PLATFORM_OF_SOURCE = {"bsp_cloud_api": "CLOUD_API", "bsp_on_premises": "ON_PREMISE", "own_on_premises": "ON_PREMISE"}


@rule
def business_verified(req: MigrationRequested, f: Facts) -> Blocker | None:
    if not f.business_verified:
        return Blocker("BUSINESS_NOT_VERIFIED", "customer", "Meta has not verified this business yet.",
                       "Finish business verification in Business Manager's Security Centre, then ask again.")
    return None


@rule
def same_business(req: MigrationRequested, f: Facts) -> Blocker | None:
    if f.source_waba_business_id not in (None, req.business_id):
        return Blocker("BUSINESS_MISMATCH", "customer",
                       "The business ID given is not the business the number's current WABA belongs to.",
                       "Ask the current provider which Business Manager manages the number and resubmit with that ID.")
    return None


@rule
def admin_access(req: MigrationRequested, f: Facts) -> Blocker | None:
    if not req.admin_access_confirmed:
        return Blocker("ADMIN_ACCESS_NOT_CONFIRMED", "customer",
                       "Nobody confirmed admin access to Business Manager; only an admin can accept our request.",
                       "Have a Business Manager admin submit the request or confirm access.")
    return None


@rule
def source_waba_approved(req: MigrationRequested, f: Facts) -> Blocker | None:
    if not f.source_waba_approved:
        return Blocker("SOURCE_WABA_NOT_APPROVED", "current_bsp", "Meta's review of the current WABA is not approved.",
                       "Wait for the account review to pass, or fix what it flagged, before migrating.")
    return None


@rule
def source_waba_payment(req: MigrationRequested, f: Facts) -> Blocker | None:
    if not f.source_waba_has_payment_method:
        return Blocker("SOURCE_WABA_NO_PAYMENT_METHOD", "customer", "The current WABA has no valid payment method.",
                       "Add a payment method in the WABA's payment settings.")
    return None


@rule
def two_step_disabled(req: MigrationRequested, f: Facts) -> Blocker | None:
    if f.two_step_enabled and f.source_waba_shared:
        return Blocker("TWO_STEP_ENABLED_SHARED_WABA", "current_bsp",
                       "Two-step verification is on, and the current provider holds the WABA.",
                       "Ask the current provider to switch two-step verification off; allow them two to three days.")
    if f.two_step_enabled:
        return Blocker("TWO_STEP_ENABLED_OWNED_WABA", "customer", "Two-step verification is on.",
                       "A WABA admin switches it off in WhatsApp Manager, under the number's settings.")
    return None


@rule
def display_name_approved(req: MigrationRequested, f: Facts) -> Blocker | None:
    if f.name_status != "APPROVED":
        return Blocker("DISPLAY_NAME_NOT_APPROVED", "customer", f"The display name is {f.name_status}, not APPROVED.",
                       "Get the display name approved before migrating.")
    return None


@rule
def no_pending_name_change(req: MigrationRequested, f: Facts) -> Blocker | None:
    if f.name_change_pending:
        return Blocker("DISPLAY_NAME_CHANGE_PENDING", "customer", "A display-name change is waiting for review.",
                       "Wait for Meta's decision on the new name, or withdraw it, then migrate.")
    return None


@rule
def not_test_number(req: MigrationRequested, f: Facts) -> Blocker | None:
    if f.test_number:
        return Blocker("TEST_NUMBER", "customer", "This is a test number issued by WhatsApp; those never migrate.",
                       "Migrate a real business number; create a new test number on the destination if needed.")
    return None


@rule
def not_sandbox_account(req: MigrationRequested, f: Facts) -> Blocker | None:
    if f.account_mode == "SANDBOX":
        return Blocker("SANDBOX_ACCOUNT", "customer", "The number's account is still in SANDBOX mode.",
                       "Take the account live (verified business, approved WABA) before migrating.")
    return None


@rule
def source_platform(req: MigrationRequested, f: Facts) -> Blocker | None:
    expected = PLATFORM_OF_SOURCE[req.source]
    if f.registered_number is not None and f.platform != expected:
        return Blocker("SOURCE_PLATFORM_MISMATCH", "numport",
                       f"The request says the number runs on {expected}, but Meta reports {f.platform}.",
                       "Resubmit with the source that matches where the number runs today.")
    return None


@rule
def website_live(req: MigrationRequested, f: Facts) -> Blocker | None | object:
    if f.website_live is None:
        return NOT_APPLICABLE
    if not f.website_live:
        # Only "not reachable": the reason (a refused address, a status) would tell a prober what is inside.
        return Blocker("WEBSITE_DOWN", "customer", "The business website is not reachable.",
                       "Make the site reachable from the internet, or correct the URL under Business Info in "
                       "Business Manager.")
    return None


@rule
def brazil_ninth_digit_as_registered(req: MigrationRequested, f: Facts) -> Blocker | None | object:
    verdict = brazil_ninth_digit(req.phone_number, f.registered_number)
    if verdict is BrazilNinthDigit.NOT_BRAZILIAN:
        return NOT_APPLICABLE
    if verdict is BrazilNinthDigit.DIFFERENT:
        return Blocker("BR_NINTH_DIGIT_MISMATCH", "customer",
                       f"The number was given as {req.phone_number} but is registered as {f.registered_number}.",
                       f"Request the migration again with the phone number {f.registered_number}: that is how Meta "
                       "has it registered, and Meta treats the forms with and without the ninth digit as two numbers.")
    return None


@rule
def destination_webhooks(req: MigrationRequested, f: Facts) -> Blocker | None:
    if f.destination_apps_subscribed == 0:
        return Blocker("DESTINATION_NO_WEBHOOK_APP", "numport",
                       "No app is subscribed to the destination WABA's webhooks.",
                       "Subscribe our app to the destination WABA (subscribed_apps) and ask again.")
    return None


ALL_CHECKS = (business_verified, same_business, admin_access, source_waba_approved, source_waba_payment,
              two_step_disabled, display_name_approved, no_pending_name_change, not_test_number, not_sandbox_account,
              source_platform, website_live, brazil_ninth_digit_as_registered, destination_webhooks)
