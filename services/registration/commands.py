"""What people do to a running saga, through the gateway: enter the code they received, ask for a new one,
collect the number's API key once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.registration import domain, repository, step_writes, steps
from services.registration.saga import Registration
from services.registration.step_writes import Running
from shared import events as ev
from shared.errors import TransientError
from shared.graph import GraphPermanentError


@dataclass(frozen=True)
class CodeAnswer:
    status: str  # verified | wrong_code | new_code_needed | not_waiting | not_found
    message: str
    attempts_left: int = 0


async def waiting_for_code(reg: Registration, migration_id: uuid.UUID, partner_id: str) -> Running | CodeAnswer:
    """The saga waiting for a code, with when its last code entry was sent if still unsettled (one read)."""
    found = await step_writes.load_running(reg.pool, migration_id, "verify_code")
    if found is None or found[0].partner_id != partner_id:
        return CodeAnswer("not_found", "No such migration.")
    if found[0].state != "awaiting_code":
        return CodeAnswer("not_waiting", f"The migration is not waiting for a code (it is {found[0].state}).")
    return found


async def submit_code(reg: Registration, migration_id: uuid.UUID, partner_id: str, code: str) -> CodeAnswer:
    """Verify the customer's code with Meta. An entry whose answer we lost (a crash, a timeout) may have been
    accepted: Meta's number state decides, so a correct code is never counted wrong because Meta consumed it."""
    async with reg.locked(migration_id):
        found = await waiting_for_code(reg, migration_id, partner_id)
        if isinstance(found, CodeAnswer):
            return found
        (saga, since), ctx = found, reg.ctx_factory(reg.clock.now())
        number_id = saga.phone_number_id or ""
        if (earlier := reg.entry_in_flight(since, ctx)) is not None:
            if not await ctx.api.code_verified(number_id):
                raise earlier  # Meta may still accept the earlier entry: answer "busy", never count this one
        elif not domain.code_entry(saga.wrong_codes, ctx.limits).accept_entry:
            return CodeAnswer("new_code_needed", "Too many wrong entries for this code; request a new code.")
        else:
            await reg.record_sent(saga, "verify_code", ctx)
            try:
                await ctx.api.verify_code(number_id, code)
            except GraphPermanentError:
                if not await ctx.api.code_verified(number_id):
                    return await _wrong(reg, saga, ctx)
            except TransientError as error:
                if getattr(error, "code", None) == 4:  # Meta's own lockout after too many tries
                    return CodeAnswer("new_code_needed", "Meta locked this code after too many tries; request a "
                                                         "new one.")
                await reg.settle_if_refused(saga, "verify_code", error)
                if not await ctx.api.code_verified(number_id):
                    raise  # Meta is busy; an entry it may still act on is settled by the verify_check timer
        await reg.apply(saga, "verify_code", steps.code_verified(saga, ctx))
    return CodeAnswer("verified", "Code accepted; the number is being registered.")  # the scheduler goes on


async def _wrong(reg: Registration, saga: repository.SagaRow, ctx: steps.Context) -> CodeAnswer:
    wrong = saga.wrong_codes + 1
    left = domain.code_entry(wrong, ctx.limits).attempts_left
    rejected = steps.event(ev.VerificationCodeRejected, saga, ctx.now, code_attempt=max(1, saga.code_requests),
                           wrong_attempts=wrong, attempts_left=left)
    await reg.apply(saga, "verify_code", steps.Outcome(saga.state, {"wrong_codes": wrong}, [rejected],
                                                       clear=("verify_check",)))
    hint = f"{left} more {'try' if left == 1 else 'tries'} for this code." if left else "Request a new code."
    return CodeAnswer("wrong_code", f"That code is not the one Meta sent. {hint}", left)


async def resend_code(reg: Registration, migration_id: uuid.UUID, partner_id: str, method: str) -> CodeAnswer:
    async with reg.locked(migration_id):
        if isinstance(found := await waiting_for_code(reg, migration_id, partner_id), CodeAnswer):
            return found
        async with reg.pool.acquire() as conn:
            await repository.update(conn, migration_id, reg.clock.now(), state="request_code", code_method=method)
        try:
            await reg.advance_locked(migration_id, interactive=True)  # the customer is waiting: send it now
        except TransientError:
            async with reg.pool.acquire() as conn:  # Meta is busy: keep waiting on the code already sent
                await repository.update(conn, migration_id, reg.clock.now(), state="awaiting_code")
            raise
    return CodeAnswer("code_requested", f"A new code is on its way by {method}.")


async def reveal_api_key(reg: Registration, migration_id: uuid.UUID, partner_id: str) -> str | None:
    async with reg.pool.acquire() as conn, conn.transaction():
        ciphertext = await repository.reveal_api_key(conn, migration_id, partner_id, reg.clock.now())
    return reg.cipher.decrypt(ciphertext) if ciphertext else None
