"""The sandbox's world: businesses, WABAs, numbers, templates, OBO requests and codes, as Meta would hold them."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from sandbox.request_log import WriteRecord, applied
from sandbox.solution_model import MigrationIntent, Solution

SCENARIOS = Path(__file__).with_name("scenarios")


@dataclass
class Business:
    id: str
    name: str = "Sandbox business"
    verification_status: str = "verified"
    timezone_id: int = 1  # Meta's timezone ids are numbers; 1 is America/Los_Angeles
    credit_line_id: str | None = None  # a BSP's extended credit line, shared with customers' WABAs


@dataclass
class Waba:
    id: str
    business_id: str  # the owning business portfolio
    name: str = "Sandbox WABA"
    ownership_type: str = "CLIENT_OWNED"
    on_behalf_of_business_id: str | None = None  # set when a BSP owns the WABA for a customer (shared WABA)
    account_review_status: str = "APPROVED"
    primary_funding_id: str | None = "funding-1"
    currency: str = "USD"
    timezone_id: str = "1"  # the WABA's timezone, a string on this node
    template_limit: int | None = None  # None: Meta's rule (sandbox.rules.template_limit); a number pins it
    subscribed_apps: list[dict[str, str]] = field(default_factory=list)

    @property
    def customer_business_id(self) -> str:
        """The business the WABA represents: the customer for a shared WABA, else the owner."""
        return self.on_behalf_of_business_id or self.business_id


@dataclass
class PhoneNumber:
    id: str
    waba_id: str
    display_phone_number: str
    verified_name: str = "Sandbox Co"
    name_status: str = "APPROVED"
    new_name_status: str = "NONE"
    pin: str | None = None  # two-step verification PIN; None = two-step verification off
    platform_type: str = "CLOUD_API"
    account_mode: str = "LIVE"
    is_test_number: bool = False
    is_on_biz_app: bool = False  # also on the WhatsApp Business app (coexistence)
    quality_rating: str = "GREEN"
    messaging_limit_tier: str = "TIER_1K"
    is_official_business_account: bool = False
    status: str = "CONNECTED"
    code_verification_status: str = "VERIFIED"
    migrating_to: str | None = None  # destination WABA once added there with the migrate flag
    last_onboarded_time: str | None = None  # when the number last registered, in Meta's format

    @property
    def is_pin_enabled(self) -> bool:
        return self.pin is not None

    @property
    def e164_digits(self) -> str:
        return "".join(ch for ch in self.display_phone_number if ch.isdigit())


@dataclass
class Template:
    id: str
    waba_id: str
    name: str
    language: str = "en_US"
    category: str = "UTILITY"
    status: str = "APPROVED"
    quality_score: str = "GREEN"
    quality_date: int = field(default_factory=lambda: int(datetime.now(UTC).timestamp()))  # when it was last rated
    parameter_format: str = "POSITIONAL"  # placeholders are {{1}}, {{2}}… (NAMED: {{first_name}})
    components: list[dict[str, Any]] = field(default_factory=lambda: [  # Meta keeps the example given at creation
        {"type": "BODY", "text": "Hello {{1}}", "example": {"body_text": [["Ana"]]}}])
    copied_by: str | None = None  # on a copy: "migrate_message_templates", or "registration" (Meta's automatic copy)
    under_review: bool = False  # a copy whose category Meta has not re-checked yet (POST /_sandbox/templates/review)


@dataclass
class OboRequest:
    id: str
    waba_id: str  # the requesting (destination) WABA
    receiving_business_id: str
    requesting_business_id: str
    status: str = "PENDING"


@dataclass
class Code:
    """An ownership code 'delivered' to the number by SMS or voice; the admin API reads it like the customer."""

    value: str
    method: str
    language: str
    expires_at: datetime
    wrong_attempts: int = 0


@dataclass
class Limits:
    code_ttl: timedelta = timedelta(minutes=10)
    code_requests_per_hour: int = 5
    wrong_codes_allowed: int = 5
    registers_per_window: int = 10
    register_window: timedelta = timedelta(hours=72)
    rejected_share: float = 0.0  # share of duplicated templates re-categorised to REJECTED
    auto_accept_obo: bool = False
    register_leaves_pending: bool = False  # the number stays "setting up" after register (Meta sometimes is slow)


@dataclass
class World:
    businesses: dict[str, Business] = field(default_factory=dict)
    wabas: dict[str, Waba] = field(default_factory=dict)
    numbers: dict[str, PhoneNumber] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=dict)
    obo_requests: dict[str, OboRequest] = field(default_factory=dict)
    solutions: dict[str, Solution] = field(default_factory=dict)  # Multi-Partner Solutions
    intents: dict[str, MigrationIntent] = field(default_factory=dict)  # solution-migration intents
    allocations: dict[str, dict[str, str]] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)
    code_requests: dict[str, list[datetime]] = field(default_factory=dict)
    registrations: dict[str, list[datetime]] = field(default_factory=dict)
    calls: list[tuple[str, str, int]] = field(default_factory=list)
    requests: list[WriteRecord] = field(default_factory=list)  # every Graph write, for the request log
    limits: Limits = field(default_factory=Limits)
    app: dict[str, str] = field(default_factory=lambda: {"id": "400000000000001", "name": "numport",
                                                         "link": "https://numport.example"})
    clock_offset: timedelta = timedelta(0)
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    _ids: itertools.count = field(default_factory=lambda: itertools.count(900000000000001))

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def new_id(self) -> str:
        return str(next(self._ids))

    def load(self, scenario: dict[str, Any]) -> None:
        """Replace the world with a scenario (the parsed YAML/JSON document)."""
        fresh = World()
        fresh.businesses = {b["id"]: Business(**b) for b in scenario.get("businesses", [])}
        fresh.wabas = {w["id"]: Waba(**w) for w in scenario.get("wabas", [])}
        fresh.numbers = {n["id"]: PhoneNumber(**n) for n in scenario.get("phone_numbers", [])}
        listed = [*scenario.get("templates", []), *_template_batches(scenario.get("template_batches", []))]
        fresh.templates = {t["id"]: Template(**t) for t in listed}
        fresh.solutions = {s["id"]: Solution(**s) for s in scenario.get("solutions", [])}
        fresh.limits = Limits(**{k: _limit(k, v) for k, v in scenario.get("limits", {}).items()})
        for owner in [*fresh.numbers.values(), *fresh.templates.values()]:
            if owner.waba_id not in fresh.wabas:
                raise ValueError(f"{type(owner).__name__} {owner.id} names unknown WABA {owner.waba_id}")
        self.__dict__.update(fresh.__dict__)

    def numbers_of(self, waba_id: str) -> list[PhoneNumber]:
        return [n for n in self.numbers.values() if n.waba_id == waba_id]

    def templates_of(self, waba_id: str) -> list[Template]:
        return [t for t in self.templates.values() if t.waba_id == waba_id]

    def number_by_digits(self, digits: str) -> PhoneNumber | None:
        return next((n for n in self.numbers.values() if n.e164_digits == digits), None)

    @property
    def writes(self) -> list[tuple[str, str, int]]:
        return [c for c in self.calls if c[0] != "GET"]

    def succeeded(self, method: str, path_end: str) -> int:
        """How many calls of this kind Meta answered with success (the crash tests count registers this way)."""
        return sum(1 for m, p, status in self.calls if m == method and p.endswith(path_end) and status == 200)

    def applied_writes(self, operation: str) -> Counter[str]:
        """Successful writes of one operation per number or WABA, counting those whose answer was lost."""
        return applied(self.requests, operation)


def _template_batches(batches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`{first_id, waba_id, count, name_prefix, ...}`: `count` templates named <prefix>_0000…, ids counting up from
    `first_id`; other keys (status, category, …) apply to each. Scenarios with hundreds of templates stay short."""
    made = []
    for batch in batches:
        batch = dict(batch)
        first, count, prefix = int(batch.pop("first_id")), int(batch.pop("count")), batch.pop("name_prefix")
        made += [{**batch, "id": str(first + i), "name": f"{prefix}_{i:04d}"} for i in range(count)]
    return made


