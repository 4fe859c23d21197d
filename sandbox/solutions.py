"""Multi-Partner Solutions and solution-migration intents as Meta holds them, and Meta's rules for them; no HTTP.

An intent moves a customer's WABA from one solution to another (or off a solution to an app) without a new
ownership code: once the customer accepts it, adding the number to the destination needs no re-verification.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.rules import Refusal
from sandbox.solution_model import MigrationIntent, Solution

if TYPE_CHECKING:
    from sandbox.state import PhoneNumber, Waba, World

ACTIONS = ("INITIATE_MIGRATION", "CANCEL_MIGRATION", "CONFIRM_MIGRATION", "SCHEDULE_MIGRATION")
# The intent node's status (GET /{intent}) -> the status enum of the spec's answer to set_solution_migration_intent.
ANSWER_STATUS = {"INITIATED": "PENDING", "ACCEPTED": "APPROVED", "COMPLETED": "APPROVED", "REJECTED": "REJECTED"}
NOT_IN_STATE = "A migration intent cannot be set for a solution in its current state."


def solution_node(s: Solution) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "status": s.status, "status_for_pending_request": s.status_for_pending_request,
            "owner_app": {"id": s.owner_app_id}, "owner_permissions": list(s.owner_permissions)}


def intent_status(world: World, intent: MigrationIntent) -> str:
    """COMPLETED once every number the intent covers is registered on its destination WABA."""
    moved = intent.numbers and all(world.numbers[n].waba_id == intent.destination_waba_id for n in intent.numbers
                                   if n in world.numbers)
    return "COMPLETED" if intent.status == "ACCEPTED" and moved else intent.status


def intent_node(world: World, intent: MigrationIntent) -> dict[str, Any]:
    node: dict[str, Any] = {"id": intent.id, "status": intent_status(world, intent)}
    if intent.solution_id and (solution := world.solutions.get(intent.solution_id)):
        node["solution"] = {k: v for k, v in solution_node(solution).items()
                            if k in ("id", "name", "status", "status_for_pending_request")}
    if intent.destination_waba_id and (waba := world.wabas.get(intent.destination_waba_id)):
        node["destination_waba"] = {"id": waba.id, "name": waba.name, "currency": waba.currency,
                                    "timezone_id": "1", "business_type": "ent",
                                    "message_template_namespace": f"sandbox_{waba.id}"}
    return node


def intent_answer(world: World, intent: MigrationIntent) -> dict[str, Any]:
    """The spec's answer and the docs' (and Meta's SDK's) `{id}` in one body, so a client of either reads it."""
    status = "SCHEDULED" if intent.scheduled_for and intent.status == "INITIATED" else \
        ANSWER_STATUS[intent_status(world, intent)]
    return {"success": True, "migration_intent_id": intent.id, "status": status, "id": intent.id}


def set_intent_refusal(world: World, source: Waba, body: dict[str, Any]) -> Refusal | None:
    """Why Meta would not take this intent on the source WABA, if it would not."""
    action = body.get("migration_intent", "INITIATE_MIGRATION")
    solution_id, app_id = body.get("solution_id"), body.get("app_id")
    if action not in ACTIONS:
        return Refusal(400, 100, f"Invalid parameter: migration_intent must be one of {', '.join(ACTIONS)}.")
    if not solution_id and not app_id:
        return Refusal(400, 100, "Invalid parameter: name the destination with solution_id (or app_id).")
    if solution_id is not None and not str(solution_id).isdigit():
        return Refusal(400, 100, "Invalid parameter: solution_id must be a numeric id.")
    if action == "SCHEDULE_MIGRATION" and not body.get("scheduled_migration_time"):
        return Refusal(400, 100, "Invalid parameter: scheduling needs scheduled_migration_time.")
    if solution_id and (solution := world.solutions.get(str(solution_id))) is not None:
        if solution.status != "ACTIVE":
            return Refusal(422, 100, NOT_IN_STATE)
        if source.id in solution.wabas:
            return Refusal(400, 100, "The WABA is already served through this solution.")
    if any(n.is_on_biz_app for n in world.numbers_of(source.id)):
        return Refusal(400, 100, "A number of this WABA also runs on the WhatsApp Business app; such WABAs cannot "
                                 "move between solutions.")
    return None


def open_intent(world: World, source_id: str, solution_id: str | None, app_id: str | None) -> MigrationIntent | None:
    """Meta keeps one open intent per WABA and destination: asking again answers the same one."""
    return next((i for i in world.intents.values() if i.source_waba_id == source_id and i.status == "INITIATED"
                 and (i.solution_id, i.app_id) == (solution_id, app_id)), None)


def destination_for(world: World, intent: MigrationIntent, new_waba: Any) -> Waba:
    """The customer's WABA on the destination solution, in the same portfolio as the source; Meta creates one when
    the customer has none there yet (`new_waba(owner_business_id)`)."""
    source = world.wabas[intent.source_waba_id]
    solution = world.solutions.get(intent.solution_id or "")
    candidates = solution.wabas if solution else []
    found = next((world.wabas[w] for w in candidates if w in world.wabas
                  and world.wabas[w].business_id == source.business_id), None)
    if found is None:
        found = new_waba(source.business_id)
        if solution:
            solution.wabas.append(found.id)
    return found


def waives_verification(world: World, number: PhoneNumber, destination: Waba) -> bool:
    """An accepted intent moves the number without a new ownership code."""
    return any(i.status == "ACCEPTED" and i.source_waba_id == number.waba_id and i.destination_waba_id == destination.id
               and number.id in i.numbers for i in world.intents.values())
