"""The templates service's rules: eligibility with a reason each, the limit and its order, the calls, Meta's answers
and webhooks, the downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.templates import domain, outcomes
from services.templates.domain import Template

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def t(name: str, language: str = "en_US", category: str = "UTILITY", status: str = "APPROVED",
      quality: str = "GREEN", ident: str | None = None) -> Template:
    return Template(ident or f"{name}.{language}", name, language, category, status, quality)


def fates(decisions: list[domain.Decision]) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {d.template.key: (d.outcome, d.reason_code) for d in decisions}


def test_only_approved_and_green_migrate_and_every_other_template_has_its_own_reason():
    source = [t("ok"), *(t(s.lower(), status=s) for s in ("REJECTED", "PENDING", "PAUSED", "DISABLED", "IN_APPEAL")),
              *(t(q.lower(), quality=q) for q in ("YELLOW", "RED", "UNKNOWN"))]
    decided = domain.decide(source, [], 250)
    assert [d.outcome for d in decided] == ["migrate"] + ["skipped"] * 8
    codes = [d.reason_code for d in decided[1:]]
    assert codes == ["STATUS_REJECTED", "STATUS_PENDING", "STATUS_PAUSED", "STATUS_DISABLED", "STATUS_IN_APPEAL",
                     "QUALITY_YELLOW", "QUALITY_RED", "QUALITY_UNKNOWN"]
    assert len({d.reason for d in decided[1:]}) == 8  # each in its own words


def test_the_limit_counts_names_fills_by_category_then_name_and_keeps_languages_together():
    destination = [t("order_update"), t("legacy")]
    source = [t("welcome", category="MARKETING"), t("receipt", "pt_BR"), t("receipt"),
              t("otp", category="AUTHENTICATION"), t("order_update"), t("order_update", "pt_BR"),
              t("alpha", category="MARKETING")]
    decided = fates(domain.decide(source, destination, limit=4))  # two names there: room for two
    assert decided == {("welcome", "en_US"): ("left_out", "LIMIT"), ("receipt", "pt_BR"): ("migrate", None),
                       ("receipt", "en_US"): ("migrate", None), ("otp", "en_US"): ("migrate", None),
                       ("order_update", "en_US"): ("already_present", "ALREADY_PRESENT"),
                       ("order_update", "pt_BR"): ("migrate", None),  # a name already there takes no slot
                       ("alpha", "en_US"): ("left_out", "LIMIT")}
    assert domain.names_in_order(source) == ["otp", "order_update", "receipt", "alpha", "welcome"]


def test_a_full_destination_takes_nothing_new_and_the_limit_follows_the_business():
    full = [t(f"x{i}") for i in range(250)]
    assert {o for o, _ in fates(domain.decide([t("a"), t("b")], full, 250)).values()} == {"left_out"}
    assert domain.template_limit(True, True) == 6000
    assert domain.template_limit(True, False) == domain.template_limit(False, True) == 250


def test_pages_when_metas_own_pick_is_ours_and_exact_ids_otherwise():
    source = [t(f"n{i:04d}") for i in range(1100)]
    paged = domain.calls(source, domain.decide(source, [], 6000), 500)
    assert [(c.page_number, c.count, c.template_ids) for c in paged] == [(0, 500, ()), (1, 500, ()), (2, 500, ())]
    unrated = [*source, t("fresh", quality="UNKNOWN")]  # Meta's call would copy it; numport's rule does not
    exact = domain.calls(unrated, domain.decide(unrated, [], 6000), 500)
    assert [len(c.template_ids) for c in exact] == [500, 500, 100] and all(c.page_number is None for c in exact)
    assert "fresh.en_US" not in {i for c in exact for i in c.template_ids}
    present = domain.calls(source, domain.decide(source, [t("n0000")], 6000), 500)
    assert sum(len(c.template_ids) for c in present) == 1099
    retried = domain.calls(source[:3], domain.decide(source[:3], [], 6000), 500, exact=True)
    assert retried == [domain.Call(None, 3, ("n0000.en_US", "n0001.en_US", "n0002.en_US"))]
    assert domain.calls(source, domain.decide(source, [], 6000), 9999)[0].count == 500


def test_failed_templates_is_read_as_a_map_and_as_a_list():
    assert domain.failures({"failed_templates": {"1": "Incorrect category"}}) == {"1": "Incorrect category"}
    listed = {"failed_templates": [{"id": "2", "reason": "Formatting error"}, "3"]}
    assert domain.failures(listed) == {"2": "Formatting error", "3": "Meta gave no reason"}
    assert domain.failures({"migrated_templates": ["9"]}) == {}
    assert domain.meta_refusal("The destination WABA's template limit is reached.") == ("left_out", "META_LIMIT")
    assert domain.meta_refusal("Formatting error - dangling parameter") == ("failed", "META_FAILED")


def test_a_copy_seen_on_the_destination_is_usable_then_rated_after_24_hours():
    seen = outcomes.settle(t("a", ident="77"), None, T0, may_resend=False)
    assert (seen.outcome, seen.template_id, seen.usable_at, seen.rating_window_ends_at) == (
        "migrated", "77", T0, T0 + timedelta(hours=24))
    assert outcomes.settle(t("a", status="REJECTED"), None, T0, False).outcome == "rejected"
    assert outcomes.settle(None, "template limit reached", T0, True).outcome == "left_out"
    assert outcomes.settle(None, None, T0, may_resend=True) is None  # sent again by id
    assert outcomes.settle(None, None, T0, may_resend=False).reason_code == "NOT_ON_DESTINATION"


def test_downtime_is_zero_when_every_template_came_before_registration():
    assert outcomes.downtime(T0, [T0 - timedelta(seconds=5), T0]) == (T0, 0.0)
    same_second = T0 + timedelta(seconds=0.4)  # Meta's registration instant is to the second
    assert outcomes.downtime(T0, [same_second]) == (same_second, 0.0)
    late = T0 + timedelta(seconds=42.7)
    assert outcomes.downtime(T0, [T0, late]) == (late, 42.0)
    assert outcomes.downtime(T0, []) == (None, 0.0)


def test_metas_template_webhooks_are_read_and_a_rejection_is_a_recategorisation():
    status = outcomes.change_of("message_template_status_update", {
        "event": "REJECTED", "message_template_id": 123, "message_template_name": "receipt",
        "message_template_language": "pt-BR", "reason": "INCORRECT_CATEGORY"})
    assert (status.language, status.template_id, status.status, status.reason) == ("pt_BR", "123", "REJECTED",
                                                                                   "INCORRECT_CATEGORY")
    assert outcomes.outcome_after("migrated", status) == "rejected" and outcomes.recategorised(status, "UTILITY")
    announced = outcomes.change_of("template_category_update", {
        "message_template_name": "receipt", "message_template_language": "en_US", "correct_category": "MARKETING",
        "new_category": "UTILITY"})
    assert announced.correct_category == "MARKETING" and outcomes.recategorised(announced, "UTILITY")
    done = outcomes.change_of("template_category_update", {
        "message_template_name": "receipt", "message_template_language": "en_US", "previous_category": "UTILITY",
        "new_category": "MARKETING"})
    assert outcomes.recategorised(done, "UTILITY") and not outcomes.recategorised(done, "MARKETING")
    approved = outcomes.change_of("message_template_status_update", {
        "event": "APPROVED", "message_template_name": "receipt", "message_template_language": "en_US",
        "reason": "NONE"})
    assert not outcomes.recategorised(approved, "UTILITY") and approved.reason is None
    assert outcomes.outcome_after("rejected", approved) == "migrated"
    assert outcomes.change_of("messages", {"statuses": []}) is None
    assert outcomes.change_of("message_template_status_update", {"event": "APPROVED"}) is None
