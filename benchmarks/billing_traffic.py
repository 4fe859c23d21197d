"""The billing benchmark's input: an hour of status webhooks for many numbers, some migrating midway, and the
ledger totals it must produce, computed here independently of billing's own code."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.message_statuses import Message, Mix, arrival, draw, lifecycle
from services.gateway.webhooks import changes_of
from shared.events import PhoneRegistered, derive_id

MIX = Mix(free=0.1, failed=0.02, duplicates=0.01, out_of_order=0.02)
START = 1_764_000_000  # 2025-11-24T16:00:00Z, Meta time of the first message
SPAN = 3600  # seconds of Meta time the stream covers
PARTNERS = 10


@dataclass(frozen=True)
class Number:
    index: int
    e164: str
    old_id: str
    new_id: str
    old_waba: str
    new_waba: str
    completed_at: int | None  # epoch microseconds of the migration, when it migrates
    destination: str

    @property
    def source(self) -> str:
        return f"business:{100000000000000 + self.index}"

    def holder(self, sent_at: int) -> str:
        if self.completed_at is None:
            return f"waba:{self.old_waba}"
        return self.destination if sent_at * 1_000_000 >= self.completed_at else self.source


@dataclass
class Traffic:
    records: list[tuple[bytes, bytes]]  # (key, MetaWebhookChange JSON) in arrival order
    registered: list[PhoneRegistered]
    messages: int  # billed messages the ledger must end with
    expected: dict[tuple[str, str, str], list[int]]  # (partner, day, category) -> [messages, billable]


def numbers(count: int, migrating: int, rng: random.Random) -> list[Number]:
    found = []
    for i in range(count):
        moves = i < migrating
        completed = (START + SPAN // 2 + rng.randint(-600, 600)) * 1_000_000 + rng.randint(0, 999_999) if moves \
            else None
        found.append(Number(i, f"+49151{i:08d}", f"{510000000000000 + i}", f"{520000000000000 + i}",
                            f"{210000000000000 + i}", f"{220000000000000 + i}", completed,
                            f"partner-{i % PARTNERS:02d}"))
    return found


def build(events: int, number_count: int = 2000, migrating: int = 300, seed: int = 11) -> Traffic:
    rng = random.Random(seed)
    fleet = numbers(number_count, migrating, rng)
    per_message = 3 * (1 + MIX.duplicates) - MIX.failed
    count = int(events / per_message)
    messages = [draw(rng, f"wamid.bench.{seq}", str(seq % number_count), START + seq * SPAN // count, seq, MIX)
                for seq in range(count)]
    stream = arrival([(at, (message, entry)) for message in messages for at, entry in lifecycle(message, rng)],
                     rng, MIX)
    expected, billed = _expected(stream, fleet)
    return Traffic(list(_records(stream, fleet)), [_registered(n) for n in fleet if n.completed_at], billed, expected)


def _records(stream: list[tuple[Message, dict]], fleet: list[Number]) -> Iterator[tuple[bytes, bytes]]:
    """Each status in its own delivery, through the gateway's own split, as the gateway writes it to Kafka."""
    received = datetime(2025, 11, 24, 17, tzinfo=UTC)
    for message, entry in stream:
        number = fleet[int(message.number_id)]
        moved = number.completed_at is not None and int(entry["timestamp"]) * 1_000_000 >= number.completed_at
        value = {"messaging_product": "whatsapp", "statuses": [entry],
                 "metadata": {"display_phone_number": number.e164[1:],
                              "phone_number_id": number.new_id if moved else number.old_id}}
        payload = {"object": "whatsapp_business_account", "entry": [{
            "id": number.new_waba if moved else number.old_waba, "time": int(entry["timestamp"]),
            "changes": [{"field": "messages", "value": value}]}]}
        [change] = changes_of(payload, received)
        yield change.key, change.model_dump_json().encode()


def _registered(number: Number) -> PhoneRegistered:
    assert number.completed_at is not None
    migration = derive_id("bench-migration", number.e164)
    return PhoneRegistered.create(
        migration_id=migration, phone_number=number.e164, correlation_id=migration, producer="registration",
        occurred_at=datetime.fromtimestamp(number.completed_at / 1e6, UTC), phone_number_id=number.new_id,
        destination_waba_id=number.new_waba, source_partner=number.source, destination_partner=number.destination,
        completed_at=datetime.fromtimestamp(number.completed_at // 1_000_000, UTC).replace(
            microsecond=number.completed_at % 1_000_000))


def _expected(stream: list[tuple[Message, dict]], fleet: list[Number]) -> tuple[dict, int]:
    """Per (partner, day, category): messages and billable ones, from what the stream actually holds."""
    seen: dict[str, tuple[Message, set[str], bool]] = {}
    for message, entry in stream:
        _, names, priced = seen.get(message.wamid, (message, set(), False))
        seen[message.wamid] = (message, names | {entry["status"]}, priced or "pricing" in entry)
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for message, names, priced in seen.values():
        if not priced:
            continue
        holder = fleet[int(message.number_id)].holder(message.sent_at)
        day = datetime.fromtimestamp(message.sent_at, UTC).date().isoformat()
        total = totals[(holder, day, message.category)]
        total[0] += 1
        total[1] += message.pricing_type == "regular" and "failed" not in names
    return dict(totals), sum(t[0] for t in totals.values())
