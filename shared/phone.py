"""Phone numbers as Meta keys them: E.164, with Brazil's ninth digit compared exactly as registered."""

from __future__ import annotations

import enum

import phonenumbers
from phonenumbers import PhoneMetadata


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(typed: str) -> str:
    """Normalise what a customer typed (spaces, dashes, brackets, a '00' or '+' before the country code) to E.164
    without changing any digit; a refusal says what is wrong in words a customer can act on."""
    text = typed.strip()
    text = f"+{text[2:]}" if text.startswith("00") else text if text.startswith("+") else f"+{text}"
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(_PARSE_REFUSALS.get(exc.error_type, NOT_A_NUMBER)) from None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    digits = len(e164) - 1
    if digits > MOST:  # WhatsApp numbers have 7 to 15 digits with the country code, whatever a plan allows
        raise InvalidPhoneNumber(f"too long: {digits} digits, and a phone number has at most {MOST} with its "
                                 "country code")
    if (reason := phonenumbers.is_possible_number_with_reason(parsed)) != Possible.IS_POSSIBLE:
        raise InvalidPhoneNumber(_length_refusal(parsed, reason))
    if digits < FEWEST:  # shorter "possible" numbers are service codes
        raise InvalidPhoneNumber(f"too short: {digits} digits, and a WhatsApp business number has at least "
                                 f"{FEWEST} with its country code")
    return e164


FEWEST, MOST = 7, 15
Possible = phonenumbers.ValidationResult
NOT_A_NUMBER = "not a phone number: write the country code first (after '+' or '00'), then the number's digits"
UNKNOWN_CODE = "unknown country code: after '+' or '00' comes a country code, such as 49 for Germany or 55 for Brazil"
_PARSE_REFUSALS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: UNKNOWN_CODE,
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short: only a country code, or less",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short: the number after the country code is missing",
    phonenumbers.NumberParseException.TOO_LONG: f"too long: a phone number has at most {MOST} digits",
}


def _length_refusal(parsed: phonenumbers.PhoneNumber, reason: int) -> str:
    """Why a number of a known shape is refused, with the lengths its country's numbering plan allows."""
    code = parsed.country_code
    if reason == Possible.INVALID_COUNTRY_CODE:
        return f"unknown country code +{code}: " + UNKNOWN_CODE.split(": ", 1)[1]
    region = phonenumbers.region_code_for_country_code(code)
    lengths = PhoneMetadata.metadata_for_region_or_calling_code(code, region).general_desc.possible_length
    given, allowed = len(str(parsed.national_number)), _spell(sorted(n for n in lengths if n > 0))
    word = {Possible.TOO_LONG: "too long", Possible.INVALID_LENGTH: "the wrong length"}.get(reason, "too short")
    return f"{word} for country code +{code}: {given} digits after it, and numbers there have {allowed} digits"


def _spell(lengths: list[int]) -> str:
    if lengths == list(range(lengths[0], lengths[-1] + 1)):
        return f"{lengths[0]}" if len(lengths) == 1 else f"{lengths[0]} to {lengths[-1]}"
    return ", ".join(map(str, lengths[:-1])) + f" or {lengths[-1]}"


def as_filter(typed: str) -> str:
    """What a search compares with the stored E.164: the number normalised, or, when it is none, its digits after
    a '+' (which no stored number matches); a search never refuses what people type."""
    try:
        return to_e164(typed)
    except InvalidPhoneNumber:
        digits = "".join(c for c in typed if c.isdigit())
        return "+" + (digits[2:] if typed.strip().startswith("00") else digits)


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
