"""What a migration's state is after each event, and what should happen next; pure, for the read model."""

from __future__ import annotations

from dataclasses import dataclass

from shared.events import Event

TERMINAL = frozenset({"ineligible", "not_needed", "failed", "completed"})


@dataclass(frozen=True)
class Status:
    state: str
    next_action: str


RANK = {"requested": 0, "eligible": 10, "awaiting_signup": 15, "queued": 20, "awaiting_obo": 30, "awaiting_intent": 30,
        "obo_accepted": 40, "number_added": 50, "intent_accepted": 55, "awaiting_code": 60, "escalated": 65,
        "verified": 70, "registered": 80, "completed": 100,
        "ineligible": 999, "not_needed": 999, "failed": 999}
AFTER = {
    "MigrationRequested": Status("requested", "numport is checking every migration requirement."),
    "NumberEligible": Status("eligible", "Nothing yet: the migration starts as soon as its WABA's turn comes."),
    "NumberIneligible": Status("ineligible", "Fix the blockers in the report, then request the migration again."),
    "MigrationQueued": Status("queued", "Wait: numbers of one WABA migrate one after another."),
    "OboRequested": Status("awaiting_obo", "Accept our Message-on-Behalf request in Business Manager (Requests)."),
    "OboAccepted": Status("obo_accepted", "Keep the phone at hand: a 6-digit code arrives by SMS or voice call."),
    "PhoneNumberAdded": Status("number_added", "Keep the phone at hand: a 6-digit code arrives by SMS or voice call."),
    "VerificationCodeRequested": Status("awaiting_code", "Enter the 6-digit code the phone received "
                                                         "(POST …/verification-code or `numport migrate code`)."),
    "MigrationEscalated": Status("escalated", "Our support team has a ticket with the details and will contact you."),
    "PhoneNumberVerified": Status("verified", "Nothing: the number is being registered on Cloud API."),
    "PhoneRegistered": Status("registered", "Nothing: the credit line, webhooks and API key follow."),
    "MigrationCompleted": Status("completed", "Collect the number's API key once: POST …/api-key."),
    "MigrationFailed": Status("failed", "Read the failure reason, fix it, then request the migration again."),
}
KEY_COLLECTED = "Nothing: the number's API key was collected (it is shown once, never again); the number is yours."
# The no-code path (a solution-migration intent) has its own waits; once accepted, no code step follows.
INTENT = {"INTENT_SET": Status("awaiting_intent", "Accept our migration intent in Business settings (Requests, "
                                                  "Received); no code will be needed."),
          "INTENT_ACCEPTED": Status("intent_accepted", "Nothing: the number moves with no code and keeps working.")}
SIGNUP = Status("awaiting_signup", "Have the customer finish Embedded Signup, then post its result to "
                                   "/v1/embedded-signup/events.")


def evolve(current: Status | None, event: Event) -> Status | None:
    """The status after `event`; None when the event does not move the migration (it still joins the timeline).

    Events of one migration reach the gateway through several topics, so they may arrive out of order:
    a status never moves back, and a finished migration stays finished.
    """
    if event.type == "MigrationNotNeeded":
        proposed = Status("not_needed", getattr(event, "message", ""))
    elif event.type == "NumberEligible" and getattr(event, "flow", None) == "embedded_signup":
        proposed = SIGNUP
    elif event.type == "MigrationPathChosen" and getattr(event, "reason_code", None) in INTENT:
        proposed = INTENT[event.reason_code]  # type: ignore[attr-defined]
    elif event.type in AFTER:
        proposed = AFTER[event.type]
    else:
        return None
    if current is None:
        return proposed
    if current.state in TERMINAL or proposed == current:
        return None
    if proposed.state == "escalated":  # a flag raised at any waiting point: it shows until the saga moves on
        return proposed
    floor = RANK["awaiting_code"] if current.state == "escalated" else RANK[current.state]
    return proposed if RANK[proposed.state] > floor else None
