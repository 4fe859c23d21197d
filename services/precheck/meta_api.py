"""Reads the facts precheck needs from the Graph API (Meta or the sandbox) and probes the business website."""

from __future__ import annotations

import asyncio
from typing import Any

from services.precheck.domain import Facts
from services.precheck.website import WebsiteProbe
from shared.events import MigrationRequested
from shared.graph import GraphClient, GraphPermanentError
from shared.phone import same_line, to_e164

NUMBER_FIELDS = ["id", "display_phone_number", "name_status", "new_name_status", "is_pin_enabled", "platform_type",
                 "account_mode", "is_test_number", "status", "is_on_biz_app"]
WABA_FIELDS = ["id", "account_review_status", "ownership_type", "owner_business_info", "on_behalf_of_business_info",
               "primary_funding_id"]


class MetaGraphFacts:
    def __init__(self, graph: GraphClient, website_timeout: float = 3.0, allow_loopback_websites: bool = False) -> None:
        self.graph, self.website = graph, WebsiteProbe(website_timeout, allow_loopback_websites)

    async def _find_number(self, waba_id: str | None, phone: str) -> dict | None:
        if not waba_id:
            return None
        listing = await self.graph.get(f"/{waba_id}/phone_numbers", fields=NUMBER_FIELDS, limit=100)
        wanted = same_line(phone)
        for number in listing.get("data", []):
            if to_e164(number["display_phone_number"]) in wanted:
                return number
        return None

    async def website_live(self, url: str | None) -> bool | None:
        return await self.website.reachable(url) if url else None

    async def destination_facts(self, waba_id: str) -> dict[str, Any]:
        """Who owns the destination WABA, how many apps its webhooks reach, and its Multi-Partner Solution (an ACTIVE
        one first) if it is on one. The subscribed apps come as an edge in the WABA's own read (one Graph call, not
        two), in the same `{data: [...]}` form as at /subscribed_apps."""
        waba = await self.graph.get(f"/{waba_id}", fields=["id", "owner_business_info", "subscribed_apps"])
        try:
            listing = await self.graph.get(f"/{waba_id}/solutions", fields=["id", "status"])
        except GraphPermanentError:  # no solutions shown to us: the code path, never a refusal of the migration
            listing = {}
        found = sorted(listing.get("data", []), key=lambda s: s.get("status") != "ACTIVE")
        return {"destination_waba_owner": (waba.get("owner_business_info") or {}).get("id"),
                "destination_apps_subscribed": len((waba.get("subscribed_apps") or {}).get("data", [])),
                "destination_solution_id": found[0]["id"] if found else None,
                "destination_solution_status": found[0].get("status") if found else None}

    async def gather(self, req: MigrationRequested) -> Facts:
        business, waba, number, in_destination, website, destination = await asyncio.gather(
            self.graph.get(f"/{req.business_id}", fields=["id", "verification_status"]),
            self.graph.get(f"/{req.source_waba_id}", fields=WABA_FIELDS) if req.source_waba_id else _none(),
            self._find_number(req.source_waba_id, req.phone_number),
            self._find_number(req.destination_waba_id, req.phone_number),
            self.website_live(req.website),
            self.destination_facts(req.destination_waba_id),
        )
        waba, number = waba or {}, number or {}
        owner = (waba.get("on_behalf_of_business_info") or waba.get("owner_business_info") or {}).get("id")
        return Facts(
            business_verified=str(business.get("verification_status", "")).lower() == "verified",
            source_waba_business_id=owner,
            source_waba_approved=waba.get("account_review_status") == "APPROVED",
            source_waba_has_payment_method=bool(waba.get("primary_funding_id")),
            source_waba_shared=bool(waba.get("on_behalf_of_business_info")),
            registered_number=to_e164(number["display_phone_number"]) if number else None,
            in_destination=in_destination is not None and in_destination.get("status") != "PENDING",
            two_step_enabled=bool(number.get("is_pin_enabled")),
            name_status=number.get("name_status", "NONE"),
            name_change_pending=number.get("new_name_status") in ("PENDING_REVIEW", "PENDING"),
            test_number=bool(number.get("is_test_number")),
            account_mode=number.get("account_mode", "LIVE"),
            platform=number.get("platform_type", "NOT_APPLICABLE"),
            website_live=website,
            source_known=bool(req.source_waba_id),
            number_id=number.get("id"),
            on_biz_app=bool(number.get("is_on_biz_app")),
            source_waba_owner=(waba.get("owner_business_info") or {}).get("id"),
            **destination,
        )


async def _none() -> None:
    return None
