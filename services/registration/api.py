"""Registration's internal HTTP API, for the gateway only: code entry, new code, the API key shown once.

Codes and keys travel over this call and never over Kafka, so they appear in no event.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.registration import commands
from services.registration.saga import Registration
from shared.errors import TransientError
from shared.outages import BACKEND_AWAY, retry_seconds

log = logging.getLogger("numport.registration")


class CodeEntry(BaseModel):
    partner_id: str
    code: str = Field(pattern=r"^[0-9]{6}$")


class CodeRequest(BaseModel):
    partner_id: str
    method: Literal["SMS", "VOICE"] = "SMS"


class KeyRequest(BaseModel):
    partner_id: str


def busy(code: str, retry_after: float | None, message: str) -> JSONResponse:
    """503 in the gateway's envelope: the saga is untouched, and the caller may simply try again later."""
    return JSONResponse({"error": {"code": code, "message": message, "fields": []}}, status_code=503,
                        headers={"Retry-After": str(retry_seconds(retry_after))})


def answer_outages(api: FastAPI) -> None:
    """Meta throttling or failing, and PostgreSQL away, are worth a retry: never a text 500."""

    @api.exception_handler(TransientError)
    async def meta_busy(request: Request, error: Exception) -> JSONResponse:
        log.warning("Meta did not act on a synchronous step", extra={"path": request.url.path,
                                                                       "error": type(error).__name__})
        return busy("meta_busy", getattr(error, "retry_after", None), "Meta is busy; try again later.")

    async def database_away(request: Request, error: Exception) -> JSONResponse:
        log.warning("database unavailable", extra={"path": request.url.path, "error": type(error).__name__})
        return busy("service_unavailable", None, "The registration database is not answering; try again later.")

    for kind in BACKEND_AWAY:
        api.add_exception_handler(kind, database_away)


def create_api(reg: Registration, token: str) -> FastAPI:
    api = FastAPI(title="numport registration (internal)", docs_url=None, redoc_url=None, openapi_url=None)
    answer_outages(api)

    async def internal_caller(x_numport_internal_token: Annotated[str, Header()] = "") -> None:
        if not hmac.compare_digest(x_numport_internal_token.encode(), token.encode()):
            raise HTTPException(401, "internal token missing or wrong")

    guarded = [Depends(internal_caller)]

    @api.post("/internal/migrations/{migration_id}/verification-code", dependencies=guarded)
    async def enter_code(migration_id: uuid.UUID, body: CodeEntry) -> dict:
        return vars(await commands.submit_code(reg, migration_id, body.partner_id, body.code))

    @api.post("/internal/migrations/{migration_id}/verification-code:resend", dependencies=guarded)
    async def new_code(migration_id: uuid.UUID, body: CodeRequest) -> dict:
        return vars(await commands.resend_code(reg, migration_id, body.partner_id, body.method))

    @api.post("/internal/migrations/{migration_id}/api-key:reveal", dependencies=guarded)
    async def reveal(migration_id: uuid.UUID, body: KeyRequest) -> dict:
        key = await commands.reveal_api_key(reg, migration_id, body.partner_id)
        if key is None:
            raise HTTPException(410, "No key to show: it was shown once already, or it has not been issued yet.")
        return {"api_key": key}

    return api
