"""Events that change who holds a number, each read as a "holder changed at T" fact for the timeline.

A new kind of change (a partner change, a port-out) plugs in here with its event and, in `domain.RULES`, the
names of its before/after rules; the attribution logic does not change.
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.billing.domain import DEPARTED, HolderChange
from shared.events import Event, PartnerChangeCompleted, PhoneDeparted, PhoneRegistered

HOLDER_EVENTS: tuple[type[Event], ...] = (PhoneRegistered,)
DEPARTURE_EVENTS: tuple[type[Event], ...] = (PhoneDeparted,)  # a port-out: from then on nobody of ours holds it
PARTNER_CHANGE_EVENTS: tuple[type[Event], ...] = (PartnerChangeCompleted,)  # the WABA's numbers, one instant
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros_of(instant: datetime) -> int:
    """Exact epoch microseconds of an aware datetime (no float rounding)."""
    delta = instant - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def holder_change(event: Event) -> HolderChange:
    if isinstance(event, PhoneRegistered):
        return HolderChange(micros_of(event.completed_at), "migration", event.source_partner,
                            event.destination_partner, event.migration_id)
    if isinstance(event, PartnerChangeCompleted):
        return HolderChange(micros_of(event.transferred_at), "partner_change", event.old_partner, event.new_partner,
                            event.migration_id)
    if isinstance(event, PhoneDeparted):
        return HolderChange(micros_of(event.departed_at), "departure", event.partner_id, DEPARTED, event.migration_id)
    raise TypeError(f"{type(event).__name__} does not change a number's holder")
