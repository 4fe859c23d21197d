"""Meta's rules as the sandbox enforces them; pure functions over the world's objects, no HTTP.

Each refusal is a `Refusal` carrying the Graph error code Meta uses for it, so the routes only translate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.state import Limits, OboRequest, PhoneNumber, Template, Waba

MIGRATION_REFUSED = 2388103
ALREADY_IN_DESTINATION = 2388012
NOT_BEING_MIGRATED = 2388091
TOO_MANY_CODE_REQUESTS = 613
WRONG_PIN = 133005
NEEDS_VERIFICATION = 133006
REGISTER_LIMIT = 133016


@dataclass(frozen=True)
class Refusal(Exception):
    status: int
    code: int
    message: str
    transient: bool = False


def migration_refusal(number: PhoneNumber | None, source: Waba | None, destination: Waba,
                      obo_accepted: bool) -> Refusal | None:
    """Why Meta would refuse to add this number to `destination` with the migrate flag, if it would."""
    if number is None or source is None:
        return Refusal(400, MIGRATION_REFUSED, "This phone number can be added directly; no migration is needed.")
    if number.waba_id == destination.id:
        return Refusal(400, ALREADY_IN_DESTINATION, "The phone number is already in the destination WABA.")
    checks = [
        (source.customer_business_id == destination.customer_business_id,
         "Source and destination WABAs must belong to the same business."),
        (destination.customer_business_id == destination.business_id or obo_accepted,
         "The Messaging-For (on-behalf-of) request has not been accepted."),
        (destination.account_review_status == "APPROVED", "The destination WABA is not approved."),
        (bool(destination.subscribed_apps), "No app is subscribed to the destination WABA's webhooks."),
        (not number.is_pin_enabled, "Two-step verification is enabled on this number."),
        (not number.is_test_number, "WhatsApp test numbers cannot be migrated."),
        (number.account_mode == "LIVE", "Numbers of accounts in SANDBOX mode cannot be migrated."),
        (number.name_status == "APPROVED", "The display name is not approved."),
        (number.new_name_status in ("NONE", "APPROVED", "DECLINED"), "A display-name change is pending review."),
    ]
    failed = [message for ok, message in checks if not ok]
    return Refusal(400, MIGRATION_REFUSED, " ".join(failed)) if failed else None


def obo_is_accepted(requests: list[OboRequest], destination: Waba) -> bool:
    return any(r.waba_id == destination.id and r.receiving_business_id == destination.customer_business_id
               and r.status == "APPROVE" for r in requests)


def within(events: list[datetime], now: datetime, window: timedelta) -> list[datetime]:
    return [t for t in events if now - t < window]


def code_request_refusal(number: PhoneNumber, recent: list[datetime], limits: Limits) -> Refusal | None:
    if number.migrating_to is None:
        return Refusal(400, NOT_BEING_MIGRATED, "This number is not being migrated; register it normally.")
    if len(recent) >= limits.code_requests_per_hour:
        return Refusal(429, TOO_MANY_CODE_REQUESTS, "Too many verification code requests; try again later.", True)
    return None


def register_refusal(number: PhoneNumber, pin: str, on_premises: bool, recent: list[datetime],
                     limits: Limits) -> Refusal | None:
    if len(recent) >= limits.registers_per_window:
        return Refusal(429, REGISTER_LIMIT, "Register attempts for this number are over the limit; wait 72 hours.")
    if number.migrating_to is not None:
        if on_premises:
            return Refusal(400, 100, "A migrated phone number can only be registered for Cloud API.")
        if number.code_verification_status != "VERIFIED":
            return Refusal(400, NEEDS_VERIFICATION, "Verify the phone number's ownership code before registering.")
    if number.is_pin_enabled and number.pin != pin:
        return Refusal(400, WRONG_PIN, "Two-step verification PIN mismatch.")
    return None


def duplicable(template: Template) -> bool:
    """Phone migration carries over only approved templates of high quality."""
    return template.status == "APPROVED" and template.quality_score == "GREEN"


def migratable_on_request(template: Template) -> bool:
    """The template-migration endpoint also takes approved templates whose quality is not rated yet."""
    return template.status == "APPROVED" and template.quality_score in ("GREEN", "UNKNOWN")


def recategorised_rejected(template: Template, share: float) -> bool:
    """A stable pseudo-random pick of `share` of templates, so a scenario behaves the same on every run."""
    digest = hashlib.sha256(f"{template.name}:{template.language}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


STANDARD_TEMPLATE_LIMIT, VERIFIED_TEMPLATE_LIMIT = 250, 6000


def template_limit(override: int | None, owner_verified: bool, has_approved_name: bool) -> int:
    """Template names a WABA may hold: 6,000 for a verified business with an approved display name, else 250
    (translations of one name count once). A scenario may pin another figure, as Meta's own may differ."""
    if override is not None:
        return override
    return VERIFIED_TEMPLATE_LIMIT if owner_verified and has_approved_name else STANDARD_TEMPLATE_LIMIT


def plan_duplication(source: list[Template], destination: list[Template], limit: int,
                     eligible=duplicable) -> tuple[list[Template], dict[str, str]]:
    """Which source templates get copied, and why the others do not (keyed by source template id). A new name takes
    one slot of the limit; another language of a name already there takes none."""
    taken = {(t.name, t.language) for t in destination}
    names = {t.name for t in destination}
    copied: list[Template] = []
    failed: dict[str, str] = {}
    for template in source:
        if not eligible(template):
            failed[template.id] = f"Not eligible: status {template.status}, quality {template.quality_score}."
        elif (template.name, template.language) in taken:
            failed[template.id] = "A template with this name and language already exists in the destination."
        elif template.name not in names and len(names) >= limit:
            failed[template.id] = "The destination WABA's template limit is reached."
        else:
            copied.append(template)
            taken.add((template.name, template.language))
            names.add(template.name)
    return copied, failed
