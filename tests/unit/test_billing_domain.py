"""Billing's rules without infrastructure: who pays by send instant, merges that forget order, the ledger's moves."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from services.billing.domain import (
    DELIVERED,
    FAILED,
    READ,
    SENT,
    HolderChange,
    Pricing,
    StatusUpdate,
    attribute,
    holder_at,
    merge,
    state_of,
)
from services.billing.ledger import advance, fold, total_deltas

T = 1_764_000_000_000_000  # an instant in epoch microseconds
M1, M2 = uuid.uuid4(), uuid.uuid4()
A_TO_B = HolderChange(T, "migration", "business:A", "partner-b", M1)
B_TO_C = HolderChange(T + 3_600_000_000, "migration", "partner-b", "partner-c", M2)


def status(rank: int, at: int, kind: str | None = "regular", wamid: str = "wamid.1", billable: int = 1) -> StatusUpdate:
    pricing = Pricing(at, rank, "marketing", kind or "", billable, "PMP") if kind is not None else None
    return StatusUpdate("+4915100000001", "510", "210", wamid, rank, at, pricing)


def test_sent_one_millisecond_before_completion_is_the_source_partners():
    assert holder_at([A_TO_B], T - 1000, "210") == ("business:A", "sent_before_completion", M1)


def test_sent_at_or_after_completion_is_the_destinations():
    assert holder_at([A_TO_B], T, "210") == ("partner-b", "sent_after_completion", M1)
    assert holder_at([A_TO_B], T + 1, "210")[0] == "partner-b"


def test_without_a_holder_change_the_waba_pays():
    assert holder_at([], T, "210") == ("waba:210", "no_migration", None)


def test_sent_before_and_delivered_two_hours_after_stays_with_the_source():
    state = merge(state_of(status(DELIVERED, T + 7_200_000_000)), state_of(status(SENT, T - 1000)))
    attribution = attribute(state, [A_TO_B])
    assert attribution is not None and attribution.partner == "business:A" and attribution.sent_at == T - 1000


def test_two_migrations_split_one_numbers_traffic_among_three_partners():
    timeline = [A_TO_B, B_TO_C]
    partners = [holder_at(timeline, at, "210")[0] for at in (T - 1, T, B_TO_C.at - 1, B_TO_C.at, B_TO_C.at + 9)]
    assert partners == ["business:A", "partner-b", "partner-b", "partner-c", "partner-c"]


def test_failed_and_free_messages_are_attributed_but_not_charged():
    failed = merge(state_of(status(SENT, T)), state_of(status(FAILED, T + 5, kind=None)))
    free = state_of(status(SENT, T, kind="free_customer_service", billable=0))
    assert attribute(failed, [A_TO_B]).billable is False  # type: ignore[union-attr]
    assert attribute(free, [A_TO_B]).billable is False  # type: ignore[union-attr]
    assert attribute(state_of(status(FAILED, T, kind=None)), [A_TO_B]) is None  # never priced: never billed


def test_billable_decides_only_when_meta_sent_no_type():
    assert attribute(state_of(status(SENT, T, kind="", billable=1)), []).billable is True  # type: ignore[union-attr]
    assert attribute(state_of(status(SENT, T, kind="", billable=0)), []).billable is False  # type: ignore[union-attr]


def test_an_earlier_status_arriving_late_reverses_and_reattributes():
    key = ("+4915100000001", "wamid.1")
    first = advance(key, None, state_of(status(DELIVERED, T + 10)), [A_TO_B])
    assert first is not None and first.row.attribution.partner == "partner-b"  # type: ignore[union-attr]
    late = advance(key, first.row, state_of(status(SENT, T - 10)), [A_TO_B])
    assert late is not None and late.previous == first.row.attribution and late.row.version == 2
    assert late.row.attribution.partner == "business:A"  # type: ignore[union-attr]
    assert advance(key, late.row, state_of(status(SENT, T - 10)), [A_TO_B]) is None  # a duplicate changes nothing
    deltas = total_deltas([first, late])
    assert sum(d[0] for d in deltas.values()) == 1
    assert deltas[("business:A", T // 86_400_000_000, "marketing")] == [1, 1]


statuses = st.lists(st.builds(status, st.sampled_from([SENT, DELIVERED, READ, FAILED]),
                              st.integers(T - 5_000_000, T + 5_000_000),
                              st.sampled_from(["regular", "free_entry_point", "", None]),
                              st.sampled_from(["wamid.1", "wamid.2"]), st.sampled_from([0, 1, -1])),
                    min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(statuses, st.randoms())
def test_merging_forgets_order_and_repetition(updates, rng):
    shuffled = updates + rng.sample(updates, len(updates) // 2)
    rng.shuffle(shuffled)
    key = lambda s: (s.phone_number, s.message_id)  # noqa: E731
    assert fold((key(s), s) for s in shuffled) == fold((key(s), s) for s in updates)
