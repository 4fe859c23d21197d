"""Admin: another BSP takes one of our numbers (a port-out seen from Meta's side), which Meta's Graph API cannot do
for us: the number is re-homed on the new BSP's WABA and onboarded there, as after that BSP's registration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from sandbox.admin import PREFIX
from sandbox.migration import complete_migration
from sandbox.state import Waba, World
from sandbox.webhooks import Webhooks


def router(world: World, hooks: Webhooks) -> APIRouter:
    api = APIRouter(prefix=PREFIX)

    @api.post("/numbers/{number_id}/leave")
    async def leave(number_id: str, request: Request) -> Any:
        """Body `{"waba_id", "business_id"?}`: the new BSP's WABA, made for the same customer when it does not exist
        yet, owned by `business_id` (default: the scenarios' other BSP)."""
        if (number := world.numbers.get(number_id)) is None:
            raise HTTPException(404, f"no phone number {number_id} in the sandbox")
        if number.is_pin_enabled:  # Meta refuses to move a number whose two-step verification is on
            raise HTTPException(409, "two-step verification is still on for this number; switch it off first")
        body = await request.json()
        source = world.wabas[number.waba_id]
        destination = world.wabas.setdefault(body["waba_id"], Waba(
            id=body["waba_id"], business_id=body.get("business_id", "100000000000005"), name="Customer @ another BSP",
            on_behalf_of_business_id=source.customer_business_id))
        number.migrating_to = destination.id
        notices = complete_migration(world, number)
        number.last_onboarded_time = world.now().strftime("%Y-%m-%dT%H:%M:%S+0000")
        await hooks.send(notices)
        return {"waba_id": destination.id, "last_onboarded_time": number.last_onboarded_time}

    return api
