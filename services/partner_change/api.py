"""Partner change's internal HTTP API, for the gateway only: the gateway authenticates the caller and names it.

Answers use the gateway's error shape (code, message, field), so the gateway passes them on without translating.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from services.partner_change.commands import PartnerChanges
from services.partner_change.domain import Refused
from services.partner_change.parties import NotFound, Party
from shared.parties import HEADER

ACTIONS = ("review", "accept_terms", "confirm_payment", "approve", "decline", "grant")


class Start(BaseModel):
    model_config = ConfigDict(extra="ignore")
    waba_id: str
    destination_partner_id: str
    legal_name: str
    country: str
    phone_numbers: list[str] | None = None


class Step(BaseModel):
    phone_numbers: list[str] | None = None


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "field": field}}, status_code=status)


async def caller(request: Request, x_numport_internal_token: Annotated[str, Header()] = "",
                 x_numport_party: Annotated[str, Header(alias=HEADER)] = "") -> Party:
    """Only the gateway calls (shared token), and it names the caller it authenticated."""
    if not hmac.compare_digest(x_numport_internal_token.encode(), request.app.state.token.encode()):
        raise HTTPException(401, "internal token missing or wrong")
    try:
        return Party.parse(x_numport_party)
    except ValueError:
        raise HTTPException(400, "the caller is not named") from None


Caller = Annotated[Party, Depends(caller)]


def create_api(changes: PartnerChanges, token: str) -> FastAPI:
    api = FastAPI(title="numport partner change (internal)", docs_url=None, redoc_url=None, openapi_url=None)
    api.state.token = token

    @api.exception_handler(Refused)
    async def refused(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, Refused)
        status = 403 if error.code == "not_allowed" else 409 if error.conflict else 422
        return _error(status, error.code, str(error), error.field)

    @api.exception_handler(NotFound)
    async def not_found(request: Request, error: Exception) -> JSONResponse:
        return _error(404, "not_found", "No such partner change, WABA or number among yours.")

    @api.post("/internal/partner-changes")
    async def start(body: Start, party: Caller,
                    idempotency_key: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        return await changes.start(party, body.model_dump(), idempotency_key)

    @api.get("/internal/partner-changes")
    async def listing(party: Caller) -> dict[str, Any]:
        return {"data": await changes.listing(party)}

    @api.get("/internal/partner-changes/{change_id}")
    async def show(change_id: uuid.UUID, party: Caller) -> dict[str, Any]:
        return await changes.show(change_id, party)

    @api.post("/internal/partner-changes/{change_id}/{action}")
    async def step(change_id: uuid.UUID, action: str, body: Step, party: Caller) -> dict[str, Any]:
        if action not in ACTIONS:
            raise HTTPException(404)
        return await changes.step(change_id, party, action, body.phone_numbers)

    @api.get("/internal/numbers/{phone_number}")
    async def number(phone_number: str, party: Caller) -> dict[str, Any]:
        return await changes.number(phone_number, party)

    return api