def _limit(name: str, value: Any) -> Any:
    if name in ("code_ttl", "register_window"):
        return timedelta(seconds=float(value))
    return value


COLLECTIONS = ("businesses", "wabas", "phone_numbers", "templates", "solutions")


def read_scenario(name_or_path: str) -> dict[str, Any]:
    """A scenario file; `base:` names another to start from, `patch:` overrides fields by object id,
    `remove:` drops objects by id, and any listed objects are added."""
    path = Path(name_or_path)
    if not path.exists():
        path = SCENARIOS / f"{name_or_path}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no scenario named {name_or_path!r} (looked in {SCENARIOS})")
    return expand(yaml.safe_load(path.read_text()) or {})


def expand(doc: dict[str, Any]) -> dict[str, Any]:
    """A scenario document with its `base:` read and its `patch:` and `remove:` applied (files and the admin API)."""
    if "base" not in doc:
        if {"patch", "remove"} & set(doc):
            raise ValueError("`patch:` and `remove:` change a `base:` scenario, and this one names none")
        return doc
    merged = read_scenario(doc["base"])
    patch, removed = doc.get("patch", {}), set(doc.get("remove", []))
    for name in COLLECTIONS:
        items = [{**item, **patch.get(item["id"], {})} for item in merged.get(name, []) if item["id"] not in removed]
        merged[name] = items + doc.get(name, [])
    merged["limits"] = {**merged.get("limits", {}), **doc.get("limits", {})}
    merged["template_batches"] = [*merged.get("template_batches", []), *doc.get("template_batches", [])]
    return merged
