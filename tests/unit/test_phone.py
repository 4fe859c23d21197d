"""Numbers as customers type them become the E.164 keys Meta uses, digit for digit."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.gateway.models import MigrationRequest
from shared.phone import InvalidPhoneNumber, as_filter, same_line, to_e164


@pytest.mark.parametrize("typed, e164", [
    ("+55 11 98765-4321", "+5511987654321"),
    ("55 (11) 8765-4321", "+551187654321"),
    ("+49 151 1234 5678", "+4915112345678"),
])
def test_typed_numbers_normalise_without_changing_digits(typed, e164):
    assert to_e164(typed) == e164


@pytest.mark.parametrize("typed", ["12 34", "44--((7328( (", "+999 123", "hello", ""])
def test_impossible_or_too_short_numbers_are_refused(typed):
    with pytest.raises(InvalidPhoneNumber):
        to_e164(typed)


REQUEST = {"business_id": "1", "destination_waba_id": "2", "flow": "programmatic", "source": "bsp_cloud_api"}


def test_brazilian_mobiles_have_a_twin_with_or_without_the_ninth_digit():
    assert same_line("+5511987654321") == {"+5511987654321", "+551187654321"}
    assert same_line("+551187654321") == {"+551187654321", "+5511987654321"}
    assert same_line("+4915112345678") == {"+4915112345678"}


@pytest.mark.parametrize("typed, e164", [("0049 170 1234567", "+491701234567"),
                                         ("0055 (11) 8765-4321", "+551187654321"),
                                         ("+44 (0)20 7946 0958", "+442079460958")])
def test_the_00_international_prefix_and_national_decorations_are_accepted(typed, e164):
    assert to_e164(typed) == e164
    assert MigrationRequest.model_validate({**REQUEST, "phone_number": typed}).e164 == e164


@pytest.mark.parametrize("typed, says", [
    ("+49 1701 2345 6789 01", "too long: 16 digits"),
    ("+1 555 12345678", "too long for country code +1: 11 digits after it, and numbers there have 10 digits"),
    ("+49 12", "too short for country code +49"),
    ("+49 1234", "too short: 6 digits"),
    ("+999 1234567", "unknown country code"),
    ("0049 17", "too short for country code +49: 2 digits"),
    ("call me", "not a phone number"),
])
def test_every_refusal_says_what_is_wrong_in_our_words(typed, says):
    with pytest.raises(InvalidPhoneNumber) as refused:
        to_e164(typed)
    assert says in str(refused.value) and "plus" not in str(refused.value)
    with pytest.raises(ValidationError) as invalid:
        MigrationRequest.model_validate({**REQUEST, "phone_number": typed})
    assert [(e["loc"], e["type"]) for e in invalid.value.errors()] == [(("phone_number",), "phone_number_format")]
    assert says in invalid.value.errors()[0]["msg"]


@pytest.mark.parametrize("typed, compared", [("0055 (11) 98765-4321", "+5511987654321"), ("+55 11 9876", "+55119876"),
                                             ("0049 12", "+4912")])
def test_a_search_normalises_a_number_and_never_refuses_one(typed, compared):
    assert as_filter(typed) == compared
