"""Who pays for a message: the holder of its number at the instant it was sent, by Meta's timestamps only.

The seeds' rule: sent before the migration completed → the source partner, even when delivered after; sent at or
after → the destination. A message's state is a merge of its statuses (commutative, associative, idempotent), so
duplicates and any arrival order end in the same state; its attribution is a function of that state and the
holder timeline.
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from typing import NamedTuple

SENT, DELIVERED, READ, PLAYED, FAILED = range(5)
RANKS = {"sent": SENT, "delivered": DELIVERED, "read": READ, "played": PLAYED, "failed": FAILED}
# Each kind of holder change names the rule for messages sent before it and at or after it.
RULES = {"migration": ("sent_before_completion", "sent_after_completion"),
         "departure": ("sent_before_departure", "sent_after_departure"),
         "partner_change": ("sent_before_partner_change", "sent_after_partner_change")}
DEPARTED = "departed"  # the holder after a port-out: nobody we bill
NO_MIGRATION = "no_migration"


class Pricing(NamedTuple):
    """The pricing a status carried; `at` and `rank` order it, so the earliest priced status decides."""

    at: int  # epoch microseconds of the status that carried it
    rank: int
    category: str
    type: str  # "" when Meta sent none (older webhooks)
    billable: int  # 1, 0, or -1 when Meta left the deprecated flag out
    model: str


class StatusUpdate(NamedTuple):
    """One status of one message, as a webhook carried it."""

    phone_number: str | None  # E.164 when the webhook named the business number
    phone_number_id: str | None
    waba_id: str
    message_id: str  # the wamid
    rank: int
    at: int  # Meta's timestamp, epoch microseconds
    pricing: Pricing | None


class MessageState(NamedTuple):
    """Everything billing keeps about one message: the merge of every status seen."""

    sent_at: int  # the earliest status's timestamp: the instant the message was sent
    first_rank: int
    waba_id: str
    delivered_at: int | None  # earliest delivered, read or played status
    failed: bool
    pricing: Pricing | None


class HolderChange(NamedTuple):
    """From `at` on, `to_partner` holds the number instead of `from_partner` (a migration, later other kinds)."""

    at: int
    kind: str
    from_partner: str
    to_partner: str
    migration_id: uuid.UUID | None


class Attribution(NamedTuple):
    """The billing facts of one message; a message is re-attributed only when one of them changes."""

    partner: str
    rule: str
    migration_id: uuid.UUID | None
    sent_at: int
    category: str
    pricing_type: str
    billable: bool


def normalise_category(category: str) -> str:
    """Meta writes authentication-international in pricing and authentication_international elsewhere."""
    return category.strip().lower().replace("-", "_")


def state_of(status: StatusUpdate) -> MessageState:
    """What one status alone says about its message."""
    delivered = status.at if DELIVERED <= status.rank <= PLAYED else None
    return MessageState(status.at, status.rank, status.waba_id, delivered, status.rank == FAILED, status.pricing)


def merge(state: MessageState, other: MessageState) -> MessageState:
    """Both states' statuses together: earliest send, earliest delivery, earliest pricing, failed if either."""
    sent_at, first_rank, waba_id = min((state.sent_at, state.first_rank, state.waba_id),
                                       (other.sent_at, other.first_rank, other.waba_id))
    delivered = state.delivered_at if other.delivered_at is None else (
        other.delivered_at if state.delivered_at is None else min(state.delivered_at, other.delivered_at))
    pricing = state.pricing if other.pricing is None else (
        other.pricing if state.pricing is None else min(state.pricing, other.pricing))
    return MessageState(sent_at, first_rank, waba_id, delivered, state.failed or other.failed, pricing)


def holder_at(changes: list[HolderChange], at: int, waba_id: str) -> tuple[str, str, uuid.UUID | None]:
    """(partner, rule, migration) for an instant; `changes` sorted by instant. Without any change the WABA pays."""
    if not changes:
        return f"waba:{waba_id}", NO_MIGRATION, None
    before = bisect_right(changes, at, key=lambda change: change.at)
    if before:
        change = changes[before - 1]
        return change.to_partner, RULES[change.kind][1], change.migration_id
    first = changes[0]
    return first.from_partner, RULES[first.kind][0], first.migration_id


def chargeable(state: MessageState) -> bool:
    """Priced as regular (the deprecated `billable` flag decides only when no type came), and not failed undelivered."""
    pricing = state.pricing
    if pricing is None:
        return False
    charged = pricing.type == "regular" if pricing.type else pricing.billable == 1
    return charged and not (state.failed and state.delivered_at is None)


def attribute(state: MessageState, changes: list[HolderChange]) -> Attribution | None:
    """Billed once, to one partner, from the first status that carried pricing; never before one did."""
    if state.pricing is None:
        return None
    partner, rule, migration_id = holder_at(changes, state.sent_at, state.waba_id)
    return Attribution(partner, rule, migration_id, state.sent_at, state.pricing.category, state.pricing.type,
                       chargeable(state) and partner != DEPARTED)


def day_of(at: int) -> int:
    """Days since the epoch (UTC) of an instant in microseconds: the ledger's day."""
    return at // 86_400_000_000
