"""Graph endpoints of nodes, WABAs and businesses: reads, webhook subscriptions, credit lines, OBO requests."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from sandbox.graph_numbers import DEFAULT_FIELDS, number_node
from sandbox.graph_templates import template_node
from sandbox.http import not_found, page, params, select
from sandbox.state import OboRequest, Waba, World
from sandbox.webhooks import Webhooks


def waba_node(w: Waba) -> dict[str, Any]:
    node: dict[str, Any] = {k: v for k, v in vars(w).items() if k not in ("business_id", "on_behalf_of_business_id")}
    node["owner_business_info"] = {"id": w.business_id}
    if w.on_behalf_of_business_id:
        node["on_behalf_of_business_info"] = {"id": w.on_behalf_of_business_id}
    return node


def obo_node(r: OboRequest) -> dict[str, Any]:
    return {"id": r.id, "status": r.status, "business_owned_object": r.waba_id,
            "receiving_business": {"id": r.receiving_business_id},
            "requesting_business": {"id": r.requesting_business_id}}


def router(world: World, hooks: Webhooks) -> APIRouter:
    api = APIRouter()

    @api.get("/{version}/{node_id}")
    async def read_node(node_id: str, fields: str | None = None) -> Any:
        if node_id in world.numbers:
            return select(number_node(world.numbers[node_id]), fields, DEFAULT_FIELDS)
        if node_id in world.wabas:
            return select(waba_node(world.wabas[node_id]), fields, ("name",))
        if node_id in world.businesses:
            return select(vars(world.businesses[node_id]), fields, ("name",))
        if node_id in world.templates:
            return select(template_node(world.templates[node_id]), fields, ("name", "status", "category", "language"))
        if node_id in world.obo_requests:
            return select(obo_node(world.obo_requests[node_id]), fields, ("status", "business_owned_object"))
        if node_id in world.allocations:
            return select(world.allocations[node_id], fields, ("receiving_credential",))
        return not_found(node_id)

    @api.get("/{version}/{waba_id}/subscribed_apps")
    async def subscribed_apps(waba_id: str) -> Any:
        if (waba := world.wabas.get(waba_id)) is None:
            return not_found(waba_id)
        return {"data": [{"whatsapp_business_api_data": app} for app in waba.subscribed_apps]}

    @api.post("/{version}/{waba_id}/subscribed_apps")
    async def subscribe(waba_id: str) -> Any:
        if (waba := world.wabas.get(waba_id)) is None:
            return not_found(waba_id)
        if world.app not in waba.subscribed_apps:
            waba.subscribed_apps.append(dict(world.app))
        return {"success": True}

    @api.get("/{version}/{business_id}/extendedcredits")
    async def credit_lines(business_id: str) -> Any:
        if (business := world.businesses.get(business_id)) is None:
            return not_found(business_id)
        lines = [{"id": business.credit_line_id, "legal_entity_name": business.name}] if business.credit_line_id else []
        return {"data": lines}

    @api.post("/{version}/{credit_line_id}/whatsapp_credit_sharing_and_attach")
    async def share_credit(credit_line_id: str, request: Request) -> Any:
        body = await params(request)
        if not any(b.credit_line_id == credit_line_id for b in world.businesses.values()):
            return not_found(credit_line_id)
        if (waba := world.wabas.get(str(body.get("waba_id")))) is None:
            return not_found(str(body.get("waba_id")))
        allocation = world.new_id()
        world.allocations[allocation] = {"id": allocation, "receiving_credential": f"funding-{allocation}",
                                         "credit_line_id": credit_line_id, "waba_id": waba.id}
        waba.primary_funding_id, waba.currency = f"funding-{allocation}", str(body.get("waba_currency", "USD"))
        return {"allocation_config_id": allocation, "waba_id": waba.id}

    @api.get("/{version}/{waba_id}/in_progress_onbehalf_request")
    async def obo_requests(waba_id: str, fields: str | None = None) -> Any:
        if waba_id not in world.wabas:
            return not_found(waba_id)
        nodes = [select(obo_node(r), fields, ("status", "business_owned_object", "receiving_business",
                                              "requesting_business"))
                 for r in world.obo_requests.values() if r.waba_id == waba_id]
        return page(nodes, None, None)

    @api.post("/{version}/{waba_id}/in_progress_onbehalf_request")
    async def send_obo_request(waba_id: str, request: Request) -> Any:
        if (waba := world.wabas.get(waba_id)) is None:
            return not_found(waba_id)
        receiving = str((await params(request)).get("receiving_business_id", ""))
        if receiving not in world.businesses:
            return not_found(receiving)
        existing = next((r for r in world.obo_requests.values()
                         if r.waba_id == waba_id and r.receiving_business_id == receiving
                         and r.status in ("PENDING", "APPROVE")), None)
        obo = existing or OboRequest(world.new_id(), waba_id, receiving, waba.business_id)
        world.obo_requests[obo.id] = obo
        if world.limits.auto_accept_obo:
            obo.status = "APPROVE"
        return {"id": obo.id}

    return api

