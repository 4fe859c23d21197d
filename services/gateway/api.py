"""The partner API (HTTP front door): thin routes over commands and the status read model; no business rules."""

from __future__ import annotations

import importlib
import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from services.gateway import commands, document, problems, repository, status
from services.gateway.callers import Caller, customer_of_key
from services.gateway.models import (
    BatchRequest,
    BatchResult,
    BatchRow,
    DryRunReport,
    ErrorBody,
    MigrationPage,
    MigrationRequest,
    MigrationView,
    State,
    Timeline,
    TimelineEntry,
)
from services.gateway.patterns import CURSOR, GRAPH_ID, NUMBER_FILTER
from services.precheck.dry_run import DryRun
from shared.clock import Clock
from shared.errors import TransientError
from shared.outages import retry_seconds
from shared.phone import as_filter
from shared.secrets import hash_key

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    **{code: {"model": ErrorBody} for code in (401, 403, 404, 409, 422, 502)},
    500: {"model": ErrorBody, "description": "Unexpected; the answer names the request id for support."},
    503: {"model": ErrorBody, "headers": RETRY_AFTER,
          "description": "A dependency is away (service_unavailable, registration_unavailable) or Meta is "
                         "throttling or failing (meta_busy); nothing to fix, try again after Retry-After."},
}


CONFLICTING = {"number_already_migrating": "phone_number", "conflict": "header.idempotency-key"}


def camel_case(route: APIRoute) -> str:
    """operationId of a route that names none: its function's name, as OpenAPI tools expect (retryTemplates)."""
    first, *rest = route.name.split("_")
    return first + "".join(word.title() for word in rest)


@dataclass
class GatewayDeps:
    pool: asyncpg.Pool
    precheck: DryRun  # precheck's public entry: the dry-run runs here, reading Graph only
    clock: Clock
    registration: Any = None  # RegistrationClient; None where no registration service runs
    producer: Any = None  # shared.kafka.Producer: Meta's webhooks go to Kafka before Meta hears 200
    app_secret: str | None = None  # checks X-Hub-Signature-256
    webhook_verify_token: str | None = None  # Meta's subscription handshake
    partner_change: Any = None  # PartnerChangeClient; None where no partner-change service runs


def view(row: asyncpg.Record) -> MigrationView:
    data = dict(row)
    data["detail"] = json.loads(data["detail"])
    return MigrationView(url=f"/v1/migrations/{row['id']}", phone_number_as_typed=data.pop("phone_number_typed"),
                         **{k: v for k, v in data.items() if k != "partner_id"})


BEARER = HTTPBearer(scheme_name="partnerKey", bearerFormat="np_<partner>_<secret>", auto_error=False,
                    description="Your partner API key, as 'Authorization: Bearer <key>'.")


