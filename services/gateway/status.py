"""What a migration's state is after each event, and what should happen next; pure, for the read model."""

from __future__ import annotations

from dataclasses import dataclass

from shared.events import Event

TERMINAL = frozenset({"ineligible", "not_needed", "failed", "completed"})


@dataclass(frozen=True)
class Status:
    state: str
    next_action: str


RANK = {"requested": 0, "eligible": 1, "obo_accepted": 2, "escalated": 3, "registered": 4, "completed": 5,
        "ineligible": 9, "not_needed": 9, "failed": 9}
AFTER = {
    "MigrationRequested": Status("requested", "numport is checking every migration requirement."),
    "NumberEligible": Status("eligible", "Accept our Message-on-Behalf request in Business Manager (Requests)."),
    "NumberIneligible": Status("ineligible", "Fix the blockers in the report, then request the migration again."),
    "OboAccepted": Status("obo_accepted", "Keep the phone at hand: a 6-digit code arrives by SMS or voice call."),
    "MigrationEscalated": Status("escalated", "Our support team has a ticket with the details and will contact you."),
    "PhoneRegistered": Status("registered", "Nothing: the number is live on the destination; its API key follows."),
    "MigrationCompleted": Status("completed", "Nothing: the migration is complete."),
    "MigrationFailed": Status("failed", "Read the failure reason, fix it, then request the migration again."),
}


def evolve(current: Status | None, event: Event) -> Status | None:
    """The status after `event`; None when the event does not move the migration (it still joins the timeline).

    Events of one migration reach the gateway through several topics, so they may arrive out of order:
    a status never moves back, and a finished migration stays finished.
    """
    if event.type == "MigrationNotNeeded":
        proposed = Status("not_needed", getattr(event, "message", ""))
    elif event.type in AFTER:
        proposed = AFTER[event.type]
    else:
        return None
    if current is not None and (current.state in TERMINAL or RANK[proposed.state] <= RANK[current.state]):
        return None
    return proposed
