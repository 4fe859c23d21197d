"""Registration's no-code path: the choice from the qualification, its steps, fallbacks, and waking webhooks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from services.registration import domain, solution_intent, steps
from services.registration.repository import SagaRow
from shared.events import MetaWebhookChange, SolutionMigrationQualification
from shared.graph import GraphPermanentError

YES = SolutionMigrationQualification(qualifies=True, reason_code="QUALIFIES", message="ok", solution_id="8")
NO = SolutionMigrationQualification(qualifies=False, reason_code="COEXISTENCE_NUMBER", message="app number")


NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class FakeMeta:
    """The two Graph calls of the intent path: an answer per call, or Meta's refusal."""

    def __init__(self, intent: dict[str, Any] | None = None, refuse: bool = False) -> None:
        self.intent, self.refuse, self.set_on = intent or {}, refuse, []

    async def set_migration_intent(self, waba_id: str, solution_id: str) -> str:
        if self.refuse:
            raise GraphPermanentError(422, {"code": 100, "message": "not in this state"})
        self.set_on.append((waba_id, solution_id))
        return "900000000000042"

    async def migration_intent(self, intent_id: str) -> dict[str, Any]:
        return {"id": intent_id, **self.intent}


def saga(state: str = "awaiting_intent") -> SagaRow:
    return SagaRow(uuid.uuid4(), uuid.uuid4(), "+5511987654321", "partner-a", "100000000000001", "202", "201",
                   "solution_intent", "bsp_cloud_api", state, None, None, None, 0, "SMS", 0, 0, [], None, NOW, NOW,
                   intent_solution_id="8", migration_intent_id="900000000000042")


def ctx(api: FakeMeta) -> steps.Context:
    return steps.Context(api, NOW, domain.Limits(), "100000000000009", "400000000000001", "USD")  # type: ignore[arg-type]


async def test_setting_the_intent_waits_for_the_customer():
    api = FakeMeta()
    outcome = await solution_intent.intent_send(saga("intent"), ctx(api))
    assert api.set_on == [("201", "8")]
    assert (outcome.state, outcome.changes) == ("awaiting_intent", {"migration_intent_id": "900000000000042"})
    assert set(outcome.timers) == {"intent_poll", "intent_expiry"}
    assert [(e.path, e.reason_code) for e in outcome.events] == [("solution_intent", "INTENT_SET")]


@pytest.mark.parametrize(("status", "destination", "state", "reason"), [
    ("ACCEPTED", "202", "add_number", "INTENT_ACCEPTED"),
    ("COMPLETED", None, "add_number", "INTENT_ACCEPTED"),
    ("ACCEPTED", "299", "obo", "INTENT_DESTINATION_MISMATCH"),
    ("REJECTED", None, "obo", "INTENT_REJECTED"),
])
async def test_the_customers_answer_decides_the_path(status, destination, state, reason):
    intent = {"status": status, **({"destination_waba": {"id": destination}} if destination else {})}
    outcome = await solution_intent.on_intent_poll(saga(), ctx(FakeMeta(intent)))
    assert outcome.state == state and [e.reason_code for e in outcome.events] == [reason]
    assert outcome.changes == ({"flow": "programmatic"} if state == "obo" else {})
    assert set(outcome.clear) == set(solution_intent.INTENT_TIMERS)


async def test_an_open_intent_is_read_again_later():
    outcome = await solution_intent.on_intent_poll(saga(), ctx(FakeMeta({"status": "INITIATED"})))
    assert (outcome.state, outcome.events, list(outcome.timers)) == ("awaiting_intent", [], ["intent_poll"])


async def test_a_refused_or_expired_intent_falls_back_to_the_code_path():
    refused = await solution_intent.intent_send(saga("intent"), ctx(FakeMeta(refuse=True)))
    expired = await solution_intent.on_intent_expiry(saga(), ctx(FakeMeta()))
    for outcome, reason in ((refused, "INTENT_REFUSED"), (expired, "INTENT_EXPIRED")):
        assert (outcome.state, outcome.changes) == ("obo", {"flow": "programmatic"})
        assert [(e.path, e.reason_code) for e in outcome.events] == [("pin", reason)]


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
