"""The saga's pure rules about writes still in flight at Meta and the support ticket's live facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.registration import domain

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LIMITS = domain.Limits(write_outcome_window=timedelta(seconds=30))


def test_an_unanswered_write_is_trusted_to_meta_until_its_window_has_passed():
    assert domain.still_in_flight(T0, T0 + timedelta(seconds=1), LIMITS) == timedelta(seconds=29)
    assert domain.still_in_flight(T0, T0 + timedelta(seconds=29.5), LIMITS) == timedelta(seconds=0.5)
    assert domain.still_in_flight(T0, T0 + timedelta(seconds=30), LIMITS) is None
    assert domain.still_in_flight(T0, T0 + timedelta(hours=2), LIMITS) is None


def ticket(platform: str) -> dict[str, str]:
    return domain.support_ticket(current_bsp="business:1", business_verified=True, platform=platform,
                                 number_status="CONNECTED", waba_id="2", business_id="3", phone_number="+4917012345")


def test_the_ticket_names_the_infrastructure_meta_reports():
    assert ticket("CLOUD_API")["infrastructure"] == "Cloud API"
    assert ticket("ON_PREMISE")["infrastructure"] == "On-Premises"
    assert ticket("NOT_APPLICABLE")["infrastructure"] == "unknown (Meta reports NOT_APPLICABLE)"
    assert ticket("")["infrastructure"] == "unknown (Meta reports nothing)"
