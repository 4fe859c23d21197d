"""The patterns the partner API enforces, written into its OpenAPI document so that a pattern match is a promise:
every value a pattern admits passes the API's own validation, and nothing else does."""

from __future__ import annotations

from itertools import groupby

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from shared.phone import FEWEST, MOST  # digits of a WhatsApp number with its country code

GRAPH_ID = r"^[0-9]{1,20}$"
E164 = r"^\+[1-9][0-9]{6,14}$"
NUMBER_FILTER = r"^(?:\+|00)?[0-9][0-9 ().-]{5,31}$"  # a number as typed; a search normalises it (shared.phone)
CURSOR = r"^[0-9]{1,16}\.[0-9a-f]{32}$"  # microseconds since the epoch, then the migration id (repository.py)
SEPARATOR = "[ ().-]*"


def national_lengths(country_code: int) -> tuple[list[int], bool]:
    """The national number's possible lengths, and whether a trunk prefix 0 may precede it ("+44 (0)20 …"): only
    where libphonenumber strips a lone 0 and nothing else (no carrier codes, no rewriting).

    Where a typed leading 0 could be read as that trunk prefix and leave fewer than 7 digits (Germany, Austria
    and Iran have 4-digit numbers), the shortest lengths are left out rather than admitted and then refused.
    """
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    possible = [n for n in metadata.general_desc.possible_length if n > 0]
    prefix = len(str(country_code))
    shortest = FEWEST if prefix + min(possible) >= FEWEST else FEWEST + 1
    strips = (metadata.national_prefix_for_parsing or "").split("|")
    trunk = not metadata.national_prefix_transform_rule and "0" in strips
    return sorted(n for n in possible if shortest <= prefix + n <= MOST), trunk


def _national(lengths: list[int], trunk: bool) -> str:
    """One of `lengths` digits, each after any separators; with a trunk prefix, a "0" may come first, then a digit
    other than 0 (libphonenumber reads a second 0 otherwise)."""
    runs = [[n for _, n in run] for _, run in groupby(enumerate(lengths), lambda pair: pair[1] - pair[0])]
    shift = 1 if trunk else 0  # with a trunk prefix, the first digit is spelled out before the rest
    counts = [f"{{{r[0] - shift}}}" if len(r) == 1 else f"{{{r[0] - shift},{r[-1] - shift}}}" for r in runs]
    rest = [f"(?:{SEPARATOR}[0-9]){c}" for c in counts]
    first = f"(?:{SEPARATOR}0{SEPARATOR}[1-9]|{SEPARATOR}[0-9])" if trunk else ""
    return first + (rest[0] if len(rest) == 1 else f"(?:{'|'.join(rest)})")


def phone_pattern() -> str:
    """International format: optional '+' or '00', the country code, then a national number of a length its
    numbering plan allows (libphonenumber's metadata), spaces, dots, dashes and brackets anywhere between digits."""
    shapes: dict[tuple[tuple[int, ...], bool], list[str]] = {}
    for code in sorted(COUNTRY_CODE_TO_REGION_CODE):
        lengths, trunk = national_lengths(code)
        if lengths:
            shapes.setdefault((tuple(lengths), trunk), []).append(str(code))
    branches = [f"(?:{'|'.join(codes)}){_national(list(lengths), trunk)}" for (lengths, trunk), codes in shapes.items()]
    return r"^(?:\+|00)?(?:" + "|".join(branches) + ")$"


PHONE = phone_pattern()
