"""360dialog's partner-change rules, pure: all numbers or none, the steps in order, every refusal with its code."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.partner_change import domain
from services.partner_change.domain import Holding, PartnerTerms, Refused
from services.partner_change.parties import NotFound, Party, authorize, number_access, redact

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
DAY = timedelta(days=1)
WABA = [Holding(f"+4915100000{i}", "210", "100", "partner-a", busy=False) for i in (1, 2, 3)]
AUTO = PartnerTerms("partner-b", "auto", "default", False)
MANUAL_PAYING = PartnerTerms("partner-m", "manual", "default", True)


def ask(holdings=WABA, named=None, terms=AUTO, destination="partner-b", processor="default"):
    return domain.request(uuid.uuid4(), holdings, named, terms, destination, processor, NOW)


@pytest.mark.parametrize("named, terms, destination, holdings, processor, code", [
    ([WABA[0].phone_number], AUTO, "partner-b", WABA, "default", "all_numbers_move_together"),
    (None, None, "partner-z", WABA, "default", "unknown_destination_partner"),
    (None, PartnerTerms("partner-a", "auto", "default", False), "partner-a", WABA, "default", "same_partner"),
    (None, AUTO, "partner-b", [WABA[0], replace(WABA[1], busy=True)], "default", "number_in_progress"),
    (None, AUTO, "partner-b", WABA, "stripe-legacy", "payment_processor_mismatch"),
])
def test_each_refusal_has_its_code_and_field(named, terms, destination, holdings, processor, code):
    with pytest.raises(Refused) as refused:
        ask(holdings, named, terms, destination, processor)
    assert refused.value.code == code and str(refused.value)


def test_an_auto_partner_skips_payment_and_approval_and_fixes_the_instant_at_submission():
    change = domain.review(ask(named=[h.phone_number for h in WABA]), [h.phone_number for h in reversed(WABA)])
    submitted = domain.accept_terms(change, NOW + DAY, 7 * DAY)
    assert (submitted.state, submitted.transfer_at) == ("approved", NOW + DAY)
    done = domain.transfer(submitted)
    assert done.state == "completed" and done.phone_numbers == tuple(sorted(h.phone_number for h in WABA))


def test_a_manual_paying_partner_takes_every_step_and_may_let_the_request_expire():
    change = domain.review(ask(terms=MANUAL_PAYING, destination="partner-m"), [h.phone_number for h in WABA])
    with pytest.raises(Refused, match="the next step is accept the terms"):
        domain.approve(change, NOW)
    accepted = domain.accept_terms(change, NOW, DAY)
    assert accepted.state == "terms_accepted"
    waiting = domain.confirm_payment(accepted, NOW, DAY)
    assert (waiting.state, waiting.deadline) == ("awaiting_approval", NOW + DAY)
    assert domain.expire(waiting, NOW + DAY - timedelta(microseconds=1)) is None
    assert domain.expire(waiting, NOW + DAY).state == "expired"
    assert domain.decline(waiting).state == "declined"
    assert domain.approve(waiting, NOW + DAY / 2).transfer_at == NOW + DAY / 2


def test_a_review_of_fewer_numbers_is_refused_and_grants_only_cover_the_waba():
    change = ask()
    with pytest.raises(Refused) as refused:
        domain.review(change, [WABA[0].phone_number])
    assert refused.value.code == "all_numbers_move_together" and refused.value.field == "phone_numbers"
    with pytest.raises(Refused):
        domain.grantable(change, [WABA[0].phone_number])  # not transferred yet
    done = domain.transfer(domain.accept_terms(domain.review(change, list(change.phone_numbers)), NOW, DAY))
    assert domain.grantable(done, [WABA[1].phone_number, WABA[0].phone_number]) == sorted(
        [WABA[0].phone_number, WABA[1].phone_number])
    with pytest.raises(Refused, match="did not move"):
        domain.grantable(done, ["+4915199999999"])


def test_parties_customer_drives_destination_approves_source_only_watches():
    change = ask()
    customer, source, destination = Party("customer", "acme", "100"), Party("partner", "partner-a"), \
        Party("partner", "partner-b")
    assert authorize(change, customer, "accept_terms") == "customer"
    assert authorize(change, destination, "approve") == "destination_partner"
    with pytest.raises(Refused, match="only the destination partner"):
        authorize(change, source, "decline")
    with pytest.raises(Refused):
        authorize(change, destination, "grant")
    for stranger in (Party("customer", "other", "999"), Party("partner", "partner-z")):
        with pytest.raises(NotFound):
            authorize(change, stranger, "view")
    assert redact({"destination_partner_id": "partner-b", "managed_numbers": []}, "source_partner") == {
        "destination_partner_id": None, "managed_numbers": None}
    moved = Holding(WABA[0].phone_number, "210", "100", "partner-b", busy=False, managed=False)
    assert [number_access(moved, p) for p in (customer, source, destination)] == ["owner", None, "read"]
