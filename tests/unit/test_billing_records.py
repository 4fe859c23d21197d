"""Billing's cheap wire formats agree with the contract's pydantic models, and refuse what they cannot read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg.pgproto.pgproto as pgproto
import pytest

from services.billing.domain import DELIVERED, SENT, Attribution
from services.billing.records import attribution_payload, decode_statuses, derived_id, micros
from services.gateway.webhooks import changes_of
from shared.events import MessageAttributed, derive_id

STATUS = {"id": "wamid.HBgL1", "status": "sent", "timestamp": "1764000000",
          "pricing": {"billable": True, "pricing_model": "PMP", "category": "authentication-international",
                      "type": "regular"}}


def record(*statuses: dict, display: str | None = "4915100000001") -> bytes:
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "510"}, "statuses": list(statuses)}
    if display:
        value["metadata"]["display_phone_number"] = display
    payload = {"object": "whatsapp_business_account",
               "entry": [{"id": "210", "time": 1764000001, "changes": [{"field": "messages", "value": value}]}]}
    [change] = changes_of(payload, datetime(2025, 11, 24, tzinfo=UTC))
    return change.model_dump_json().encode()


def test_the_gateways_records_decode_to_statuses():
    delivered = {"id": "wamid.HBgL1", "status": "delivered", "timestamp": "1764000003"}
    sent, later = decode_statuses(record(STATUS, delivered))  # type: ignore[misc]
    assert (sent.phone_number, sent.phone_number_id, sent.waba_id, sent.message_id) == ("+4915100000001", "510",
                                                                                          "210", "wamid.HBgL1")
    assert (sent.rank, sent.at, later.rank, later.pricing) == (SENT, 1_764_000_000_000_000, DELIVERED, None)
    assert sent.pricing is not None and sent.pricing.category == "authentication_international"
    assert decode_statuses(record(STATUS, display=None))[0].phone_number is None  # type: ignore[index]


def test_changes_without_statuses_are_ignored_and_unreadable_ones_refused():
    template = record(STATUS).replace(b'"field":"messages"', b'"field":"message_template_status_update"')
    assert decode_statuses(template) is None
    for bad, reason in [({**STATUS, "timestamp": "yesterday"}, "epoch seconds"), ({**STATUS, "status": "seen"},
                        "not sent, delivered"), ({**STATUS, "id": ""}, "no message id")]:
        with pytest.raises(ValueError, match=reason):
            decode_statuses(record(bad))
    with pytest.raises(ValueError, match="schema_version"):
        decode_statuses(record(STATUS).replace(b'"schema_version":1', b'"schema_version":7'))
    with pytest.raises(ValueError):
        decode_statuses(b"{not json")


def test_timestamps_are_exact_microseconds():
    assert micros("1764000000", "w") == 1_764_000_000_000_000
    assert micros("1764000000.000001", "w") == 1_764_000_000_000_001


def test_attributions_are_valid_contract_events_with_derived_ids():
    migration = pgproto.UUID(str(uuid.uuid4()))  # as PostgreSQL hands it back
    facts = Attribution("partner-b", "sent_after_completion", migration, 1_764_000_000_000_001, "utility", "", False)
    event_id, payload = attribution_payload("+4915100000001", "wamid.1", "reversal", 2, facts, None)
    event = MessageAttributed.model_validate_json(payload)
    assert str(event.event_id) == event_id == str(derive_id("billing", "+4915100000001", "wamid.1", "reversal", 2))
    assert event.correction_of == derive_id("billing", "+4915100000001", "wamid.1", "attribution", 2)
    assert event.sent_at == datetime(2025, 11, 24, 16, 0, 0, 1, tzinfo=UTC) == event.occurred_at
    assert (event.migration_id, event.pricing_type, event.delivered_at) == (migration, None, None)
    assert derived_id("a", 1, "b") == str(derive_id("a", 1, "b"))
