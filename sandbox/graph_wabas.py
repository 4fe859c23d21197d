"""Graph endpoints of nodes, WABAs and businesses: reads, webhook subscriptions, credit lines, OBO requests."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request

from sandbox import fields, graph_solutions
from sandbox.graph_numbers import number_node
from sandbox.graph_templates import template_node
from sandbox.http import not_found, page, params
from sandbox.state import Business, OboRequest, Waba, World
from sandbox.webhooks import Webhooks


def waba_node(w: Waba, world: World) -> dict[str, Any]:
    owner, customer = world.businesses.get(w.business_id), world.businesses.get(w.customer_business_id)
    node: dict[str, Any] = {k: v for k, v in vars(w).items() if k in fields.WABA.known}
    node["owner_business_info"] = {"id": w.business_id, "name": owner.name if owner else "Business"}
    if w.on_behalf_of_business_id:
        node["on_behalf_of_business_info"] = {"id": w.on_behalf_of_business_id,
                                              "name": customer.name if customer else "Business"}
    node["message_template_namespace"] = str(uuid.uuid5(uuid.NAMESPACE_OID, w.id)).replace("-", "_")
    node["business_verification_status"] = (owner.verification_status if owner else "unknown").upper()
    node["subscribed_apps"] = subscriptions(w)  # an edge: Meta serves it as a connection, as at /subscribed_apps
    return node


def subscriptions(w: Waba) -> dict[str, Any]:
    return {"data": [{"whatsapp_business_api_data": app} for app in w.subscribed_apps]}


def business_node(b: Business) -> dict[str, Any]:
    return {k: v for k, v in vars(b).items() if k in fields.BUSINESS.known}


def obo_node(r: OboRequest) -> dict[str, Any]:
    return {"id": r.id, "status": r.status, "business_owned_object": r.waba_id,
            "receiving_business": {"id": r.receiving_business_id},
            "requesting_business": {"id": r.requesting_business_id}}


def router(world: World, hooks: Webhooks) -> APIRouter:
    api = APIRouter()

    @api.get("/{version}/{node_id}")
    async def read_node(node_id: str, wanted: str | None = Query(None, alias="fields")) -> Any:
        if node_id in world.numbers:
            return fields.select(number_node(world.numbers[node_id]), wanted, fields.NUMBER)
        if (waba := world.wabas.get(node_id)) is not None:
            return fields.select(waba_node(waba, world), wanted, fields.WABA)
        if node_id in world.businesses:
            return fields.select(business_node(world.businesses[node_id]), wanted, fields.BUSINESS)
        if node_id in world.templates:
            return fields.select(template_node(world.templates[node_id]), wanted, fields.TEMPLATE)
        if node_id in world.obo_requests:
            return fields.select(obo_node(world.obo_requests[node_id]), wanted, fields.OBO_REQUEST)
        if node_id in world.allocations:
            return fields.select(world.allocations[node_id], wanted, fields.ALLOCATION)
        if (found := graph_solutions.node_of(world, node_id)) is not None:
            return fields.select(found[0], wanted, found[1])
        return not_found(node_id)

    @api.get("/{version}/{waba_id}/subscribed_apps")
    async def subscribed_apps(waba_id: str) -> Any:
        if (waba := world.wabas.get(waba_id)) is None:
            return not_found(waba_id)
        return subscriptions(waba)

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
    async def obo_requests(waba_id: str, wanted: str | None = Query(None, alias="fields")) -> Any:
        if waba_id not in world.wabas:
            return not_found(waba_id)
        wanted = wanted or "status,business_owned_object,receiving_business,requesting_business"
        fields.names(wanted, fields.OBO_REQUEST)  # an unknown name is refused even when nothing is listed
        nodes = [fields.select(obo_node(r), wanted, fields.OBO_REQUEST)
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

