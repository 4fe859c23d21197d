"""Partner API route for a migration's templates: the manual retry the documents prescribe when duplication fails.

The request reaches the templates service as an event through the gateway's outbox, in the transaction that checks
the migration: nothing is lost if either side restarts, and the gateway needs no client of the templates service.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from services.gateway import repository
from services.gateway.api import ERRORS, Partner
from services.gateway.problems import ApiProblem
from shared import outbox
from shared.events import TemplatesRetryRequested

NOT_YET = ("requested", "ineligible", "not_needed")  # states in which no template has been looked at

router = APIRouter()


class RetryAccepted(BaseModel):
    request_id: uuid.UUID = Field(description="Id of this retry; TemplatesDuplicated of its round follows on the "
                                              "timeline.")
    message: str


@router.post("/v1/migrations/{migration_id}/templates:retry", status_code=202, response_model=RetryAccepted,
             responses=ERRORS)
async def retry_templates(migration_id: uuid.UUID, partner_id: Partner, request: Request) -> RetryAccepted:
    """Copy again whatever is still missing on the destination; templates already there are never copied twice."""
    deps = request.app.state.deps
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await repository.migration(conn, partner_id, migration_id)
        if row is None:
            raise HTTPException(404, f"No migration {migration_id}.")
        if row["state"] in NOT_YET:
            raise ApiProblem(409, "conflict", "Templates are copied once the number is found eligible; there is "
                                              "nothing to retry yet.")
        requested = TemplatesRetryRequested.create(
            migration_id=row["id"], phone_number=row["phone_number"], correlation_id=row["id"],
            occurred_at=deps.clock.now(), producer="gateway", request_id=uuid.uuid4(), partner_id=partner_id)
        await outbox.append(conn, [requested])
        await repository.add_to_timeline(conn, requested)
    return RetryAccepted(request_id=requested.request_id,
                         message="numport copies what is still missing; the timeline shows the result.")
