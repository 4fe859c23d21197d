"""The Graph reads of a port-out: who owns the WABA, the number's two-step state, and whether our WABA still has it.

Only reads: Meta has no call that switches two-step verification off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.partner_change.port_out.domain import meta_time
from shared.graph import GraphClient
from shared.graph_pages import every_node
from shared.phone import to_e164


@dataclass(frozen=True)
class NumberState:
    pin_enabled: bool
    listed: bool  # our WABA still lists the number
    last_onboarded: datetime | None  # Meta's last onboarding of the number, wherever it is now


class PortOutGraph:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    async def owners(self, waba_id: str) -> tuple[str | None, str | None]:
        """(owner business, business it is held for) of the WABA."""
        waba = await self.graph.get(f"/{waba_id}", fields=["id", "owner_business_info", "on_behalf_of_business_info"],
                                    waba=waba_id)
        return (waba.get("owner_business_info") or {}).get("id"), (waba.get("on_behalf_of_business_info") or {}).get(
            "id")

    async def number_id(self, waba_id: str, e164: str) -> str | None:
        """None: our WABA no longer lists the number, so it left before anyone asked."""
        listed = await every_node(self.graph, f"/{waba_id}/phone_numbers", ["id", "display_phone_number"], waba_id)
        found = [n["id"] for n in listed if to_e164(n.get("display_phone_number", "")) == e164]
        return found[0] if found else None

    async def number_state(self, waba_id: str, number_id: str) -> NumberState:
        number = await self.graph.get(f"/{number_id}", fields=["id", "is_pin_enabled", "last_onboarded_time"],
                                      waba=waba_id)
        listing = await every_node(self.graph, f"/{waba_id}/phone_numbers", ["id"], waba_id)
        listed = any(n.get("id") == number_id for n in listing)
        return NumberState(bool(number.get("is_pin_enabled", True)), listed,
                           meta_time(number.get("last_onboarded_time")))
