"""Graph endpoints of Multi-Partner Solutions and solution-migration intents, and the customer's answer to an intent.

Set an intent on the source WABA, read it, list a WABA's solutions, and the partner's accept/reject of a solution;
under /_sandbox, the customer accepting or rejecting the intent in Business settings (Meta has no API for that).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from sandbox import fields, solutions
from sandbox.admin import PREFIX
from sandbox.http import bad_request, not_found, page, params, refused
from sandbox.rules import Refusal
from sandbox.solution_model import MigrationIntent, Solution
from sandbox.state import Waba, World
from sandbox.webhooks import Webhooks

SOLUTION_DEFAULT = ("id", "name", "status", "status_for_pending_request", "owner_app", "owner_permissions")
SOLUTION = fields.NodeType("WhatsAppBusinessSolution", frozenset(SOLUTION_DEFAULT), SOLUTION_DEFAULT,
                           SOLUTION_DEFAULT[:4])
INTENT_DEFAULT = ("id", "status", "solution", "destination_waba")
INTENT = fields.NodeType("WhatsAppBusinessAccountMigrationIntent", frozenset(INTENT_DEFAULT), INTENT_DEFAULT,
                         INTENT_DEFAULT[:2])


def node_of(world: World, node_id: str) -> tuple[dict[str, Any], fields.NodeType] | None:
    """A solution or an intent read by id (GET /{id}), with its node type; None for other ids."""
    if node_id in world.solutions:
        return solutions.solution_node(world.solutions[node_id]), SOLUTION
    if node_id in world.intents:
        return solutions.intent_node(world, world.intents[node_id]), INTENT
    return None


def _change(world: World, source: Waba, body: dict[str, Any]) -> MigrationIntent | Refusal:
    """Carry out one intent action on the source WABA: initiate (or schedule), cancel, or confirm."""
    action = body.get("migration_intent", "INITIATE_MIGRATION")
    solution_id = str(body["solution_id"]) if body.get("solution_id") else None
    app_id = None if solution_id else str(body["app_id"])
    current = solutions.open_intent(world, source.id, solution_id, app_id)
    if action in ("CANCEL_MIGRATION", "CONFIRM_MIGRATION"):
        latest = current or next((i for i in reversed(world.intents.values()) if i.source_waba_id == source.id
                                  and i.status == "ACCEPTED" and (i.solution_id, i.app_id) == (solution_id, app_id)),
                                 None)
        if latest is None or (action == "CONFIRM_MIGRATION" and latest.status != "ACCEPTED"):
            return Refusal(422, 100, solutions.NOT_IN_STATE)
        if action == "CANCEL_MIGRATION" and solutions.intent_status(world, latest) != "COMPLETED":
            latest.status = "REJECTED"
        return latest
    intent = current or MigrationIntent(world.new_id(), source.id, solution_id, app_id,
                                        [n.id for n in world.numbers_of(source.id)])
    if action == "SCHEDULE_MIGRATION":
        intent.scheduled_for = str(body["scheduled_migration_time"])
    world.intents[intent.id] = intent
    return intent


def _solution_update(world: World, solution: Solution) -> tuple[str, str, dict[str, Any]]:
    """partner_solutions is addressed to the owner's business portfolio, not to a WABA."""
    return (solution.business_id, "partner_solutions", {"event": "SOLUTION_UPDATED", "solution_id": solution.id,
                                                        "solution_status": solution.status})


def router(world: World, hooks: Webhooks) -> APIRouter:
    api = APIRouter()

    @api.post("/{version}/{waba_id}/set_solution_migration_intent")
    async def set_intent(waba_id: str, request: Request) -> Any:
        if (source := world.wabas.get(waba_id)) is None:
            return not_found(waba_id)
        body = await params(request)
        if refusal := solutions.set_intent_refusal(world, source, body):
            return refused(refusal)
        if body.get("solution_id") and str(body["solution_id"]) not in world.solutions:
            return not_found(str(body["solution_id"]))
        changed = _change(world, source, body)
        if isinstance(changed, Refusal):
            return refused(changed)
        return solutions.intent_answer(world, changed)

    @api.get("/{version}/{waba_id}/solutions")
    async def waba_solutions(waba_id: str, limit: int | None = None, after: str | None = None,
                             wanted: str | None = Query(None, alias="fields")) -> Any:
        if waba_id not in world.wabas:
            return not_found(waba_id)
        fields.names(wanted, SOLUTION)  # an unknown name is refused even when nothing is listed
        nodes = [fields.select(solutions.solution_node(s), wanted, SOLUTION)
                 for s in world.solutions.values() if waba_id in s.wabas]
        return page(nodes, limit, after)

    @api.post("/{version}/{solution_id}/accept")
    async def accept_solution(solution_id: str, request: Request) -> Any:
        if (solution := world.solutions.get(solution_id)) is None:
            return not_found(solution_id)
        if str((await params(request)).get("partner_app_id", "")) != solution.partner_app_id:
            return bad_request("partner_app_id must be the app the solution invited")
        solution.partner_status = "ACCEPTED"
        if solution.status in ("DRAFT", "INITIATED"):
            solution.status = "ACTIVE"
        await hooks.send([_solution_update(world, solution)])
        return {"solution_id": solution.id, "partner_status": solution.partner_status, "success": True,
                "message": "The partner accepted the solution.", "update_time": world.now().isoformat()}

    @api.post("/{version}/{solution_id}/reject")
    async def reject_solution(solution_id: str, request: Request) -> Any:
        if (solution := world.solutions.get(solution_id)) is None:
            return not_found(solution_id)
        kind = (await params(request)).get("request_type")
        if kind == "PARTNERSHIP_REQUEST":
            solution.partner_status, solution.status = "REJECTED", "REJECTED"
        elif kind == "DEACTIVATION_REQUEST":
            solution.status_for_pending_request = "NONE"
        else:
            return bad_request("request_type must be PARTNERSHIP_REQUEST or DEACTIVATION_REQUEST")
        await hooks.send([_solution_update(world, solution)])
        return {"success": True, "solution_id": solution.id, "rejected_request_type": kind,
                "rejection_timestamp": world.now().isoformat()}

    @api.post(f"{PREFIX}/intents/{{intent_id}}/{{decision}}")
    async def decide_intent(intent_id: str, decision: str) -> Any:
        """The customer answers the intent in Business settings › Requests."""
        intent = world.intents.get(intent_id)
        if intent is None or decision not in ("accept", "reject") or intent.status != "INITIATED":
            raise HTTPException(404, "no open migration intent with that id, or no such decision (accept | reject)")
        if decision == "reject":
            intent.status = "REJECTED"
            return {"id": intent.id, "status": intent.status}
        destination = solutions.destination_for(world, intent, lambda owner: _new_waba(world, owner))
        intent.status, intent.destination_waba_id = "ACCEPTED", destination.id
        info = {"waba_id": destination.id, "owner_business_id": destination.business_id}
        info |= {"solution_id": intent.solution_id} if intent.solution_id else {"partner_app_id": intent.app_id}
        await hooks.send([(waba, "account_update", {"event": "PARTNER_ADDED", "waba_info": info})
                          for waba in (destination.id, intent.source_waba_id)])
        return {"id": intent.id, "status": intent.status, "destination_waba_id": destination.id}

    return api


def _new_waba(world: World, owner_business_id: str) -> Waba:
    waba = Waba(id=world.new_id(), business_id=owner_business_id, name="WABA created by a solution migration",
                primary_funding_id=None)
    world.wabas[waba.id] = waba
    return waba
