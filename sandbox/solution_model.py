"""The objects of Meta's Multi-Partner Solutions the sandbox holds: solutions and solution-migration intents."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Solution:
    id: str
    name: str
    owner_app_id: str
    business_id: str  # the owner's portfolio: partner_solutions webhooks are addressed to it
    status: str = "ACTIVE"
    status_for_pending_request: str = "NONE"
    owner_permissions: list[str] = field(default_factory=lambda: ["MANAGE", "DEVELOP", "MANAGE_TEMPLATES"])
    partner_app_id: str | None = None
    partner_status: str = "INITIATED"
    wabas: list[str] = field(default_factory=list)  # customers' WABAs onboarded through the solution


@dataclass
class MigrationIntent:
    id: str
    source_waba_id: str
    solution_id: str | None  # the destination solution; None when the customer leaves a solution for an app
    app_id: str | None
    numbers: list[str]  # the source WABA's numbers when the intent was set: the ones it moves
    status: str = "INITIATED"
    destination_waba_id: str | None = None
    scheduled_for: str | None = None  # SCHEDULE_MIGRATION's time, as given
