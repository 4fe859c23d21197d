"""Meta-shaped status streams: each message's statuses as Meta reports them, then arriving as Meta delivers them.

Meta prices a message on `sent` and on one of `delivered`/`read`, never on `failed`; timestamps are strings of
epoch seconds; deliveries are retried for days (duplicates) and batched out of order. The sandbox's traffic
generator and the billing benchmark both draw from here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

PRICING_CATEGORIES = ("marketing", "utility", "authentication", "service")
FREE_TYPES = ("free_customer_service", "free_entry_point")
UNDELIVERABLE = {"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable",
                 "error_data": {"details": "The recipient cannot receive this message."}}


@dataclass(frozen=True)
class Mix:
    """How untidy the stream is: shares of messages that are free, fail, and of statuses repeated or displaced."""

    free: float = 0.0
    failed: float = 0.0
    duplicates: float = 0.0
    out_of_order: float = 0.0


@dataclass(frozen=True)
class Message:
    wamid: str
    number_id: str
    sent_at: int  # epoch seconds
    category: str
    pricing_type: str  # regular or one of FREE_TYPES
    statuses: tuple[str, ...]
    recipient: str


def draw(rng: random.Random, wamid: str, number_id: str, sent_at: int, seq: int, mix: Mix,
         statuses: tuple[str, ...] = ("sent", "delivered", "read")) -> Message:
    """One message: its category by turn, free or failed by chance."""
    category = PRICING_CATEGORIES[seq % len(PRICING_CATEGORIES)]
    free = rng.random() < mix.free
    if rng.random() < mix.failed and statuses[:1] == ("sent",):
        statuses = ("sent", "failed")
    return Message(wamid, number_id, sent_at, "service" if free else category,
                   rng.choice(FREE_TYPES) if free else "regular", statuses, f"49151{seq % 10**7:07d}")


def lifecycle(message: Message, rng: random.Random) -> list[tuple[int, dict[str, Any]]]:
    """(timestamp, status) for each status: pricing on `sent` and on the first of delivered/read only."""
    found, at, priced_delivery = [], message.sent_at, False
    for name in message.statuses:
        at += {"sent": 0, "delivered": rng.randint(1, 3), "read": rng.randint(2, 600), "failed": rng.randint(1, 30)
               }.get(name, 1)
        entry: dict[str, Any] = {"id": message.wamid, "status": name, "timestamp": str(at),
                                 "recipient_id": message.recipient}
        if name == "failed":
            entry["errors"] = [UNDELIVERABLE]
        elif name == "sent" or not priced_delivery:
            priced_delivery = priced_delivery or name != "sent"
            entry["pricing"] = {"billable": message.pricing_type == "regular", "pricing_model": "PMP",
                                "category": message.category, "type": message.pricing_type}
            if name == "sent":
                entry["conversation"] = {"id": f"conv.{message.wamid}", "origin": {"type": message.category}}
        found.append((at, entry))
    return found


def arrival(timed: list[tuple[int, Any]], rng: random.Random, mix: Mix, delay: float = 5.0) -> list[Any]:
    """Items in the order they reach us: by timestamp, a share held back up to `delay` seconds, a share repeated."""
    placed = []
    for position, (at, item) in enumerate(timed):
        held = rng.uniform(0.5, delay) if rng.random() < mix.out_of_order else 0.0
        placed.append((at + held, position, item))
        if rng.random() < mix.duplicates:
            placed.append((at + rng.uniform(0.5, 4 * delay), position, item))
    return [item for _, _, item in sorted(placed, key=lambda entry: entry[:2])]
