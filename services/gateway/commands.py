"""What the partner API does with a request: start a migration once, or check one without changing anything."""

from __future__ import annotations

import hashlib
import json
import uuid

import asyncpg

from services.gateway import repository, status
from services.gateway.models import DryRunReport, MigrationRequest
from services.precheck.dry_run import DryRun
from shared.clock import Clock
from shared.events import MigrationRequested


class Conflict(Exception):
    """The request clashes with an earlier one (reused Idempotency-Key, or the number is already migrating)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# The same words whoever holds the number: another partner must learn neither who nor which migration.
TAKEN = "This number already has a migration in progress; request it again once that migration has finished."


def to_event(partner_id: str, request: MigrationRequest, migration_id: uuid.UUID, clock: Clock) -> MigrationRequested:
    return MigrationRequested.create(
        migration_id=migration_id, correlation_id=migration_id, occurred_at=clock.now(), producer="gateway",
        phone_number=request.e164, phone_number_as_typed=request.phone_number, partner_id=partner_id,
        **request.model_dump(exclude={"phone_number"}))


def fingerprint(request: MigrationRequest) -> bytes:
    return hashlib.sha256(json.dumps(request.model_dump(), sort_keys=True).encode()).digest()


async def start_migration(pool: asyncpg.Pool, partner_id: str, request: MigrationRequest, clock: Clock,
                          idempotency_key: str | None = None) -> uuid.UUID:
    """Record the request, its timeline entry and the MigrationRequested event in one transaction.

    A number has one unfinished migration across all partners; the check below names it kindly, and the unique
    index of the read model refuses the requests that raced past the check.
    """
    try:
        async with pool.acquire() as conn, conn.transaction():
            if idempotency_key and (earlier := await repository.remembered(conn, partner_id, idempotency_key)):
                return _replayed(earlier, request)
            event = to_event(partner_id, request, uuid.uuid4(), clock)
            if idempotency_key and not await repository.remember(conn, partner_id, idempotency_key,
                                                                 fingerprint(request), event.migration_id):
                # a concurrent request with this key committed first (the insert waited for it): answer as it did
                return _replayed(await repository.remembered(conn, partner_id, idempotency_key), request)
            await _refuse_if_migrating(conn, partner_id, request.e164)  # after the key: a replay is never refused
            await repository.record_request(conn, event, status.AFTER["MigrationRequested"])
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name != repository.ONE_OPEN_PER_NUMBER:
            raise
        raise Conflict("number_already_migrating", TAKEN) from None
    return event.migration_id


def _replayed(earlier: asyncpg.Record | None, request: MigrationRequest) -> uuid.UUID:
    if earlier is None:
        raise Conflict("conflict", "A request with this Idempotency-Key is being processed; retry shortly.")
    if earlier["request_hash"] != fingerprint(request):
        raise Conflict("conflict", "This Idempotency-Key was used with a different request body.")
    return earlier["migration_id"]


async def _refuse_if_migrating(conn: asyncpg.Connection, partner_id: str, e164: str) -> None:
    running = await repository.open_migration(conn, e164, status.TERMINAL)
    if running is None:
        return
    if running["partner_id"] == partner_id:  # the caller's own migration: naming it helps and reveals nothing
        raise Conflict("number_already_migrating", f"Migration {running['id']} for {e164} is still in progress.")
    raise Conflict("number_already_migrating", TAKEN)


async def dry_run(pool: asyncpg.Pool, precheck: DryRun, partner_id: str, request: MigrationRequest,
                  clock: Clock) -> DryRunReport:
    """The full precheck report, synchronously; Graph is only read, nothing is stored or emitted.

    A number already migrating is reported as such before Graph is asked: its checks would describe the
    migration under way, not the one asked about."""
    event = to_event(partner_id, request, uuid.uuid4(), clock)
    async with pool.acquire() as conn:
        try:
            await _refuse_if_migrating(conn, partner_id, event.phone_number)
        except Conflict as running:
            return DryRunReport(outcome="in_progress", phone_number=event.phone_number, report=[], failed=[],
                                message=str(running))
    outcome, report, verdict = await precheck(event, clock.now())
    return DryRunReport(outcome=outcome, phone_number=event.phone_number, report=report,
                        failed=list(getattr(verdict, "failed", ())), message=getattr(verdict, "message", None))
