"""Registration's choice of path from precheck's qualification, its step order, and which webhooks wake it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.registration import domain, solution_intent
from shared.events import MetaWebhookChange, SolutionMigrationQualification

YES = SolutionMigrationQualification(qualifies=True, reason_code="QUALIFIES", message="ok", solution_id="8")
NO = SolutionMigrationQualification(qualifies=False, reason_code="COEXISTENCE_NUMBER", message="app number")


def change(field: str, value: dict, waba: str = "201") -> MetaWebhookChange:
    return MetaWebhookChange(event_id=uuid.uuid4(), received_at=datetime.now(UTC), field=field, waba_id=waba,
                             value=value)


def test_only_a_qualifying_programmatic_migration_takes_the_intent_path():
    assert domain.flow_for("programmatic", YES) == "solution_intent"
    assert domain.flow_for("programmatic", NO) == "programmatic"
    assert domain.flow_for("programmatic", None) == "programmatic"
    assert domain.flow_for("embedded_signup", YES) == "embedded_signup"
    assert domain.flow_for("programmatic", YES.model_copy(update={"solution_id": None})) == "programmatic"


def test_the_timeline_says_which_path_and_why():
    assert domain.path_chosen("programmatic", YES) == ("solution_intent", "QUALIFIES", "ok")
    assert domain.path_chosen("programmatic", NO) == ("pin", "COEXISTENCE_NUMBER", "app number")
    assert domain.path_chosen("programmatic", None)[:2] == ("pin", "NOT_ASSESSED")
    assert domain.path_chosen("embedded_signup", YES) is None


def test_the_intent_path_skips_the_obo_request_and_the_code():
    order = domain.STEPS["solution_intent"]
    assert "obo" not in order and "request_code" not in order and "awaiting_code" not in order
    assert [domain.after("solution_intent", s) for s in ("intent", "awaiting_intent", "add_number")] == [
        "awaiting_intent", "add_number", "awaiting_templates"]
    assert domain.first_state("solution_intent") == "queued" and "awaiting_intent" in domain.WAITING


def test_partner_added_names_its_wabas_and_nothing_else_wakes_the_saga():
    added = change("account_update", {"event": "PARTNER_ADDED", "waba_info": {"waba_id": "202"}})
    assert solution_intent.wabas_of_partner_added(added) == ["201", "202"]
    assert solution_intent.wabas_of_partner_added(change("account_update", {"event": "VERIFIED_ACCOUNT"})) == []
    assert solution_intent.wabas_of_partner_added(change("security", {"event": "PARTNER_ADDED"})) == []


def test_only_account_update_records_are_decoded():
    status = change("messages", {"statuses": []}).model_dump_json().encode()
    assert solution_intent.account_update(status) is None
    record = change("account_update", {"event": "PARTNER_ADDED"}).model_dump_json().encode()
    assert solution_intent.account_update(record).field == "account_update"
