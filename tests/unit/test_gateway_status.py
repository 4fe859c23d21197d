"""The read model's status never moves back, shows escalations, and stays finished once finished."""

from __future__ import annotations

from types import SimpleNamespace

from services.gateway.status import AFTER, Status, evolve


def event(kind: str, **fields) -> SimpleNamespace:
    return SimpleNamespace(type=kind, **fields)


def test_progress_moves_forward_only():
    current = AFTER["OboAccepted"]
    assert evolve(current, event("VerificationCodeRequested")).state == "awaiting_code"
    assert evolve(current, event("MigrationQueued")) is None  # arrived late from its topic: ignored


def test_escalation_shows_at_any_waiting_point_and_clears_on_progress():
    registered = AFTER["PhoneRegistered"]
    escalated = evolve(registered, event("MigrationEscalated"))
    assert escalated.state == "escalated"
    assert evolve(escalated, event("MigrationCompleted")).state == "completed"
    waiting_code = evolve(AFTER["VerificationCodeRequested"], event("MigrationEscalated"))
    assert evolve(waiting_code, event("PhoneNumberVerified")).state == "verified"


def test_finished_migrations_stay_finished_and_embedded_signup_waits_for_its_session():
    assert evolve(AFTER["MigrationFailed"], event("OboAccepted")) is None
    assert evolve(Status("requested", ""), event("NumberEligible", flow="embedded_signup")).state == "awaiting_signup"
    assert evolve(Status("requested", ""), event("MigrationNotNeeded", message="add it")).state == "not_needed"


def test_the_no_code_path_waits_for_the_intent_and_skips_the_code_step():
    waiting = evolve(AFTER["MigrationQueued"], event("MigrationPathChosen", reason_code="INTENT_SET"))
    assert waiting.state == "awaiting_intent" and "migration intent" in waiting.next_action
    accepted = evolve(waiting, event("MigrationPathChosen", reason_code="INTENT_ACCEPTED"))
    assert accepted.state == "intent_accepted"
    assert evolve(accepted, event("PhoneNumberAdded")) is None  # no "a code arrives" on this path
    assert evolve(accepted, event("PhoneRegistered")).state == "registered"
    assert evolve(waiting, event("PhoneNumberAdded")).state == "number_added"  # fell back: the code path shows
    assert evolve(AFTER["MigrationQueued"], event("MigrationPathChosen", reason_code="QUALIFIES")) is None
