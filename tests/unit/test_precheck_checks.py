"""Each checklist rule fails alone on its own condition, names its code, remedy and actor, and the policy holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.precheck import checks, domain
from services.precheck.policy import POLICY
from tests.factories import migration_requested

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
GOOD = domain.Facts(
    business_verified=True, source_waba_business_id="100000000000001", source_waba_approved=True,
    source_waba_has_payment_method=True, source_waba_shared=True, registered_number="+5511987654321",
    in_destination=False, two_step_enabled=False, name_status="APPROVED", name_change_pending=False,
    test_number=False, account_mode="LIVE", platform="CLOUD_API", destination_apps_subscribed=1, website_live=True,
)
REQUEST = migration_requested(website="https://padaria.example")

ONE_FAILURE = [
    ("BUSINESS_NOT_VERIFIED", {"business_verified": False}, {}, "customer"),
    ("BUSINESS_MISMATCH", {"source_waba_business_id": "100000000000002"}, {}, "customer"),
    ("ADMIN_ACCESS_NOT_CONFIRMED", {}, {"admin_access_confirmed": False}, "customer"),
    ("SOURCE_WABA_NOT_APPROVED", {"source_waba_approved": False}, {}, "current_bsp"),
    ("SOURCE_WABA_NO_PAYMENT_METHOD", {"source_waba_has_payment_method": False}, {}, "customer"),
    ("TWO_STEP_ENABLED_SHARED_WABA", {"two_step_enabled": True}, {}, "current_bsp"),
    ("TWO_STEP_ENABLED_OWNED_WABA", {"two_step_enabled": True, "source_waba_shared": False}, {}, "customer"),
    ("DISPLAY_NAME_NOT_APPROVED", {"name_status": "PENDING_REVIEW"}, {}, "customer"),
    ("DISPLAY_NAME_CHANGE_PENDING", {"name_change_pending": True}, {}, "customer"),
    ("TEST_NUMBER", {"test_number": True}, {}, "customer"),
    ("SANDBOX_ACCOUNT", {"account_mode": "SANDBOX"}, {}, "customer"),
    ("SOURCE_PLATFORM_MISMATCH", {}, {"source": "bsp_on_premises"}, "numport"),
    ("WEBSITE_DOWN", {"website_live": False}, {}, "customer"),
    ("BR_NINTH_DIGIT_MISMATCH", {"registered_number": "+551187654321"}, {}, "customer"),
    ("DESTINATION_NO_WEBHOOK_APP", {"destination_apps_subscribed": 0}, {}, "numport"),
]


def verdict(facts: domain.Facts, request=REQUEST):
    return domain.decide(request, facts, NOW, checks.ALL_CHECKS, POLICY[request.flow])


def test_all_good_is_eligible_with_every_check_reported():
    outcome, report, event = verdict(GOOD)
    assert outcome == "eligible" and event.type == "NumberEligible"
    assert [c.check for c in report] == [c.__name__ for c in checks.ALL_CHECKS]
    assert all(c.status == "pass" for c in report)


@pytest.mark.parametrize("code, fact_changes, request_changes, actor", ONE_FAILURE, ids=[c[0] for c in ONE_FAILURE])
def test_each_rule_fails_alone(code, fact_changes, request_changes, actor):
    request = migration_requested(website="https://padaria.example", **request_changes)
    outcome, report, event = verdict(replace(GOOD, **fact_changes), request)
    failed = [c for c in report if c.status == "fail"]
    assert outcome == "ineligible" and event.failed == (code,)
    assert len(failed) == 1 and failed[0].reason_code == code and failed[0].actor == actor
    assert failed[0].message and failed[0].remedy


def test_five_failures_are_all_reported():
    bad = replace(GOOD, business_verified=False, two_step_enabled=True, name_change_pending=True, test_number=True,
                  destination_apps_subscribed=0)
    _, _, event = verdict(bad)
    assert set(event.failed) == {"BUSINESS_NOT_VERIFIED", "TWO_STEP_ENABLED_SHARED_WABA",
                                 "DISPLAY_NAME_CHANGE_PENDING", "TEST_NUMBER", "DESTINATION_NO_WEBHOOK_APP"}


@pytest.mark.parametrize("given, registered, status", [
    ("+5511987654321", "+5511987654321", "pass"),
    ("+5511987654321", "+551187654321", "fail"),
    ("+551187654321", "+5511987654321", "fail"),
    ("+551187654321", "+551187654321", "pass"),
    ("+4915112345678", "+4915112345678", "not_applicable"),
])
def test_brazilian_ninth_digit_must_match_the_profile(given, registered, status):
    _, report, _ = verdict(replace(GOOD, registered_number=registered), migration_requested(phone_number=given))
    check = next(c for c in report if c.check == "brazil_ninth_digit_as_registered")
    assert check.status == status
    assert status != "fail" or f"with the phone number {registered}:" in check.remedy  # the exact form to submit


def test_no_website_means_not_applicable():
    _, report, _ = verdict(replace(GOOD, website_live=None))
    assert next(c for c in report if c.check == "website_live").status == "not_applicable"


@pytest.mark.parametrize("facts, outcome", [
    (replace(GOOD, in_destination=True), "already_moved"),
    (replace(GOOD, registered_number=None), "add_directly"),
])
def test_numbers_that_need_no_migration_end_with_their_outcome(facts, outcome):
    result, report, event = verdict(facts)
    assert result == outcome and event.type == "MigrationNotNeeded" and event.outcome == outcome and report == []


def test_embedded_signup_skips_business_admin_and_platform_checks():
    request = migration_requested(flow="embedded_signup", admin_access_confirmed=False, source="bsp_on_premises")
    outcome, report, _ = verdict(replace(GOOD, source_waba_business_id="100000000000002"), request)
    assert outcome == "eligible"
    skipped = {c.check for c in report if c.status == "not_applicable"}
    assert {"same_business", "admin_access", "source_platform"} <= skipped
