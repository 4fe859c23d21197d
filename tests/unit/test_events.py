"""The event contract: frozen, UTC, deterministic ids, strict about what it does not understand."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from shared.events import EVENT_TYPES, MetaWebhookChange, PhoneNumberVerified, dump_event, parse_event
from shared.topics import ALL, topic_of
from tests.factories import migration_requested


def test_same_facts_give_the_same_event_id_and_other_migrations_another():
    migration_id = uuid.uuid4()
    first, again = migration_requested(migration_id=migration_id), migration_requested(migration_id=migration_id)
    assert first.event_id == again.event_id
    assert migration_requested().event_id != first.event_id


def test_caused_event_inherits_migration_number_and_correlation():
    cause = migration_requested()
    eligible = PhoneNumberVerified.create(cause=cause, occurred_at=cause.occurred_at, producer="registration",
                                         phone_number_id="500000000000001")
    assert (eligible.migration_id, eligible.phone_number, eligible.correlation_id, eligible.causation_id) == (
        cause.migration_id, cause.phone_number, cause.correlation_id, cause.event_id)
    assert eligible.event_id != cause.event_id


def test_events_are_frozen():
    with pytest.raises(ValidationError):
        migration_requested().partner_id = "someone-else"


def test_occurred_at_must_be_aware_and_is_stored_in_utc():
    local = datetime(2026, 11, 23, 12, 0, tzinfo=timezone(timedelta(hours=-3)))
    assert migration_requested(occurred_at=local).occurred_at.utcoffset() == timedelta(0)
    with pytest.raises(ValidationError):
        migration_requested(occurred_at=datetime(2026, 11, 23, 12, 0))


def test_round_trip_and_refusals():
    event = migration_requested()
    assert parse_event(dump_event(event)) == event
    data = json.loads(dump_event(event))
    with pytest.raises(ValidationError):
        parse_event(json.dumps({**data, "schema_version": 2}))
    with pytest.raises(ValidationError):
        parse_event(json.dumps({**data, "type": "NumberPorted"}))
    with pytest.raises(ValidationError):
        parse_event(json.dumps({**data, "phone_number": "011 98765"}))
    assert parse_event(json.dumps({**data, "added_later": 1})) == event  # tolerant of new optional fields


def test_every_field_is_described_and_every_event_has_one_topic():
    for cls in EVENT_TYPES.values():
        for name, field in cls.model_fields.items():
            assert field.description, f"{cls.__name__}.{name} has no description"
    carried = [e for t in ALL for e in t.events if e is not MetaWebhookChange]  # Meta's records, not ours
    assert sorted(c.__name__ for c in carried) == sorted(EVENT_TYPES)
    for name, field in MetaWebhookChange.model_fields.items():
        assert field.description, f"MetaWebhookChange.{name} has no description"
    assert topic_of(migration_requested()).name == "numport.migration.requests"
