"""How one batch moves the ledger: which messages change state, which are re-attributed, and the totals' deltas.

Pure: the handler loads the prior rows and the timelines, this decides, the repository writes. A re-attribution is
a reversal of the attribution in force plus a new one, so the stream and the totals always net to the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from services.billing.domain import (
    Attribution,
    HolderChange,
    MessageState,
    StatusUpdate,
    attribute,
    day_of,
    merge,
    state_of,
)

Key = tuple[str, str]  # (E.164 number, wamid)


class Row(NamedTuple):
    """A message as the ledger holds it: its state, how many attributions it had, the one in force."""

    state: MessageState
    version: int
    attribution: Attribution | None
    revision: int  # bumped on every write, so a concurrent writer's change is never overwritten unseen


class Change(NamedTuple):
    """A message whose row must be written; `previous` is the attribution it reverses, if it changed."""

    key: Key
    row: Row
    is_new: bool
    previous: Attribution | None
    reattributed: bool


def fold(statuses: Iterable[tuple[Key, StatusUpdate]]) -> dict[Key, MessageState]:
    """Merge a batch's statuses per message first, so each message is looked up and written once per batch."""
    merged: dict[Key, MessageState] = {}
    for key, status in statuses:
        state = state_of(status)
        merged[key] = state if (known := merged.get(key)) is None else merge(known, state)
    return merged


def advance(key: Key, prior: Row | None, state: MessageState, changes: list[HolderChange]) -> Change | None:
    """The change a message's new state (and the timeline) makes to its row, or None when nothing changes."""
    if prior is not None:
        state = merge(prior.state, state)
        if state == prior.state:
            return None
    attribution = attribute(state, changes)
    return _changed(key, prior, state, attribution)


def reattribute(key: Key, prior: Row, changes: list[HolderChange]) -> Change | None:
    """A holder change may move a message stored earlier to another partner; its state stays."""
    attribution = attribute(prior.state, changes)
    return None if attribution == prior.attribution else _changed(key, prior, prior.state, attribution)


def _changed(key: Key, prior: Row | None, state: MessageState, attribution: Attribution | None) -> Change:
    old = prior.attribution if prior else None
    version = prior.version if prior else 0
    reattributed = attribution is not None and attribution != old
    row = Row(state, version + reattributed, attribution, (prior.revision if prior else 0) + 1)
    return Change(key, row, prior is None, old if reattributed else None, reattributed)


def total_deltas(changes: Iterable[Change]) -> dict[tuple[str, int, str], list[int]]:
    """(partner, day, category) -> [messages, billable] to add; a reversal subtracts what it cancels."""
    deltas: dict[tuple[str, int, str], list[int]] = defaultdict(lambda: [0, 0])
    for change in changes:
        if not change.reattributed:
            continue
        if (old := change.previous) is not None:
            total = deltas[(old.partner, day_of(old.sent_at), old.category)]
            total[0] -= 1
            total[1] -= old.billable
        new = change.row.attribution
        assert new is not None  # reattributed implies an attribution in force
        total = deltas[(new.partner, day_of(new.sent_at), new.category)]
        total[0] += 1
        total[1] += new.billable
    return {key: value for key, value in deltas.items() if value != [0, 0]}
