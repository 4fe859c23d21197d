"""The events a partner change announces, built from its state: one id per fact, so a replay deduplicates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.partner_change.domain import ENDINGS, Change
from shared.events import (
    Event,
    PartnerChangeApproved,
    PartnerChangeCompleted,
    PartnerChangeDeclined,
    PartnerChangeRequested,
    PartnerPermissionsGranted,
)

PRODUCER = "partner_change"


def _envelope(change: Change, now: datetime, phone: str | None = None) -> dict[str, Any]:
    """Facts about the whole WABA are keyed by its first number; a transfer by each number."""
    return {"migration_id": change.id, "correlation_id": change.id, "phone_number": phone or change.phone_numbers[0],
            "occurred_at": now, "producer": PRODUCER, "waba_id": change.waba_id}


def requested(change: Change) -> Event:
    return PartnerChangeRequested.create(**_envelope(change, change.requested_at), business_id=change.business_id,
                                         phone_numbers=list(change.phone_numbers),
                                         source_partner=change.source_partner,
                                         destination_partner=change.destination_partner)


def after_step(change: Change, now: datetime) -> list[Event]:
    """What moving to the change's current state tells the others."""
    if change.state == "approved":
        assert change.transfer_at is not None
        return [PartnerChangeApproved.create(**_envelope(change, now), approval=change.approval,
                                             transfer_at=change.transfer_at)]
    if change.state in ("declined", "expired"):
        return [ended(change, now)]
    return []


def ended(change: Change, now: datetime) -> Event:
    code = "declined_by_partner" if change.state == "declined" else "approval_expired"
    return PartnerChangeDeclined.create(**_envelope(change, now), reason_code=code, message=ENDINGS[code])


def transferred(change: Change) -> list[Event]:
    """Every number at the instant fixed by the approval, whenever (and however often) this runs."""
    assert change.transfer_at is not None
    return [PartnerChangeCompleted.create(**_envelope(change, change.transfer_at, phone),
                                          phone_numbers=list(change.phone_numbers),
                                          transferred_at=change.transfer_at, old_partner=change.source_partner,
                                          new_partner=change.destination_partner)
            for phone in change.phone_numbers]


def granted(change: Change, seq: int, numbers: list[str], now: datetime) -> Event:
    return PartnerPermissionsGranted.create(**_envelope(change, now, numbers[0] if numbers else None), grant=seq,
                                            partner_id=change.destination_partner, managed_numbers=numbers)
