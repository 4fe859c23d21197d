"""`/v1/port-outs`: a customer (or our partner, for its new BSP) asks to take a number away from us, and follows it.

The gateway checks who may ask (the number's partner, or the business it serves) and records the request with its
PortOutRequested event (outbox, one transaction); partner_change decides what must happen and the answers show it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field, field_validator

from services.gateway import port_out_store as store
from services.gateway import problems, repository
from services.gateway.api import ERRORS, current_caller
from services.gateway.callers import Caller
from services.gateway.models import Inbound, international
from services.gateway.patterns import PHONE
from shared import outbox
from shared.events import PortOutRequested
from shared.phone import to_e164

router = APIRouter(tags=["port-outs"])
CallerDep = Annotated[Caller, Depends(current_caller)]
State = Literal["requested", "awaiting_two_step_off", "awaiting_departure", "departed"]
LEAVING = "This number is already leaving us: follow the port-out that is under way."
NEXT = {  # what the customer does next; the steps themselves come from partner_change's decision
    "requested": "numport is reading who owns the WABA and the number's two-step verification.",
    "awaiting_departure": "Two-step verification is off: give the number to your new provider; we see it leave.",
    "customer_told_to_cancel": "The number has left us; cancel your subscription with us so you are not charged "
                               "again.",
    "cancelled": "The number has left us; we cancelled your subscription for it, so you are not charged again.",
}


class PortOutRequest(Inbound):
    phone_number: str = Field(max_length=32, json_schema_extra={"pattern": PHONE}, examples=["+55 11 98765-4321"],
                              description="The number that leaves us, in international format.")

    @field_validator("phone_number")
    @classmethod
    def _e164(cls, value: str) -> str:
        return to_e164(international(value))


class PortOutView(BaseModel):
    id: uuid.UUID
    url: str
    phone_number: str
    waba_id: str
    state: State = Field(description="requested until numport has read who owns the WABA.")
    path: Literal["customer_switches_off", "operations_ticket"] | None = Field(
        description="Who switches two-step verification off: the customer's admin (owned WABA) or our operations "
                    "team through a ticket (shared WABA).")
    next_step: str
    steps: list[str] | None
    ticket: dict[str, str] | None = Field(description="The '2FA disable request' ticket, shared WABAs only.")
    due_at: datetime | None = Field(description="When the ticket's 72 h service level runs out.")
    reminders: int
    escalated_at: datetime | None
    two_step_off_at: datetime | None
    ticket_closed_at: datetime | None
    departed_at: datetime | None = Field(description="When the number left: our billing for it stops here.")
    subscription: Literal["customer_told_to_cancel", "cancelled"] | None
    requested_by: str
    requested_at: datetime


class PortOutPage(BaseModel):
    data: list[PortOutView]


def view(row: dict[str, Any]) -> PortOutView:
    state, steps = row["state"] or "requested", _json(row["steps"])
    following = " ".join(steps) if state == "awaiting_two_step_off" else NEXT[row["subscription"] or state]
    return PortOutView(
        id=row["id"], url=f"/v1/port-outs/{row['id']}", phone_number=row["phone_number"], waba_id=row["waba_id"],
        state=state, path=row["path"], next_step=following, steps=steps, ticket=_json(row["ticket"]),
        due_at=row["due_at"], reminders=row["reminders"] or 0, escalated_at=row["escalated_at"],
        two_step_off_at=row["two_step_off_at"],
        ticket_closed_at=row["ticket_closed_at"], departed_at=row["departed_at"], subscription=row["subscription"],
        requested_by=row["requested_by"], requested_at=row["created_at"])


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None


FOLLOW = {"responses": {"202": {"links": {"getPortOut": {  # schemathesis and clients go on from the answer's id
    "operationId": "getPortOut", "parameters": {"path.port_out_id": "$response.body#/id"}}}}}}


@router.post("/v1/port-outs", status_code=202, response_model=PortOutView, responses=ERRORS,
             operation_id="startPortOut", openapi_extra=FOLLOW)
async def start_port_out(request: Request, body: PortOutRequest, caller: CallerDep,
                         idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> PortOutView:
    """Take a number away from us: the answer says who switches two-step verification off and how."""
    deps, port_out_id = request.app.state.deps, uuid.uuid4()
    fingerprint, keyspace = hashlib.sha256(body.phone_number.encode()).digest(), f"port-out:{caller.header}"
    async with deps.pool.acquire() as conn, conn.transaction():
        # the key first: a concurrent request with the same key waits here for this one, then replays its answer
        if idempotency_key and not await repository.remember(conn, keyspace, idempotency_key, fingerprint,
                                                             port_out_id):
            port_out_id = _replayed(await repository.remembered(conn, keyspace, idempotency_key), fingerprint)
        else:
            await _start(conn, caller, body.phone_number, deps.clock.now(), port_out_id)
    return await _load(request, caller, port_out_id)


@router.get("/v1/port-outs/{port_out_id}", response_model=PortOutView, responses=ERRORS, operation_id="getPortOut")
async def get_port_out(request: Request, port_out_id: uuid.UUID, caller: CallerDep) -> PortOutView:
    return await _load(request, caller, port_out_id)


@router.get("/v1/port-outs", response_model=PortOutPage, responses=ERRORS, operation_id="listPortOuts")
async def list_port_outs(request: Request, caller: CallerDep,
                         limit: Annotated[int, Query(ge=1, le=200)] = 50) -> PortOutPage:
    """Your port-outs, newest first."""
    return PortOutPage(data=[view(r) for r in await store.listing(request.app.state.deps.pool, caller, limit)])


def _replayed(earlier: Any, fingerprint: bytes) -> uuid.UUID:
    if earlier["request_hash"] != fingerprint:
        raise problems.ApiProblem(409, "conflict", "This Idempotency-Key was used with a different request body.",
                                  field="header.idempotency-key")
    return earlier["migration_id"]


async def _start(conn: Any, caller: Caller, e164: str, now: datetime, port_out_id: uuid.UUID) -> None:
    held = await store.holding(conn, caller, e164)
    if held is None:  # the same answer whether the number is someone else's or nobody's
        raise problems.ApiProblem(404, "not_found", f"No number {e164} among yours.", field="phone_number")
    if await store.open_request(conn, e164) is not None:
        raise problems.ApiProblem(409, "port_out_in_progress", LEAVING, field="phone_number")
    event = PortOutRequested.create(
        migration_id=port_out_id, correlation_id=port_out_id, phone_number=e164, occurred_at=now, producer="gateway",
        partner_id=held["partner_id"], requested_by=f"{caller.kind}:{caller.id}", waba_id=held["waba_id"])
    await store.record(conn, event, held["business_id"], now)
    await outbox.append(conn, [event])


async def _load(request: Request, caller: Caller, port_out_id: uuid.UUID) -> PortOutView:
    row = await store.one(request.app.state.deps.pool, caller, port_out_id)
    if row is None:
        raise problems.ApiProblem(404, "not_found", f"No port-out {port_out_id}.")
    return view(row)
