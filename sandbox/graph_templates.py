"""Graph endpoints of message templates: the listing, the template-migration call, and Meta's category re-check."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request

from sandbox import fields, rules
from sandbox.http import bad_request, graph_error, not_found, page, params
from sandbox.migration import copy_templates, limit_of, review, template_notices
from sandbox.state import Template, World
from sandbox.webhooks import Webhooks

MAX_TEMPLATE_PAGE = 500  # templates per migration call, and template_ids per call (Meta's documented maxima)
FILTERS = ("status", "quality_score", "category", "language")


def template_node(t: Template) -> dict[str, Any]:
    """The template as Graph shows it: `quality_score` is an object on the node, a plain value in filters."""
    node = {k: v for k, v in vars(t).items() if k in fields.TEMPLATE.known}
    node["quality_score"] = {"score": t.quality_score, "date": t.quality_date, "reasons": []}
    return node


def summary(world: World, waba_id: str, found: list[Template], wanted: str) -> dict[str, Any]:
    """The listing's `summary`: counts over the WABA and its template limit, as Meta adds them when asked."""
    own = world.templates_of(waba_id)
    values = {"total_count": len(found), "message_template_count": len(own),
              "message_template_limit": limit_of(world, world.wabas[waba_id]), "are_translations_complete": True}
    return {k: values[k] for k in fields.names(wanted, fields.TEMPLATE_SUMMARY)}


def _listed(raw: Any) -> list[str] | None:
    """template_ids as a JSON array, a JSON-encoded array (form fields) or comma-separated ids."""
    if raw in (None, "", []):
        return None
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.lstrip().startswith("[") else raw.split(",")
    if not isinstance(raw, list):
        raise ValueError("template_ids must be a list of template ids")
    return [str(i).strip() for i in raw]


def _paging(body: dict[str, Any]) -> tuple[int, int, list[str] | None]:
    """(count, page_number, template_ids); ValueError names what is wrong."""
    try:
        count, number = int(body.get("count") or MAX_TEMPLATE_PAGE), int(body.get("page_number") or 0)
    except (TypeError, ValueError):
        raise ValueError("count and page_number must be whole numbers") from None
    if not 0 < count <= MAX_TEMPLATE_PAGE:
        raise ValueError(f"count must be between 1 and {MAX_TEMPLATE_PAGE}")
    if number < 0:
        raise ValueError("page_number starts at 0")
    ids = _listed(body.get("template_ids"))
    if ids is not None and len(ids) > MAX_TEMPLATE_PAGE:
        raise ValueError(f"template_ids takes at most {MAX_TEMPLATE_PAGE} ids")
    return count, number, ids


def router(world: World, hooks: Webhooks) -> APIRouter:
    api = APIRouter()

    @api.get("/{version}/{waba_id}/message_templates")
    async def list_templates(waba_id: str, request: Request) -> Any:
        if waba_id not in world.wabas:
            return not_found(waba_id)
        q = request.query_params
        fields.names(q.get("fields"), fields.TEMPLATE)  # an unknown name is refused even when nothing is listed
        wanted = {k: set(str(q[k]).upper().split(",")) for k in FILTERS if k in q}
        found = [t for t in world.templates_of(waba_id)
                 if q.get("name") in (None, t.name) and all(str(vars(t)[k]).upper() in v for k, v in wanted.items())]
        listed = page([fields.select(template_node(t), q.get("fields"), fields.TEMPLATE) for t in found],
                      q.get("limit"), q.get("after"))
        return {**listed, "summary": summary(world, waba_id, found, q["summary"])} if q.get("summary") else listed

    @api.post("/{version}/{waba_id}/migrate_message_templates")
    async def migrate_templates(waba_id: str, request: Request) -> Any:
        body = await params(request)
        source_id = str(body.get("source_waba_id", ""))
        if not source_id:
            return bad_request("source_waba_id is required")
        if waba_id not in world.wabas or source_id not in world.wabas:
            return not_found(waba_id if waba_id not in world.wabas else source_id)
        if world.wabas[waba_id].customer_business_id != world.wabas[source_id].customer_business_id:
            return graph_error(400, 100, "Source and destination WABAs must belong to the same business.")
        try:
            count, number, listed = _paging(body)
        except ValueError as error:
            return bad_request(str(error))
        source = [t.id for t in world.templates_of(source_id)]
        only = set(listed) if listed is not None else set(source[number * count:(number + 1) * count])
        unknown = {i: "No such template in the source WABA." for i in only - set(source)}
        copies, failed = copy_templates(world, source_id, waba_id, rules.migratable_on_request, only,
                                        by="migrate_message_templates")
        await hooks.send(template_notices(copies))
        return {"migrated_templates": [copy.id for _, copy in copies], "failed_templates": {**failed, **unknown}}

    @api.post("/_sandbox/templates/review")
    async def category_review(request: Request) -> Any:
        """Meta's category re-check of the copies made so far (optionally of one WABA), as it happens after a copy."""
        body = json.loads(await request.body() or b"{}")
        notices = review(world, body.get("waba_id"))
        await hooks.send(notices)
        rejected = [v["message_template_id"] for _, f, v in notices if f == "message_template_status_update"]
        return {"rejected": [str(i) for i in rejected]}

    return api
