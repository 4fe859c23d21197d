"""Every Graph answer a test receives from the sandbox, validated against the operation the call was meant for,
named by operationId: the node a `GET /{id}` reads decides which of the spec's node reads it is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from sandbox.state import World
from tests.contract.spec import URI, check_operation, check_schema

GRAPH_PATH = re.compile(r"^/(?P<version>[^/]+)/(?P<node>[^/]+)(?:/(?P<edge>[a-z_]+))?$")
EDGES = {
    ("GET", "phone_numbers"): "getWhatsAppBusinessAccountPhoneNumbers",
    ("POST", "phone_numbers"): "createWhatsAppBusinessAccountPhoneNumber",
    ("POST", "request_code"): "requestVerificationCode",
    ("POST", "verify_code"): "verifyPhoneNumberCode",
    ("POST", "register"): "registerWhatsAppBusinessPhoneNumber",
    ("GET", "subscribed_apps"): "getAllSubscriptionsForAWaba",
    ("POST", "subscribed_apps"): "subscribeToWabaWebhooks",
    ("GET", "message_templates"): "getTemplateByNameDefaultFields",
    ("GET", "in_progress_onbehalf_request"): "getInProgressOnBehalfRequests",
    ("GET", "extendedcredits"): "getCreditLines",
    ("POST", "migrate_message_templates"): "migrateMessageTemplates",
    ("POST", "whatsapp_credit_sharing_and_attach"): "shareCreditLine",
    ("POST", "in_progress_onbehalf_request"): "sendOnBehalfRequest",
    ("POST", "set_solution_migration_intent"): "setSolutionMigrationIntent",
    ("GET", "solutions"): "listWabaSolutions",
    ("POST", "accept"): "acceptWhatsAppBusinessSolution",
    ("POST", "reject"): "rejectSolutionRequest",
}
ERROR = {"$ref": f"{URI}#/components/schemas/GraphAPIError"}
_ITEM = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
# Operations Meta documents outside the spec (sandbox/README.md, departure 1), and the node reads the spec has no
# operation of its own for: the shapes the sandbox promises, checked the same way.
OUTSIDE_SPEC = {
    "migrateMessageTemplates": {
        "type": "object", "required": ["migrated_templates", "failed_templates"], "additionalProperties": False,
        "properties": {"migrated_templates": {"type": "array", "items": {"type": "string"}},
                       "failed_templates": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "shareCreditLine": {"type": "object", "required": ["allocation_config_id", "waba_id"],
                        "properties": {"allocation_config_id": {"type": "string"}, "waba_id": {"type": "string"}}},
    "sendOnBehalfRequest": _ITEM,
    "readCreditAllocation": {**_ITEM, "properties": {"id": {"type": "string"},
                                                     "receiving_credential": {"type": "string"}}},
    # An OBO request read on its own is the item of the spec's listing operation, getInProgressOnBehalfRequests.
    "readOnBehalfRequest": {"$ref": f"{URI}#/components/schemas/BusinessOwnedObjectOnBehalfOfRequest"},
}
# Fields the sandbox serves as Meta does where the spec's schema says otherwise: operationId → field → why.
DEPARTURES = {"getWhatsAppBusinessAccountDetails": {
    "subscribed_apps": "an edge: Meta (and clients such as pywa) read it as a connection {data: [...]}; the spec "
                       "types it as a plain array"}}


@dataclass
class Answer:
    method: str
    path: str
    status: int
    body: Any


def operation_of(answer: Answer, world: World) -> str:
    """The operationId the call was meant for; `unknownNode` for a node read of an id the world does not hold."""
    match = GRAPH_PATH.match(answer.path)
    assert match, f"not a Graph path: {answer.path}"
    node, edge = match["node"], match["edge"]
    if edge:
        return EDGES[(answer.method, edge)]
    kinds = [(world.numbers, "getPhoneNumberById"), (world.wabas, "getWhatsAppBusinessAccountDetails"),
             (world.businesses, "getBusinessPortfolioSpecificFields"),
             (world.templates, "getTemplateByIdDefaultFields"),
             (world.obo_requests, "readOnBehalfRequest"), (world.allocations, "readCreditAllocation"),
             (world.intents, "getMigrationIntentDetails"), (world.solutions, "getSolutionDetails")]
    return next((op for held, op in kinds if node in held), "unknownNode")


def check(answer: Answer, operation_id: str) -> None:
    body = answer.body
    if isinstance(body, dict) and operation_id in DEPARTURES and answer.status == 200:
        body = {k: v for k, v in body.items() if k not in DEPARTURES[operation_id]}
    what = f"{operation_id} ({answer.method} {answer.path}) {answer.status}"
    if operation_id == "unknownNode" or (operation_id in OUTSIDE_SPEC and answer.status >= 400):
        assert answer.status == 400, f"{what}: Meta answers an id it cannot load with 400"
        check_schema(ERROR, body, what)
    elif operation_id in OUTSIDE_SPEC:
        check_schema(OUTSIDE_SPEC[operation_id], body, what)
    else:
        check_operation(operation_id, answer.status, body)


class AnswerLog:
    """Graph answers as a client received them (admin calls aside), to be checked once the test is done."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []

    def keep(self, request: httpx.Request, response: httpx.Response) -> None:
        if not request.url.path.startswith("/_sandbox"):
            self.answers.append(Answer(request.method, request.url.path, response.status_code, response.json()))

    def check_all(self, world: World) -> dict[str, int]:
        """Validate every answer kept; how many per operationId."""
        counts: dict[str, int] = {}
        for answer in self.answers:
            operation_id = operation_of(answer, world)
            check(answer, operation_id)
            counts[operation_id] = counts.get(operation_id, 0) + 1
        return counts


class Recorder(httpx.AsyncBaseTransport, AnswerLog):
    """Wraps the in-process sandbox's transport and keeps every answer (a dropped connection has none)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        AnswerLog.__init__(self)
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.keep(request, response)
        return response
