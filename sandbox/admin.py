"""The admin API under /_sandbox: what a rehearsal needs that Meta's Graph API does not offer.

Loading scenarios, reading the code 'delivered' to the customer's phone, acting as the customer in Business
Manager (accept an OBO request, switch two-step verification off), injecting faults, moving the clock, driving
message-status traffic, and inspecting calls, the log of writes and webhook deliveries.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import yaml
from fastapi import APIRouter, HTTPException, Request

from sandbox.faults import Faults
from sandbox.message_statuses import Mix
from sandbox.operations import NAMES
from sandbox.state import Limits, Waba, World, expand, read_scenario
from sandbox.webhooks import Webhooks

PREFIX = "/_sandbox"
SETTINGS = {"webhook_url", "app_secret"} | set(Limits.__dataclass_fields__)


def router(world: World, hooks: Webhooks, faults: Faults) -> APIRouter:
    api = APIRouter(prefix=PREFIX)

    def number(number_id: str) -> Any:
        if number_id not in world.numbers:
            raise HTTPException(404, f"no phone number {number_id} in the sandbox")
        return world.numbers[number_id]

    @api.post("/scenario")
    async def load_scenario(request: Request) -> Any:
        body = yaml.safe_load(await request.body() or b"{}") or {}
        try:
            world.load(read_scenario(body["name"]) if set(body) == {"name"} else expand(body))
        except (FileNotFoundError, TypeError, ValueError) as error:
            raise HTTPException(422, f"scenario not loaded: {error}") from None
        return {"loaded": True, "numbers": len(world.numbers), "templates": len(world.templates)}

    @api.post("/reset")
    async def reset() -> Any:
        world.load({})
        faults.clear()
        hooks.deliveries.clear()
        return {"reset": True}

    @api.get("/numbers/{number_id}/code")
    async def last_code(number_id: str) -> Any:
        number(number_id)
        if (code := world.codes.get(number_id)) is None:
            raise HTTPException(404, "no code has been sent to this number")
        return {"code": code.value, "method": code.method, "language": code.language,
                "expires_at": code.expires_at.isoformat()}

    @api.post("/numbers/{number_id}/two-step/disable")
    async def disable_two_step(number_id: str) -> Any:
        n = number(number_id)
        n.pin = None
        await hooks.send([(n.waba_id, "security", {"display_phone_number": n.e164_digits,
                                                   "event": "PIN_REQUEST_SUCCESS"})])
        return {"is_pin_enabled": False}

    @api.post("/numbers/{number_id}/name-decision")
    async def decide_name(number_id: str, request: Request) -> Any:
        n, decision = number(number_id), (await request.json()).get("decision", "APPROVED")
        n.new_name_status = "NONE"
        await hooks.send([(n.waba_id, "phone_number_name_update", {
            "display_phone_number": n.e164_digits, "decision": decision, "requested_verified_name": n.verified_name,
            "rejection_reason": None if decision == "APPROVED" else "NAME_FORMAT_UNACCEPTABLE"})])
        return {"decision": decision}

    @api.post("/obo/{request_id}/{decision}")
    async def decide_obo(request_id: str, decision: str) -> Any:
        if request_id not in world.obo_requests or decision not in ("accept", "decline"):
            raise HTTPException(404, "no such on-behalf-of request or decision (accept | decline)")
        obo = world.obo_requests[request_id]
        obo.status = "APPROVE" if decision == "accept" else "DECLINE"
        if decision == "accept":
            await hooks.send([(obo.waba_id, "account_update", {"event": "PARTNER_ADDED", "waba_info": {
                "waba_id": obo.waba_id, "owner_business_id": obo.receiving_business_id}})])
        return {"id": obo.id, "status": obo.status}

    @api.post("/embedded-signup")
    async def embedded_signup(request: Request) -> Any:
        """The customer finishes Embedded Signup v2: a new WABA of their own, ownership of the number proven."""
        body = await request.json()
        n = number(body["phone_number_id"])
        business_id = body.get("business_id") or world.wabas[n.waba_id].customer_business_id
        waba = Waba(id=world.new_id(), business_id=business_id, name=f"{n.verified_name} (Embedded Signup)",
                    primary_funding_id=None)
        world.wabas[waba.id] = waba
        n.migrating_to, n.code_verification_status = waba.id, "VERIFIED"
        return {"waba_id": waba.id, "phone_number_id": n.id}

    @api.post("/faults")
    async def set_faults(request: Request) -> Any:
        body = await request.json()
        try:
            if not isinstance(body, dict):
                raise ValueError("the fault settings must be a JSON object")
            faults.configure(**body)
        except ValueError as error:
            raise HTTPException(422, str(error)) from None
        return faults.describe()

    @api.post("/settings")
    async def settings(request: Request) -> Any:
        body = await request.json()
        if unknown := set(body) - SETTINGS:
            raise HTTPException(422, f"unknown settings: {sorted(unknown)}")
        hooks.url = body.get("webhook_url", hooks.url)
        hooks.app_secret = body.get("app_secret", hooks.app_secret)
        for name in set(body) & set(Limits.__dataclass_fields__):
            value = body[name]
            setattr(world.limits, name, timedelta(seconds=value) if name in ("code_ttl", "register_window") else value)
        return {"webhook_url": hooks.url, "limits": {k: str(v) for k, v in vars(world.limits).items()}}

    @api.post("/clock")
    async def move_clock(request: Request) -> Any:
        world.clock_offset += timedelta(seconds=float((await request.json())["advance_seconds"]))
        return {"now": world.now().isoformat()}

    @api.get("/calls")
    async def calls() -> Any:
        return {"calls": [list(c) for c in world.calls], "writes": len(world.writes)}

    @api.get("/requests")
    async def requests(operation: str | None = None) -> Any:
        if operation is not None and operation not in NAMES:
            raise HTTPException(422, f"operation: not a write operation; one of {', '.join(NAMES)}")
        return {"requests": [r.as_json() for r in world.requests if operation in (None, r.operation)]}

    @api.get("/webhooks")
    async def deliveries() -> Any:
        return {"deliveries": hooks.deliveries}

    @api.post("/traffic")
    async def traffic(request: Request) -> Any:
        body = await request.json()
        for number_id in body["phone_number_ids"]:
            number(number_id)
        try:
            mix = Mix(**{name: float(body.get(f"{name}_share", 0.0)) for name in Mix.__dataclass_fields__})
        except (TypeError, ValueError):
            raise HTTPException(422, "the *_share settings must be numbers") from None
        run = hooks.start_traffic(world, body["phone_number_ids"], float(body.get("rate", 100)),
                                  int(body.get("count", 10)), body.get("statuses", ["sent", "delivered", "read"]),
                                  mix, int(body.get("seed", 0)))
        return {"id": run}

    @api.get("/traffic/{run_id}")
    async def traffic_status(run_id: str) -> Any:
        return {"id": run_id, "done": await hooks.traffic_done(run_id)}

    return api