async def current_caller(request: Request,
                         credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> Caller:
    """The partner or customer behind the API key; every read and write is scoped to it."""
    key, pool = credentials.credentials if credentials else "", request.app.state.deps.pool
    partner = await repository.partner_of_key(pool, hash_key(key)) if key else None
    found = Caller("partner", partner) if partner else await customer_of_key(pool, hash_key(key)) if key else None
    if found is None:
        raise HTTPException(401, "Send a valid partner (or customer) API key as 'Authorization: Bearer <key>'.")
    request.state.partner_id = found.id  # the request's log line names the caller
    return found


async def current_partner(caller: Annotated[Caller, Depends(current_caller)]) -> str:
    """Migrations and billing are partners' business; a customer key serves partner changes only."""
    if caller.kind != "partner":
        raise problems.ApiProblem(403, "partner_key_required", "This call takes a partner key; a customer key "
                                                               "serves the partner-change calls.")
    return caller.id


Partner = Annotated[str, Depends(current_partner)]
WabaFilter = Annotated[str | None, Query(pattern=GRAPH_ID, description="The destination WABA.")]
NumberFilter = Annotated[str | None, Query(pattern=NUMBER_FILTER, description="The number as typed or in "
                                                                              "E.164; normalised as in a request.")]
Cursor = Annotated[str | None, Query(pattern=CURSOR, description="next_cursor of the page before.")]


def create_api(deps: GatewayDeps) -> FastAPI:
    api = FastAPI(title="numport partner API", version="1.0.0", generate_unique_id_function=camel_case,
                  description="Migrate WhatsApp business numbers to our BSP; every call is scoped to your partner key.")
    api.state.deps = deps
    problems.install(api)
    document.install(api)

    async def load(partner_id: str, migration_id: uuid.UUID) -> MigrationView:
        row = await repository.migration(deps.pool, partner_id, migration_id)
        if row is None:
            raise HTTPException(404, f"No migration {migration_id}.")
        return view(row)

    @api.post("/v1/migrations", status_code=202, response_model=MigrationView, responses=ERRORS,
              operation_id="startMigration")
    async def start(body: MigrationRequest, partner_id: Partner,
                    idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> MigrationView:
        try:
            migration_id = await commands.start_migration(deps.pool, partner_id, body, deps.clock, idempotency_key)
        except commands.Conflict as conflict:
            raise problems.ApiProblem(409, conflict.code, str(conflict), field=CONFLICTING.get(conflict.code)) from None
        return await load(partner_id, migration_id)

    @api.post("/v1/migrations:batch", response_model=BatchResult, responses=ERRORS, operation_id="startBatch")
    async def batch(body: BatchRequest, partner_id: Partner) -> BatchResult:
        rows = []
        for index, item in enumerate(body.items):
            number = item.get("phone_number") if isinstance(item.get("phone_number"), str) else None
            try:
                request = MigrationRequest.model_validate(item)
                started = await commands.start_migration(deps.pool, partner_id, request, deps.clock)
                position = await repository.queue_position(deps.pool, partner_id, started, status.TERMINAL)
                rows.append(BatchRow(index=index, phone_number=number, status="accepted", queue_position=position,
                                     migration=await load(partner_id, started)))
            except ValidationError as error:
                rows.append(BatchRow(index=index, phone_number=number, status="rejected",
                                     errors=problems.field_errors(error.errors())))
            except commands.Conflict as conflict:
                rows.append(BatchRow(index=index, phone_number=number, status="rejected",
                                     errors=[{"field": "phone_number", "code": conflict.code,
                                              "problem": str(conflict)}]))
        accepted = sum(r.status == "accepted" for r in rows)
        return BatchResult(accepted=accepted, rejected=len(rows) - accepted, rows=rows)

    @api.post("/v1/migrations:dry-run", response_model=DryRunReport, responses=ERRORS, operation_id="dryRun")
    async def dry_run(body: MigrationRequest, partner_id: Partner) -> DryRunReport:
        try:
            return await commands.dry_run(deps.pool, deps.precheck, partner_id, body, deps.clock)
        except TransientError as error:
            wait = retry_seconds(error.retry_after)
            raise problems.ApiProblem(502, "upstream_unavailable", f"Meta's Graph API did not answer in time; "
                                      f"try again in {wait} s.", retry_after=wait) from None

    @api.get("/v1/migrations/{migration_id}", response_model=MigrationView, responses=ERRORS,
             operation_id="getMigration")
    async def get(migration_id: uuid.UUID, partner_id: Partner) -> MigrationView:
        return await load(partner_id, migration_id)

    @api.get("/v1/migrations/{migration_id}/timeline", response_model=Timeline, responses=ERRORS,
             operation_id="getTimeline")
    async def timeline(migration_id: uuid.UUID, partner_id: Partner) -> Timeline:
        await load(partner_id, migration_id)
        rows = await repository.timeline(deps.pool, migration_id)
        return Timeline(migration_id=migration_id, events=[TimelineEntry(**{**r, "payload": json.loads(r["payload"])})
                                                             for r in rows])

    @api.get("/v1/migrations", response_model=MigrationPage, responses=ERRORS, operation_id="listMigrations")
    async def listing(partner_id: Partner, state: State | None = None, waba_id: WabaFilter = None,
                      phone_number: NumberFilter = None, limit: Annotated[int, Query(ge=1, le=200)] = 50,
                      cursor: Cursor = None) -> MigrationPage:
        after = repository.decode_cursor(cursor) if cursor else None
        number = as_filter(phone_number) if phone_number else None
        rows = await repository.page(deps.pool, partner_id, limit + 1, after, state, waba_id, number)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = repository.encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more else None
        return MigrationPage(data=[view(r) for r in rows], next_cursor=next_cursor)

    from services.gateway.saga_api import router  # it builds on this module's Partner and view
    from services.gateway.templates_api import router as templates
    from services.gateway.webhooks import router as meta_webhooks

    api.include_router(router)
    api.include_router(meta_webhooks)
    api.include_router(templates)
    api.include_router(importlib.import_module("services.gateway.billing_api").router)
    api.include_router(importlib.import_module("services.gateway.partner_change_api").router)
    api.include_router(importlib.import_module("services.gateway.port_out_api").router)
    return api
