"""Precheck's rule for the no-code solution-migration path: each condition alone turns it off, never the migration."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.precheck import checks, domain, solution_path
from services.precheck.policy import POLICY
from tests.factories import migration_requested
from tests.unit.test_precheck_checks import GOOD, NOW

QUALIFYING = replace(GOOD, source_waba_shared=False, source_waba_owner="100000000000001",
                     destination_waba_owner="100000000000001", destination_solution_id="800000000000009",
                     destination_solution_status="ACTIVE")
REQUEST = migration_requested(website="https://padaria.example")


def test_a_number_of_one_portfolio_with_an_active_destination_solution_qualifies():
    found = solution_path.qualification(REQUEST, QUALIFYING)
    assert (found.qualifies, found.reason_code, found.solution_id) == (True, "QUALIFIES", "800000000000009")


@pytest.mark.parametrize(("code", "facts", "request_changes"), [
    ("COEXISTENCE_NUMBER", {"on_biz_app": True}, {}),
    ("DIFFERENT_PORTFOLIO", {"destination_waba_owner": "100000000000009"}, {}),
    ("DIFFERENT_PORTFOLIO", {"source_waba_owner": None}, {}),
    ("NO_DESTINATION_SOLUTION", {"destination_solution_id": None, "destination_solution_status": None}, {}),
    ("DESTINATION_SOLUTION_NOT_ACTIVE", {"destination_solution_status": "DEACTIVATED"}, {}),
    ("DESTINATION_SOLUTION_NOT_ACTIVE", {"destination_solution_status": "INITIATED"}, {}),
    ("NOT_PROGRAMMATIC", {}, {"flow": "embedded_signup"}),
])
def test_each_condition_alone_turns_the_path_off(code, facts, request_changes):
    found = solution_path.qualification(migration_requested(**request_changes), replace(QUALIFYING, **facts))
    assert (found.qualifies, found.reason_code) == (False, code)
    assert found.message


def test_not_qualifying_is_no_blocker_the_verdict_carries_the_reason():
    for facts in (QUALIFYING, replace(QUALIFYING, on_biz_app=True)):
        outcome, report, event = domain.decide(REQUEST, facts, NOW, checks.ALL_CHECKS, POLICY[REQUEST.flow])
        assert outcome == "eligible" and not [c for c in report if c.status == "fail"]
        assert event.solution_migration == solution_path.qualification(REQUEST, facts)


def test_an_ineligible_number_carries_no_qualification():
    _, _, event = domain.decide(REQUEST, replace(QUALIFYING, two_step_enabled=True), NOW, checks.ALL_CHECKS,
                                POLICY[REQUEST.flow])
    assert event.type == "NumberIneligible" and not hasattr(event, "solution_migration")
