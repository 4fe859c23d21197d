"""The Graph calls of template duplication: list a WABA's templates (every page), the facts behind its template
limit, and Meta's template-migration call on the destination (not in the spec; shaped as Meta documents it)."""

from __future__ import annotations

from typing import Any

from services.templates.domain import Call, Template
from shared.graph import GraphClient
from shared.graph_pages import PAGE, every_node

TEMPLATE_FIELDS = ["id", "name", "language", "status", "category", "quality_score"]


def template_of(node: dict[str, Any]) -> Template:
    """`quality_score` is an object on the template node (`score`, `date`, `reasons`) and a plain value elsewhere."""
    quality = node.get("quality_score")
    score = quality.get("score") if isinstance(quality, dict) else quality
    return Template(str(node["id"]), str(node["name"]), str(node.get("language", "")),
                    str(node.get("category") or "UTILITY"), str(node.get("status") or "UNKNOWN"),
                    str(score or "UNKNOWN"))


class MetaTemplatesApi:
    def __init__(self, graph: GraphClient, migrations: GraphClient) -> None:
        """`migrations` calls the template migration: its own, longer timeout (Meta may take minutes for a page)."""
        self.graph, self.migrations = graph, migrations

    async def templates(self, waba_id: str) -> list[Template]:
        nodes = await every_node(self.graph, f"/{waba_id}/message_templates", TEMPLATE_FIELDS, waba_id, PAGE)
        return [template_of(node) for node in nodes]

    async def limit_facts(self, waba_id: str) -> tuple[bool, bool]:
        """(its business is verified, a number registered in it has an approved display name)."""
        waba = await self.graph.get(f"/{waba_id}", fields=["id", "owner_business_info"], waba=waba_id)
        owner = (waba.get("owner_business_info") or {}).get("id")
        business = await self.graph.get(f"/{owner}", fields=["id", "verification_status"]) if owner else {}
        numbers = await self.graph.get(f"/{waba_id}/phone_numbers", fields=["id", "name_status", "status"],
                                       waba=waba_id, limit=PAGE)
        named = any(n.get("name_status") == "APPROVED" and n.get("status") != "PENDING"  # PENDING: not in yet
                    for n in numbers.get("data", []))
        return str(business.get("verification_status", "")).lower() == "verified", named

    async def migrate(self, destination: str, source: str, call: Call) -> dict[str, Any]:
        body: dict[str, Any] = {"source_waba_id": source, "count": call.count}
        if call.template_ids:
            body["template_ids"] = list(call.template_ids)
        else:
            body["page_number"] = call.page_number
        return await self.migrations.post(f"/{destination}/migrate_message_templates", body, waba=destination)
