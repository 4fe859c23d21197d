"""Partner API routes of a partner change: the customer drives it, the new partner approves, the old one watches.

The gateway authenticates and validates; the partner-change service decides (internal HTTP, partner_change_client).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Request
from pydantic import BaseModel, Field

from services.gateway.api import ERRORS, current_caller
from services.gateway.callers import Caller
from services.gateway.models import Inbound
from services.gateway.partner_change_client import PartnerChangeClient, unavailable
from services.gateway.patterns import E164, GRAPH_ID

router = APIRouter(tags=["partner changes"])
Number = Annotated[str, Field(pattern=E164, description="E.164, as answers spell phone_number.")]
Numbers = Annotated[list[Number], Field(min_length=1, max_length=500)]
State = Literal["requested", "numbers_reviewed", "terms_accepted", "awaiting_approval", "approved", "completed",
                "declined", "expired"]
CallerDep = Annotated[Caller, Depends(current_caller)]
ANSWERS: dict[int | str, dict[str, Any]] = {**ERRORS}


class PartnerChangeRequest(Inbound):
    waba_id: str = Field(pattern=GRAPH_ID, description="Your WABA; every one of its numbers moves.")
    destination_partner_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$",
                                        description="The new partner's id; ask the partner for it.")
    legal_name: str = Field(min_length=1, max_length=200, description="Company information: your legal name.")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="Company information: ISO 3166 country code.")
    phone_numbers: Numbers | None = Field(default=None, description="Optional; if given, every number of the WABA.")


class NumbersReviewed(Inbound):
    phone_numbers: Numbers = Field(description="The numbers you saw in the change: all of the WABA's.")


class PermissionsGrant(Inbound):
    managed_numbers: Numbers = Field(description="The numbers the new partner may manage; it reads the others.")


class PartnerChangeView(BaseModel):
    id: uuid.UUID
    url: str
    waba_id: str
    phone_numbers: list[str] = Field(description="Every number that moves, all at one instant.")
    source_partner_id: str
    destination_partner_id: str | None = Field(description="Hidden (null) from the partner the WABA leaves.")
    state: State
    next_step: str | None
    ended_reason: Literal["declined_by_partner", "approval_expired"] | None
    payment_method_required: bool
    approval: Literal["auto", "manual"]
    requested_at: datetime
    approval_deadline: datetime | None
    transferred_at: datetime | None = Field(description="The one instant every number changed partner.")
    managed_numbers: list[str] | None = Field(description="Numbers the new partner manages (null for the old one).")
    your_role: Literal["customer", "destination_partner", "source_partner"]


class PartnerChangePage(BaseModel):
    data: list[PartnerChangeView]


class NumberAccess(BaseModel):
    phone_number: str
    waba_id: str
    partner_id: str
    access: Literal["owner", "manage", "read"] = Field(description="read: the partner got it by a partner change "
                                                                   "and the customer has not granted it yet.")
    moving: bool = Field(description="A migration or partner change is under way on it.")


def client(request: Request) -> PartnerChangeClient:
    found = request.app.state.deps.partner_change
    if found is None:
        raise unavailable("not configured")
    return found


Client = Annotated[PartnerChangeClient, Depends(client)]


@router.post("/v1/partner-changes", status_code=201, response_model=PartnerChangeView, responses=ANSWERS)
async def request_partner_change(body: PartnerChangeRequest, caller: CallerDep, pc: Client,
                                 idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> Any:
    """The customer asks to move every number of its WABA to another partner (customer key only)."""
    return await pc.call("POST", "/partner-changes", caller, body.model_dump(), idempotency_key)


@router.get("/v1/partner-changes", response_model=PartnerChangePage, responses=ANSWERS)
async def list_partner_changes(caller: CallerDep, pc: Client) -> Any:
    """Your changes: as the customer, as the new partner, or as the partner a WABA leaves."""
    return await pc.call("GET", "/partner-changes", caller)


@router.get("/v1/partner-changes/{change_id:uuid}", response_model=PartnerChangeView, responses=ANSWERS)
async def get_partner_change(change_id: uuid.UUID, caller: CallerDep, pc: Client) -> Any:
    return await pc.call("GET", f"/partner-changes/{change_id}", caller)


async def _act(pc: PartnerChangeClient, caller: Caller, change_id: uuid.UUID, action: str,
               numbers: list[str] | None = None) -> Any:
    return await pc.call("POST", f"/partner-changes/{change_id}/{action}", caller, {"phone_numbers": numbers})


STEP = {"response_model": PartnerChangeView, "responses": ANSWERS}


@router.post("/v1/partner-changes/{change_id}:review", **STEP)
async def review_numbers(change_id: uuid.UUID, body: NumbersReviewed, caller: CallerDep, pc: Client) -> Any:
    """The customer confirms the list of numbers that moves: all of the WABA's."""
    return await _act(pc, caller, change_id, "review", body.phone_numbers)


@router.post("/v1/partner-changes/{change_id}:accept-terms", **STEP)
async def accept_terms(change_id: uuid.UUID, caller: CallerDep, pc: Client) -> Any:
    """The customer accepts the terms: the request is submitted (to approval, unless a payment method is due)."""
    return await _act(pc, caller, change_id, "accept_terms")


@router.post("/v1/partner-changes/{change_id}:confirm-payment-method", **STEP)
async def confirm_payment_method(change_id: uuid.UUID, caller: CallerDep, pc: Client) -> Any:
    """The customer confirms a payment method, for new partners that require one."""
    return await _act(pc, caller, change_id, "confirm_payment")


@router.post("/v1/partner-changes/{change_id}:approve", **STEP)
async def approve_partner_change(change_id: uuid.UUID, caller: CallerDep, pc: Client) -> Any:
    """The new partner approves: every number moves at once, at this instant."""
    return await _act(pc, caller, change_id, "approve")


@router.post("/v1/partner-changes/{change_id}:decline", **STEP)
async def decline_partner_change(change_id: uuid.UUID, caller: CallerDep, pc: Client) -> Any:
    """The new partner declines: nothing moves."""
    return await _act(pc, caller, change_id, "decline")


@router.post("/v1/partner-changes/{change_id}:grant-permissions", **STEP)
async def grant_permissions(change_id: uuid.UUID, body: PermissionsGrant, caller: CallerDep, pc: Client) -> Any:
    """The customer chooses which numbers the new partner manages; the latest grant replaces the one before."""
    return await _act(pc, caller, change_id, "grant", body.managed_numbers)


@router.get("/v1/numbers/{phone_number}", response_model=NumberAccess, responses=ANSWERS)
async def get_number(phone_number: Annotated[str, Path(pattern=E164)], caller: CallerDep, pc: Client) -> Any:
    """Who serves a number and what you may do with it; a partner that gave it away gets 404."""
    return await pc.call("GET", f"/numbers/{phone_number}", caller)
