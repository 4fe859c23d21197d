"""Graph endpoints of phone numbers: list and add (with the migrate flag), request and verify a code, register."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import phonenumbers
from fastapi import APIRouter, Query, Request

from sandbox import fields, rules, solutions
from sandbox.http import bad_request, not_found, page, params, refused, truthy
from sandbox.migration import complete_migration
from sandbox.state import Code, PhoneNumber, World
from sandbox.webhooks import Webhooks

LIST_STATUS = {"CONNECTED": "LINKED", "PENDING": "PENDING", "MIGRATED": "MIGRATED", "BANNED": "BANNED",
               "RESTRICTED": "RESTRICTED", "DISCONNECTED": "UNLINKED", "DELETED": "DELETED"}
LANGUAGE = re.compile(r"^[a-z]{2}(_[A-Z]{2})?$")


def number_node(n: PhoneNumber, listing: bool = False) -> dict[str, Any]:
    node = {k: v for k, v in vars(n).items() if k not in ("pin", "waba_id", "migrating_to")}
    node.update(is_pin_enabled=n.is_pin_enabled, host_platform=n.platform_type, country_dial_code=_dial_code(n),
                country_code=phonenumbers.region_code_for_number(phonenumbers.parse(f"+{n.e164_digits}")),
                throughput={"level": "STANDARD"}, is_preverified_number=False,
                search_visibility="VISIBLE", whatsapp_business_manager_messaging_limit=n.messaging_limit_tier)
    if listing:  # the listing's schema has its own status enum
        node["status"] = LIST_STATUS.get(n.status, "PENDING")
    return node


def _dial_code(n: PhoneNumber) -> str:
    return n.display_phone_number.lstrip("+").split(" ")[0]


def router(world: World, hooks: Webhooks) -> APIRouter:
    api = APIRouter()

    @api.get("/{version}/{waba_id}/phone_numbers")
    async def list_numbers(waba_id: str, limit: int | None = None, after: str | None = None,
                           wanted: str | None = Query(None, alias="fields")) -> Any:
        if waba_id not in world.wabas:
            return not_found(waba_id)
        fields.names(wanted, fields.LISTED_NUMBER)  # an unknown name is refused even when nothing is listed
        moving_in = [n for n in world.numbers.values() if n.migrating_to == waba_id]
        nodes = [fields.select(number_node(n, listing=True), wanted, fields.LISTED_NUMBER)
                 for n in world.numbers_of(waba_id)]
        nodes += [{**fields.select(number_node(n, listing=True), wanted, fields.LISTED_NUMBER), "status": "PENDING"}
                  for n in moving_in]  # added with the migrate flag, not registered yet
        return page(nodes, limit, after)

    @api.post("/{version}/{waba_id}/phone_numbers")
    async def add_number(waba_id: str, request: Request) -> Any:
        if (destination := world.wabas.get(waba_id)) is None:
            return not_found(waba_id)
        body = await params(request)
        digits = f"{body.get('cc', '')}{body.get('phone_number', '')}"
        if not re.fullmatch(r"[1-9][0-9]{6,14}", digits):
            return bad_request("cc and phone_number must form an international number")
        if not truthy(body.get("migrate_phone_number")):
            return bad_request("only migrations (migrate_phone_number=true) are modelled by the sandbox")
        number = world.number_by_digits(digits)
        source = world.wabas.get(number.waba_id) if number else None
        accepted = rules.obo_is_accepted(list(world.obo_requests.values()), destination)
        if refusal := rules.migration_refusal(number, source, destination, accepted):
            return refused(refusal)
        assert number is not None
        number.migrating_to, number.code_verification_status = destination.id, "UNVERIFIED"
        if solutions.waives_verification(world, number, destination):
            number.code_verification_status = "VERIFIED"  # an accepted solution-migration intent needs no code
        return {"id": number.id}

    @api.post("/{version}/{number_id}/request_code")
    async def request_code(number_id: str, request: Request) -> Any:
        if (number := world.numbers.get(number_id)) is None:
            return not_found(number_id)
        body = await params(request)
        if body.get("code_method") not in ("SMS", "VOICE"):
            return bad_request("code_method must be SMS or VOICE")
        if not LANGUAGE.match(str(body.get("language", ""))):
            return bad_request("language must be a language code such as en or en_US")
        now = world.now()
        recent = rules.within(world.code_requests.get(number_id, []), now, timedelta(hours=1))
        if refusal := rules.code_request_refusal(number, recent, world.limits):
            return refused(refusal)
        world.code_requests[number_id] = [*recent, now]
        value = f"{world.rng.randrange(10**6):06d}"
        world.codes[number_id] = Code(value, body["code_method"], body["language"], now + world.limits.code_ttl)
        return {"success": True}

    @api.post("/{version}/{number_id}/verify_code")
    async def verify_code(number_id: str, request: Request) -> Any:
        if (number := world.numbers.get(number_id)) is None:
            return not_found(number_id)
        code = str((await params(request)).get("code", ""))
        if not re.fullmatch(r"[0-9]{6}", code):
            return bad_request("code must be 6 digits")
        sent = world.codes.get(number_id)
        if sent is None or world.now() >= sent.expires_at:
            return refused(rules.Refusal(422, 100, "The verification code is invalid or expired; request a new one."))
        if sent.wrong_attempts >= world.limits.wrong_codes_allowed:
            return refused(rules.Refusal(429, 4, "Too many verification attempts; request a new code later.", True))
        if code != sent.value:
            sent.wrong_attempts += 1
            return refused(rules.Refusal(422, 100, "The verification code is invalid or expired."))
        del world.codes[number_id]
        number.code_verification_status = "VERIFIED"
        return {"success": True, "id": number.id}

    @api.post("/{version}/{number_id}/register")
    async def register(number_id: str, request: Request) -> Any:
        if (number := world.numbers.get(number_id)) is None:
            return not_found(number_id)
        body = await params(request)
        pin = str(body.get("pin", ""))
        if body.get("messaging_product") != "whatsapp" or not re.fullmatch(r"[0-9]{6}", pin):
            return bad_request("messaging_product must be whatsapp and pin exactly 6 digits")
        now = world.now()
        recent = rules.within(world.registrations.get(number_id, []), now, world.limits.register_window)
        world.registrations[number_id] = [*recent, now]
        if refusal := rules.register_refusal(number, pin, "backup" in body, recent, world.limits):
            return refused(refusal)
        notices = complete_migration(world, number) if number.migrating_to else []
        number.pin, number.platform_type = pin, "CLOUD_API"
        number.status = "PENDING" if world.limits.register_leaves_pending else "CONNECTED"
        number.last_onboarded_time = now.strftime("%Y-%m-%dT%H:%M:%S+0000")
        await hooks.send(notices)
        return {"success": True}

    return api
