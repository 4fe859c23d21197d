"""What the partner-change API asks: load, check the caller, decide (domain), save and announce in one transaction."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg

from services.partner_change import announce, domain, parties, repository
from services.partner_change.domain import Change, Refused
from services.partner_change.parties import NotFound, Party
from shared import outbox
from shared.clock import Clock

ONE_OPEN_PER_WABA = "changes_one_open_per_waba"


def view(change: Change, extra: asyncpg.Record, who: str) -> dict[str, Any]:
    found = {"id": str(change.id), "url": f"/v1/partner-changes/{change.id}", "waba_id": change.waba_id,
             "phone_numbers": list(change.phone_numbers), "source_partner_id": change.source_partner,
             "destination_partner_id": change.destination_partner, "state": change.state,
             "next_step": None if extra["managed"] is not None else domain.NEXT_STEP.get(change.state),
             "ended_reason": extra["ended_reason"],
             "payment_method_required": change.payment_method_required, "approval": change.approval,
             "requested_at": change.requested_at.isoformat(),
             "approval_deadline": change.deadline.isoformat() if change.deadline else None,
             "transferred_at": change.transfer_at.isoformat() if change.state == "completed" else None,
             "managed_numbers": list(extra["managed"] or []), "your_role": who}
    return parties.redact(found, who)  # type: ignore[arg-type]


@dataclass
class PartnerChanges:
    pool: asyncpg.Pool
    clock: Clock
    approval_timeout: timedelta

    async def start(self, party: Party, body: dict[str, Any], idempotency_key: str | None) -> dict[str, Any]:
        """Steps 1-3, for the customer that owns the WABA; the same Idempotency-Key answers the same change."""
        if party.kind != "customer":
            raise Refused("not_allowed", "Only the customer that owns the WABA may ask to change its partner.")
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).digest()
        async with self.pool.acquire() as conn, conn.transaction():
            if idempotency_key and (seen := await repository.remembered(conn, party.id, idempotency_key)):
                if bytes(seen["request_hash"]) != digest:
                    raise Refused("conflict", "This Idempotency-Key was used for a different request.",
                                  "header.idempotency-key")
                return await self._view(conn, seen["change_id"], party)
            change = await self._decide_start(conn, party, body)
            try:
                async with conn.transaction():
                    await repository.insert(conn, change, party.id, body["legal_name"], body["country"])
            except asyncpg.UniqueViolationError:
                raise Refused("number_in_progress", "Another partner change of this WABA is under way; follow it, "
                                                    "or ask again once it has ended.", "waba_id") from None
            await outbox.append(conn, [announce.requested(change)])
            if idempotency_key:
                await repository.remember(conn, party.id, idempotency_key, digest, change.id)
            return await self._view(conn, change.id, party)

    async def _decide_start(self, conn: asyncpg.Connection, party: Party, body: dict[str, Any]) -> Change:
        holdings = await repository.waba(conn, body["waba_id"], party.business_id or "")
        if not holdings:
            raise NotFound()
        destination = await repository.terms(conn, body["destination_partner_id"])
        source = await repository.terms(conn, holdings[0].partner_id)
        return domain.request(uuid.uuid4(), holdings, body.get("phone_numbers"), destination,
                              body["destination_partner_id"],
                              source.payment_processor if source else domain.DEFAULT_PROCESSOR, self.clock.now())

    async def step(self, change_id: uuid.UUID, party: Party, action: str,
                   numbers: list[str] | None = None) -> dict[str, Any]:
        """Steps 4-7 and the grant: one action of one party, announced with the state it leads to."""
        now = self.clock.now()
        async with self.pool.acquire() as conn, conn.transaction():
            change = await self._authorized(conn, change_id, party, action)
            if action == "grant":
                managed = domain.grantable(change, numbers or [])
                seq = await repository.add_grant(conn, change, managed, now)
                await outbox.append(conn, [announce.granted(change, seq, managed, now)])
                return await self._view(conn, change_id, party)
            after = self._decide_step(change, action, numbers or [])
            await repository.save(conn, after, now, "declined_by_partner" if after.state == "declined" else None)
            await outbox.append(conn, announce.after_step(after, now))
            return await self._view(conn, change_id, party)

    def _decide_step(self, change: Change, action: str, numbers: list[str]) -> Change:
        now, timeout = self.clock.now(), self.approval_timeout
        decisions = {"review": lambda: domain.review(change, numbers),
                     "accept_terms": lambda: domain.accept_terms(change, now, timeout),
                     "confirm_payment": lambda: domain.confirm_payment(change, now, timeout),
                     "approve": lambda: domain.approve(change, now), "decline": lambda: domain.decline(change)}
        return decisions[action]()

    async def _authorized(self, conn: asyncpg.Connection, change_id: uuid.UUID, party: Party, action: str) -> Change:
        change = await repository.load(conn, change_id, lock=action != "view")
        if change is None:
            raise NotFound()
        parties.authorize(change, party, action)
        return change

    async def _view(self, conn: asyncpg.Connection, change_id: uuid.UUID, party: Party) -> dict[str, Any]:
        change = await self._authorized(conn, change_id, party, "view")
        return view(change, await repository.details(conn, change_id), parties.role(change, party) or "")

    async def show(self, change_id: uuid.UUID, party: Party) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            return await self._view(conn, change_id, party)

    async def listing(self, party: Party) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await repository.listing(conn, party.business_id if party.kind == "customer" else None,
                                            party.id if party.kind == "partner" else None)
            return [await self._view(conn, row["id"], party) for row in rows]

    async def number(self, phone_number: str, party: Party) -> dict[str, Any]:
        """Who serves a number and what the caller may do with it; nothing at all for a partner that gave it away."""
        held = await repository.holding(self.pool, phone_number)
        access = parties.number_access(held, party) if held else None
        if held is None or access is None:
            raise NotFound()
        return {"phone_number": held.phone_number, "waba_id": held.waba_id, "partner_id": held.partner_id,
                "access": access, "moving": held.busy}
