"""360dialog's partner change as rules: every number of a WABA moves to the new partner at once, step by step.

The steps, in the page's order: the customer asks (company information, destination partner id), reviews the list of
numbers that will move, accepts the terms, confirms a payment method when the new partner asks for one, the new
partner approves (automatically or by hand), every number is transferred at one instant, and the customer then
chooses which numbers the new partner may manage. Time is always passed in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

Approval = Literal["auto", "manual"]
OPEN = ("requested", "numbers_reviewed", "terms_accepted", "awaiting_approval", "approved")
ENDED = ("completed", "declined", "expired")
NEXT_STEP = {"requested": "review the numbers", "numbers_reviewed": "accept the terms",
             "terms_accepted": "confirm a payment method", "awaiting_approval": "the new partner's approval",
             "approved": "the transfer, under way", "completed": "grant the new partner its permissions"}
DEFAULT_PROCESSOR = "default"  # partners that never set one share the platform's own processor


class Refused(Exception):
    """A request the rules turn down: a stable code, our words (why and what to do), and the field at fault."""

    def __init__(self, code: str, message: str, field: str | None = None, conflict: bool = True) -> None:
        super().__init__(message)
        self.code, self.field, self.conflict = code, field, conflict


@dataclass(frozen=True)
class PartnerTerms:
    """What a partner configured for changes towards it (the page's per-partner differences)."""

    partner_id: str
    approval: Approval
    payment_processor: str
    payment_method_required: bool


@dataclass(frozen=True)
class Holding:
    """One number we serve: its WABA, the customer's business, its partner, and whether it is moving right now."""

    phone_number: str
    waba_id: str
    business_id: str
    partner_id: str
    busy: bool  # a migration or another partner change is under way on it
    managed: bool = True  # False: the partner it came to by a change may read it, not act on it, until granted


@dataclass(frozen=True)
class Change:
    id: uuid.UUID
    waba_id: str
    business_id: str
    phone_numbers: tuple[str, ...]
    source_partner: str
    destination_partner: str
    state: str
    payment_method_required: bool
    approval: Approval
    requested_at: datetime
    deadline: datetime | None = None
    transfer_at: datetime | None = None


def request(change_id: uuid.UUID, waba: list[Holding], named: list[str] | None, destination: PartnerTerms | None,
            destination_id: str, source_processor: str, now: datetime) -> Change:
    """Steps 1-3: the customer names the new partner; every refusal of the page is decided here."""
    numbers = tuple(sorted(h.phone_number for h in waba))
    if named is not None and set(named) != set(numbers):
        raise Refused("all_numbers_move_together", (
            f"A partner change moves every number of WABA {waba[0].waba_id} at once ({', '.join(numbers)}). List "
            "all of them, or leave the list out. To move only some numbers, migrate those numbers to a WABA of the "
            "new partner instead."), "phone_numbers", conflict=False)
    if destination is None:
        raise Refused("unknown_destination_partner", (
            f"No partner '{destination_id}' accepts partner changes. Ask your new partner for its partner id."),
            "destination_partner_id", conflict=False)
    if destination_id == waba[0].partner_id:
        raise Refused("same_partner", "The WABA is already with this partner: there is nothing to change.",
                      "destination_partner_id")
    if busy := [h.phone_number for h in waba if h.busy]:
        raise Refused("number_in_progress", (
            f"{', '.join(sorted(busy))} is still moving (a migration or another partner change). Ask again once it "
            "has finished: the change must take every number of the WABA at once."), "waba_id")
    if destination.payment_processor != source_processor:
        raise Refused("payment_processor_mismatch", (
            "The new partner bills through a different payment processor than your current partner, so the change "
            "cannot be made here. Contact our support team: they move such accounts by hand."),
            "destination_partner_id")
    return Change(change_id, waba[0].waba_id, waba[0].business_id, numbers, waba[0].partner_id, destination_id,
                  "requested", destination.payment_method_required, destination.approval, now)


def _expect(change: Change, *states: str) -> None:
    if change.state not in states:
        step = NEXT_STEP.get(change.state)
        raise Refused("wrong_step", f"This partner change is {change.state.replace('_', ' ')}"
                                    + (f"; the next step is {step}." if step else "; it has ended."))


def review(change: Change, listed: list[str]) -> Change:
    """Step 4: the list the customer confirms must be the list that moves."""
    _expect(change, "requested")
    if set(listed) != set(change.phone_numbers):
        raise Refused("all_numbers_move_together", (
            f"The numbers listed differ from the WABA's numbers ({', '.join(change.phone_numbers)}): all of them "
            "move together. Review the whole list."), "phone_numbers", conflict=False)
    return replace(change, state="numbers_reviewed")


def accept_terms(change: Change, now: datetime, timeout: timedelta) -> Change:
    """Step 5: submitted. Partners that need no payment method confirmation skip step 6."""
    _expect(change, "numbers_reviewed")
    accepted = replace(change, state="terms_accepted")
    return accepted if change.payment_method_required else _submit(accepted, now, timeout)


def confirm_payment(change: Change, now: datetime, timeout: timedelta) -> Change:
    """Step 6, for partners that require it."""
    _expect(change, "terms_accepted")
    return _submit(change, now, timeout)


def _submit(change: Change, now: datetime, timeout: timedelta) -> Change:
    """Step 7: an auto-approving partner approves at once; a manual one has until the deadline."""
    if change.approval == "auto":
        return replace(change, state="approved", transfer_at=now)
    return replace(change, state="awaiting_approval", deadline=now + timeout)


def approve(change: Change, now: datetime) -> Change:
    """The approval fixes the one instant every number is transferred at."""
    _expect(change, "awaiting_approval")
    return replace(change, state="approved", transfer_at=now)


def decline(change: Change) -> Change:
    _expect(change, "awaiting_approval")
    return replace(change, state="declined")


def transfer(change: Change) -> Change:
    """Step 8: every number at once, at the instant the approval fixed."""
    _expect(change, "approved")
    return replace(change, state="completed")


def expire(change: Change, now: datetime) -> Change | None:
    """A manual approval that did not come before the deadline closes the request; nothing moves."""
    if change.state == "awaiting_approval" and change.deadline is not None and now >= change.deadline:
        return replace(change, state="expired")
    return None


ENDINGS = {
    "declined_by_partner": "The new partner declined the change; every number stays with your current partner. Ask "
                           "the new partner why, or choose another partner.",
    "approval_expired": "The new partner did not approve in time, so nothing moved and the request is closed. Ask "
                        "again when the new partner is ready to approve.",
}


def grantable(change: Change, numbers: list[str]) -> list[str]:
    """After the transfer the customer picks which numbers the new partner manages; only the WABA's own count."""
    if change.state != "completed":
        raise Refused("wrong_step", "Permissions are granted once every number has moved to the new partner.")
    if stray := sorted(set(numbers) - set(change.phone_numbers)):
        raise Refused("not_in_waba", f"{', '.join(stray)} did not move with this change.", "phone_numbers",
                      conflict=False)
    return sorted(set(numbers))
