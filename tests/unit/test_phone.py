"""Numbers as customers type them become the E.164 keys Meta uses, digit for digit."""

from __future__ import annotations

import pytest

from shared.phone import InvalidPhoneNumber, same_line, to_e164


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


def test_brazilian_mobiles_have_a_twin_with_or_without_the_ninth_digit():
    assert same_line("+5511987654321") == {"+5511987654321", "+551187654321"}
    assert same_line("+551187654321") == {"+551187654321", "+5511987654321"}
    assert same_line("+4915112345678") == {"+4915112345678"}
