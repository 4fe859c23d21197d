"""Billing's wire formats, kept cheap: Meta's status webhooks read and attributions written with msgspec.

Validating every webhook record with pydantic costs more than billing's whole budget per status, so only the
fields billing uses are read and checked here; `tests/unit/test_billing_records.py` holds both formats to the
pydantic models of the contract (`MetaWebhookChange`, `MessageAttributed`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from services.billing.domain import RANKS, Attribution, Pricing, StatusUpdate, normalise_category
from shared.events import NAMESPACE

HEADERS = '{"event_type": "MessageAttributed", "schema_version": "1"}'
UNKNOWN_CATEGORY = "unknown"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ENCODE = msgspec.json.Encoder().encode
_NAMESPACED = hashlib.sha1(NAMESPACE.bytes)  # uuid5 hashes the namespace first: hash it once


class _Pricing(msgspec.Struct):
    category: Any = None
    type: Any = None
    billable: Any = None
    pricing_model: Any = None


class _Status(msgspec.Struct):
    id: Any = None
    status: Any = None
    timestamp: Any = None
    pricing: _Pricing | None = None


class _Value(msgspec.Struct):
    statuses: list[_Status] | None = None


class _Change(msgspec.Struct):
    """The fields billing reads of a `MetaWebhookChange`; msgspec skips the rest without building it."""

    type: Any = None
    schema_version: Any = None
    field: Any = None
    waba_id: Any = None
    phone_number: Any = None
    phone_number_id: Any = None
    value: _Value | None = None


_CHANGE = msgspec.json.Decoder(_Change)


def decode_statuses(raw: bytes) -> tuple[StatusUpdate, ...] | None:
    """The statuses of one `MetaWebhookChange` record; None for a change that carries none (a template update).

    Raises ValueError for what no retry makes readable, so the record is dead-lettered with the reason.
    """
    try:
        record = _CHANGE.decode(raw)
    except msgspec.DecodeError as error:  # not JSON, or a status or pricing that is not an object
        raise ValueError(f"unreadable MetaWebhookChange record: {error}") from None
    if record.type != "MetaWebhookChange":
        raise ValueError("not a MetaWebhookChange record")
    if record.schema_version != 1:
        raise ValueError(f"MetaWebhookChange schema_version {record.schema_version!r} is not one billing reads")
    if record.field != "messages" or record.value is None or not record.value.statuses:
        return None
    if not isinstance(record.waba_id, str):
        raise ValueError("a messages change needs the WABA it came from")
    return tuple(_status(entry, record.phone_number, record.phone_number_id, record.waba_id)
                 for entry in record.value.statuses)


def _status(entry: _Status, number: str | None, number_id: str | None, waba_id: str) -> StatusUpdate:
    wamid, name = entry.id, entry.status
    if not isinstance(wamid, str) or not wamid:
        raise ValueError("a status has no message id")
    if name not in RANKS:
        raise ValueError(f"status {str(name)[:40]!r} of {wamid[:80]} is not sent, delivered, read, played or failed")
    at, rank = micros(entry.timestamp, wamid), RANKS[name]
    return StatusUpdate(number, number_id, waba_id, wamid, rank, at, _pricing(entry.pricing, rank, at))


def micros(stamp: Any, wamid: str) -> int:
    """Meta's timestamp (a string of epoch seconds, maybe with a fraction) in exact epoch microseconds."""
    text = str(stamp) if isinstance(stamp, str | int) and not isinstance(stamp, bool) else ""
    whole, _, fraction = text.partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        raise ValueError(f"status timestamp {text[:40]!r} of {wamid[:80]} is not epoch seconds")
    return int(whole) * 1_000_000 + int((fraction + "000000")[:6])


def _pricing(pricing: _Pricing | None, rank: int, at: int) -> Pricing | None:
    if pricing is None:
        return None
    category, kind, billable, model = pricing.category, pricing.type, pricing.billable, pricing.pricing_model
    return Pricing(at, rank, normalise_category(category) if isinstance(category, str) else UNKNOWN_CATEGORY,
                   kind if isinstance(kind, str) else "", int(billable) if isinstance(billable, bool) else -1,
                   model if isinstance(model, str) else "")


def derived_id(*parts: object) -> str:
    """`shared.events.derive_id` as a string, without building a UUID object (a third of an attribution's cost)."""
    sha = _NAMESPACED.copy()
    sha.update(":".join([p if isinstance(p, str) else str(p) for p in parts]).encode())
    d = sha.hexdigest()  # then uuid5's version (5) and variant (10xx) bits, in hex
    return f"{d[:8]}-{d[8:12]}-5{d[13:16]}-{'89ab'[int(d[16], 16) & 3]}{d[17:20]}-{d[20:32]}"


def attribution_payload(number: str, wamid: str, kind: str, version: int, facts: Attribution,
                        delivered_at: int | None) -> tuple[str, bytes]:
    """(event_id, JSON) of one MessageAttributed record; a reversal repeats the facts it cancels."""
    event_id = derived_id("billing", number, wamid, kind, version)
    sent_at = instant(facts.sent_at)
    return event_id, _ENCODE({
        "event_id": event_id, "type": "MessageAttributed", "schema_version": 1, "occurred_at": sent_at,
        "migration_id": str(facts.migration_id) if facts.migration_id else None, "phone_number": number,
        "correlation_id": derived_id("billing", number, wamid), "causation_id": None, "producer": "billing",
        "kind": kind, "message_id": wamid, "partner": facts.partner, "rule": facts.rule, "sent_at": sent_at,
        "delivered_at": instant(delivered_at) if delivered_at is not None else None,
        "pricing_category": facts.category, "pricing_type": facts.pricing_type or None, "billable": facts.billable,
        "version": version,
        "correction_of": derived_id("billing", number, wamid, "attribution", version) if kind == "reversal" else None})


def instant(micros_since_epoch: int) -> datetime:
    """Exact to the microsecond (no float); msgspec writes it as ISO 8601."""
    return EPOCH + timedelta(microseconds=micros_since_epoch)
