"""The Graph calls of the registration saga: each write, and the read that tells whether a write already happened."""

from __future__ import annotations

from typing import Any

import phonenumbers

from shared.graph import GraphClient
from shared.phone import to_e164

NUMBER_FIELDS = ["id", "display_phone_number", "status", "code_verification_status", "platform_type",
                 "last_onboarded_time"]


def split_number(e164: str) -> tuple[str, str]:
    """(country calling code, national number) exactly as the E.164 key has them, ninth digit and all."""
    parsed = phonenumbers.parse(e164, None)
    return str(parsed.country_code), e164.removeprefix(f"+{parsed.country_code}")


class MetaRegistrationApi:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    async def obo_request(self, waba_id: str, business_id: str) -> dict[str, Any] | None:
        listing = await self.graph.get(f"/{waba_id}/in_progress_onbehalf_request")
        return next((r for r in listing.get("data", []) if r.get("receiving_business", {}).get("id") == business_id
                     and r.get("status") in ("PENDING", "IN_PROGRESS", "APPROVE")), None)

    async def obo_status(self, request_id: str) -> str:
        return (await self.graph.get(f"/{request_id}", fields=["id", "status"]))["status"]

    async def business_verified(self, business_id: str) -> bool:
        business = await self.graph.get(f"/{business_id}", fields=["id", "name", "verification_status"])
        return str(business.get("verification_status", "")).lower() == "verified"

    async def send_obo_request(self, waba_id: str, business_id: str) -> str:
        return (await self.graph.post(f"/{waba_id}/in_progress_onbehalf_request",
                                      {"receiving_business_id": business_id}))["id"]

    async def owner_of(self, waba_id: str) -> str | None:
        waba = await self.graph.get(f"/{waba_id}", fields=["id", "name", "owner_business_info"])
        return (waba.get("owner_business_info") or {}).get("id")

    async def number_in(self, waba_id: str, e164: str) -> dict[str, Any] | None:
        listing = await self.graph.get(f"/{waba_id}/phone_numbers", fields=NUMBER_FIELDS, limit=100)
        return next((n for n in listing.get("data", []) if to_e164(n["display_phone_number"]) == e164), None)

    async def number(self, number_id: str) -> dict[str, Any]:
        return await self.graph.get(f"/{number_id}", fields=NUMBER_FIELDS)

    async def add_number(self, waba_id: str, e164: str) -> str:
        cc, national = split_number(e164)
        return (await self.graph.post(f"/{waba_id}/phone_numbers",
                                      {"cc": cc, "phone_number": national, "migrate_phone_number": True}))["id"]

    async def request_code(self, number_id: str, method: str, language: str) -> None:
        await self.graph.post(f"/{number_id}/request_code", {"code_method": method, "language": language},
                              idempotent=False)

    async def verify_code(self, number_id: str, code: str) -> None:
        await self.graph.post(f"/{number_id}/verify_code", {"code": code}, attempts=1)

    async def code_verified(self, number_id: str) -> bool:
        """Whether Meta already accepted an ownership code for the number (an entry we lost track of)."""
        return (await self.number(number_id)).get("code_verification_status") == "VERIFIED"

    async def register(self, number_id: str, pin: str) -> None:
        await self.graph.post(f"/{number_id}/register", {"messaging_product": "whatsapp", "pin": pin})

    async def funding_of(self, waba_id: str) -> str | None:
        return (await self.graph.get(f"/{waba_id}", fields=["id", "name", "primary_funding_id"])).get(
            "primary_funding_id")

    async def share_credit_line(self, bsp_business_id: str, waba_id: str, currency: str) -> str:
        lines = (await self.graph.get(f"/{bsp_business_id}/extendedcredits")).get("data", [])
        if not lines:
            raise LookupError(f"business {bsp_business_id} has no credit line to share")
        shared = await self.graph.post(f"/{lines[0]['id']}/whatsapp_credit_sharing_and_attach",
                                       {"waba_id": waba_id, "waba_currency": currency})
        return shared["allocation_config_id"]

    async def subscribed_app_ids(self, waba_id: str) -> set[str]:
        listing = await self.graph.get(f"/{waba_id}/subscribed_apps")
        return {(a.get("whatsapp_business_api_data") or a).get("id") for a in listing.get("data", [])}

    async def set_migration_intent(self, waba_id: str, solution_id: str) -> str:
        """Meta's documented body (the docs and Meta's SDK: `solution_id` alone); the answer is read in either form,
        the docs' `{id}` or the spec's `{migration_intent_id}`."""
        answer = await self.graph.post(f"/{waba_id}/set_solution_migration_intent", {"solution_id": solution_id})
        return str(answer.get("id") or answer["migration_intent_id"])

    async def migration_intent(self, intent_id: str) -> dict[str, Any]:
        return await self.graph.get(f"/{intent_id}", fields=["id", "status", "destination_waba"])

    async def subscribe(self, waba_id: str) -> None:
        await self.graph.post(f"/{waba_id}/subscribed_apps", {})  # once: a lost answer is settled by reading
