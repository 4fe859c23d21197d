"""Partner API routes that act on a running migration: the code from the phone, a new code, the API key, and the
result of an Embedded Signup session."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable
from typing import Literal, TypeVar

import asyncpg
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from services.gateway import repository
from services.gateway.api import ERRORS, Partner, view
from services.gateway.models import Inbound
from services.gateway.problems import ApiProblem
from services.gateway.registration_client import RegistrationClient, RegistrationUnavailable
from services.gateway.status import KEY_COLLECTED
from shared import outbox
from shared.events import EmbeddedSignupFinished

CODE_STATUS = {"verified": 200, "code_requested": 202, "wrong_code": 422, "new_code_needed": 409,
               "not_waiting": 409, "not_found": 404}


class VerificationCode(Inbound):
    code: str = Field(pattern=r"^[0-9]{6}$", description="The 6 digits the phone received by SMS or call.")


class NewCode(Inbound):
    method: Literal["SMS", "VOICE"] = Field(default="SMS", description="How Meta should deliver the new code.")


class CodeResult(BaseModel):
    status: str
    message: str
    attempts_left: int = 0


class ApiKey(BaseModel):
    api_key: str = Field(description="The number's API key; shown this once, stored only as a hash.")


class SignupResult(Inbound):
    migration_id: uuid.UUID
    waba_id: str = Field(pattern=r"^[0-9]{1,20}$", description="The WABA Embedded Signup created.")
    phone_number_id: str = Field(pattern=r"^[0-9]{1,20}$", description="The number's id from the signup session.")


router = APIRouter()
log = logging.getLogger("numport.gateway")
T = TypeVar("T")


BUSY = {"meta_busy": "Meta is busy right now; try again in {} s. The migration itself is unaffected.",
        "service_unavailable": "numport cannot reach its database right now; try again in {} s.",
        "registration_unavailable": "The registration service is not answering; try again in {} s."}


def registration(request: Request) -> RegistrationClient:
    client = request.app.state.deps.registration
    if client is None:
        raise _busy(RegistrationUnavailable("registration_unavailable", "not configured"))
    return client


def _busy(error: RegistrationUnavailable) -> ApiProblem:
    log.warning("registration could not act", extra={"reason": error.code, "error": str(error)})
    return ApiProblem(503, error.code, BUSY[error.code].format(error.retry_after), retry_after=error.retry_after)


async def owned(request: Request, partner_id: str, migration_id: uuid.UUID) -> asyncpg.Record:
    row = await repository.migration(request.app.state.deps.pool, partner_id, migration_id)
    if row is None:
        raise HTTPException(404, f"No migration {migration_id}.")
    return row


@router.post("/v1/migrations/{migration_id}/verification-code", response_model=CodeResult, responses=ERRORS)
async def enter_code(migration_id: uuid.UUID, body: VerificationCode, partner_id: Partner, request: Request):
    await owned(request, partner_id, migration_id)
    return _answer(await _reach(registration(request).submit_code(migration_id, partner_id, body.code)))


@router.post("/v1/migrations/{migration_id}/verification-code:resend", status_code=202, response_model=CodeResult,
             responses=ERRORS)
async def request_new_code(migration_id: uuid.UUID, body: NewCode, partner_id: Partner, request: Request):
    await owned(request, partner_id, migration_id)
    return _answer(await _reach(registration(request).resend_code(migration_id, partner_id, body.method)))


async def _reach(call: Awaitable[T]) -> T:
    try:
        return await call
    except RegistrationUnavailable as error:
        raise _busy(error) from None


def _answer(answer: dict) -> CodeResult:
    status = CODE_STATUS.get(answer.get("status", ""))
    if status is None:
        verdict = answer.get("status")
        raise _busy(RegistrationUnavailable("registration_unavailable", f"no verdict ({verdict!r})"))
    if status in (404, 409, 422):
        raise HTTPException(status, answer.get("message", "registration gave no reason"))
    return CodeResult(**answer)


@router.post("/v1/migrations/{migration_id}/api-key", response_model=ApiKey, responses={**ERRORS, 410: {}})
async def collect_api_key(migration_id: uuid.UUID, partner_id: Partner, request: Request) -> ApiKey:
    """409 until the migration has completed (the key comes later), 410 once the key was shown (it never comes back)."""
    if (await owned(request, partner_id, migration_id))["state"] != "completed":
        raise ApiProblem(409, "not_completed", "The number's API key is issued when the migration completes; "
                                               "collect it then.")
    key = await _reach(registration(request).reveal_api_key(migration_id, partner_id))
    deps = request.app.state.deps
    # after a 410 too: the status may have missed the first collection (a crash right after the key was shown)
    await repository.key_collected(deps.pool, migration_id, deps.clock.now(), KEY_COLLECTED)
    if key is None:
        raise HTTPException(410, "No key to show: it was collected already, and it is shown only once.")
    return ApiKey(api_key=key)


@router.post("/v1/embedded-signup/events", status_code=202, responses=ERRORS)
async def signup_finished(body: SignupResult, partner_id: Partner, request: Request) -> dict:
    deps = request.app.state.deps
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await repository.migration(conn, partner_id, body.migration_id)
        if row is None:
            raise HTTPException(404, f"No migration {body.migration_id}.")
        if row["flow"] != "embedded_signup":
            raise HTTPException(409, "This migration runs the programmatic flow, not Embedded Signup.")
        await outbox.append(conn, [EmbeddedSignupFinished.create(
            migration_id=row["id"], phone_number=row["phone_number"], correlation_id=row["id"],
            occurred_at=deps.clock.now(), producer="gateway", waba_id=body.waba_id,
            phone_number_id=body.phone_number_id)])
    return {"accepted": True, "migration": view(row).model_dump(mode="json")}
