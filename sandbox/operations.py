"""The side-effecting Graph writes numport makes, named once from method and path, and what each one acts on."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.state import World

# Graph edge written to -> the short, stable name fault entries and the request log use.
EDGES = {
    "in_progress_onbehalf_request": "obo_request",
    "phone_numbers": "add_number",
    "request_code": "request_code",
    "verify_code": "verify_code",
    "register": "register",
    "whatsapp_credit_sharing_and_attach": "credit_line",
    "subscribed_apps": "subscribe",
    "migrate_message_templates": "migrate_templates",
    "set_solution_migration_intent": "migration_intent",
    "accept": "solution_accept",
    "reject": "solution_reject",
}
NAMES = tuple(EDGES.values())
WRITE = re.compile(r"^/v[0-9]+\.[0-9]+/(?P<node>[^/]+)/(?P<edge>[a-z_]+)$")
NEEDS_BODY = {"add_number", "credit_line"}  # their target is named in the body, not the path


def operation_of(method: str, path: str) -> tuple[str, str] | None:
    """(operation name, node id in the path) of a write numport makes; None for reads and everything else."""
    match = WRITE.match(path)
    if method != "POST" or match is None or match["edge"] not in EDGES:
        return None
    return EDGES[match["edge"]], match["node"]


def target_of(operation: str, node: str, params: dict[str, Any], world: World) -> str:
    """The number or WABA a write changes, so successful writes can be counted per object."""
    if operation == "add_number":
        digits = f"{params.get('cc', '')}{params.get('phone_number', '')}"
        number = world.number_by_digits(digits)
        return number.id if number else f"+{digits}"
    if operation == "credit_line":
        return str(params.get("waba_id", node))  # the path names the credit line, shared by every WABA
    return node
