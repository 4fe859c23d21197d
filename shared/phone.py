"""Phone numbers as Meta keys them: E.164, with Brazil's ninth digit compared exactly as registered."""

from __future__ import annotations

import enum
import re

import phonenumbers

E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(typed: str) -> str:
    """Normalise what a customer typed (spaces, dashes, brackets) to E.164 without changing any digit."""
    try:
        parsed = phonenumbers.parse(typed if typed.strip().startswith("+") else f"+{typed.strip()}", None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"not a phone number in international format: {exc}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber("not a possible phone number for its country code")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not E164.fullmatch(e164):  # WhatsApp numbers have 7 to 15 digits; shorter "possible" numbers are service codes
        raise InvalidPhoneNumber("too short to be a WhatsApp business number")
    return e164


class BrazilNinthDigit(enum.Enum):
    NOT_BRAZILIAN = "not_brazilian"
    SAME = "same"
    DIFFERENT = "different"


def brazil_ninth_digit(given: str, registered: str | None) -> BrazilNinthDigit:
    """+55 11 9xxxx-xxxx and +55 11 xxxx-xxxx are two numbers to Meta: the given one must match the profile."""
    if not given.startswith("+55") or registered is None:
        return BrazilNinthDigit.NOT_BRAZILIAN
    return BrazilNinthDigit.SAME if given == registered else BrazilNinthDigit.DIFFERENT


def same_line(e164: str) -> set[str]:
    """The number itself plus, for a Brazilian mobile, its twin with or without the ninth digit."""
    twins = {e164}
    if e164.startswith("+55"):
        area, rest = e164[3:5], e164[5:]
        if len(rest) == 9 and rest.startswith("9"):
            twins.add(f"+55{area}{rest[1:]}")
        elif len(rest) == 8:
            twins.add(f"+55{area}9{rest}")
    return twins
