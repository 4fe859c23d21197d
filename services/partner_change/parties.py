"""Who may call what in a partner change: the customer drives it, the new partner approves, the old one only watches.

The README's "who may call what" table is this module; test_who_may_call_what in
tests/integration/test_partner_change.py checks every cell of it through the gateway.
"""

from __future__ import annotations

from typing import Any, Literal

from services.partner_change.domain import Change, Holding, Refused
from shared.parties import Party

Role = Literal["customer", "destination_partner", "source_partner"]
ALLOWED: dict[str, frozenset[str]] = {
    "view": frozenset({"customer", "destination_partner", "source_partner"}),
    "review": frozenset({"customer"}),
    "accept_terms": frozenset({"customer"}),
    "confirm_payment": frozenset({"customer"}),
    "approve": frozenset({"destination_partner"}),
    "decline": frozenset({"destination_partner"}),
    "grant": frozenset({"customer"}),
}


class NotFound(Exception):
    """Not the caller's to see: answered exactly like an id that does not exist."""


def role(change: Change, party: Party) -> Role | None:
    if party.kind == "customer":
        return "customer" if party.business_id == change.business_id else None
    if party.id == change.destination_partner:
        return "destination_partner"
    return "source_partner" if party.id == change.source_partner else None


def authorize(change: Change, party: Party, action: str) -> Role:
    found = role(change, party)
    if found is None:
        raise NotFound()
    if found not in ALLOWED[action]:
        allowed = " or ".join(sorted(r.replace("_", " ") for r in ALLOWED[action]))
        raise Refused("not_allowed", f"The {found.replace('_', ' ')} may not {action.replace('_', ' ')} a partner "
                                     f"change; only the {allowed} may.")
    return found


def number_access(holding: Holding, party: Party) -> str | None:
    """owner (the customer), manage or read (its partner, read-only until granted after a change), else nothing."""
    if party.kind == "customer":
        return "owner" if party.business_id == holding.business_id else None
    if party.id != holding.partner_id:
        return None  # a partner that gave the number away sees nothing new about it
    return "manage" if holding.managed else "read"


def redact(view: dict[str, Any], who: Role) -> dict[str, Any]:
    """The old partner sees that its WABA leaves, and when, but nothing about where it goes."""
    if who != "source_partner":
        return view
    return {**view, "destination_partner_id": None, "managed_numbers": None}
