"""The sandbox's world: businesses, WABAs and phone numbers as Meta would report them, loaded from scenarios."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SCENARIOS = Path(__file__).with_name("scenarios")


@dataclass
class Business:
    id: str
    name: str = "Sandbox business"
    verification_status: str = "verified"


@dataclass
class Waba:
    id: str
    business_id: str
    name: str = "Sandbox WABA"
    ownership_type: str = "CLIENT_OWNED"
    on_behalf_of_business_id: str | None = None
    account_review_status: str = "APPROVED"
    primary_funding_id: str | None = "funding-1"
    template_limit: int = 250
    subscribed_apps: list[dict[str, str]] = field(default_factory=list)


@dataclass
class PhoneNumber:
    id: str
    waba_id: str
    display_phone_number: str
    verified_name: str = "Sandbox Co"
    name_status: str = "APPROVED"
    new_name_status: str = "NONE"
    is_pin_enabled: bool = False
    platform_type: str = "CLOUD_API"
    account_mode: str = "LIVE"
    is_test_number: bool = False
    quality_rating: str = "GREEN"
    messaging_limit_tier: str = "TIER_1K"
    is_official_business_account: bool = False
    status: str = "CONNECTED"
    code_verification_status: str = "VERIFIED"


@dataclass
class World:
    businesses: dict[str, Business] = field(default_factory=dict)
    wabas: dict[str, Waba] = field(default_factory=dict)
    numbers: dict[str, PhoneNumber] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def load(self, scenario: dict[str, Any]) -> None:
        """Replace the world with a scenario (the parsed YAML/JSON document)."""
        self.businesses = {b["id"]: Business(**b) for b in scenario.get("businesses", [])}
        self.wabas = {w["id"]: Waba(**w) for w in scenario.get("wabas", [])}
        self.numbers = {n["id"]: PhoneNumber(**n) for n in scenario.get("phone_numbers", [])}
        self.calls.clear()
        for number in self.numbers.values():
            if number.waba_id not in self.wabas:
                raise ValueError(f"phone number {number.id} names unknown WABA {number.waba_id}")

    def numbers_of(self, waba_id: str) -> list[PhoneNumber]:
        return [n for n in self.numbers.values() if n.waba_id == waba_id]

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] != "GET"]


def read_scenario(name_or_path: str) -> dict[str, Any]:
    path = Path(name_or_path)
    if not path.exists():
        path = SCENARIOS / f"{name_or_path}.yaml"
    return yaml.safe_load(path.read_text())
