"""`numport partner-change …`: a customer moves its WABA to another partner and the new partner approves."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer

from services.gateway.cli import API_URL, AS_JSON, call, fail

partner_change = typer.Typer(no_args_is_help=True, help="Move every number of a WABA to another integration partner.")
API_KEY = typer.Option(..., envvar="NUMPORT_API_KEY", show_default=False,
                       help="Your key: the customer's for the request and its steps, the new partner's to approve.")
NUMBERS = typer.Option(..., "--phone", help="A number of the WABA, E.164; repeat for each.")


def show(change: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(change, indent=2))
        return
    print(f"partner change {change['id']}  WABA {change['waba_id']}: {change['state']}"
          + (f" (next: {change['next_step']})" if change.get("next_step") else "")
          + (f" [{change['ended_reason']}]" if change.get("ended_reason") else ""))
    print(f"  {change['source_partner_id']} -> {change.get('destination_partner_id') or '(hidden)'}, "
          f"approval {change['approval']}, you are the {change['your_role'].replace('_', ' ')}")
    managed = set(change.get("managed_numbers") or [])
    for number in change["phone_numbers"]:
        print(f"  {number}" + ("  managed by the new partner" if number in managed else ""))
    if change.get("transferred_at"):
        print(f"  every number moved at {change['transferred_at']}")


@partner_change.command()
def request(waba_id: str = typer.Option(...), to: str = typer.Option(..., help="The new partner's id."),
            legal_name: str = typer.Option(..., help="Company information: legal name."),
            country: str = typer.Option(..., help="Company information: ISO country code, e.g. DE."),
            idempotency_key: str | None = None, api_url: str = API_URL, api_key: str = API_KEY,
            as_json: bool = AS_JSON) -> None:
    """As the customer: ask to move every number of your WABA to another partner."""
    body = {"waba_id": waba_id, "destination_partner_id": to, "legal_name": legal_name, "country": country}
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    show(call("POST", api_url, api_key, "/v1/partner-changes", json=body, headers=headers), as_json)


@partner_change.command()
def status(change_id: str, api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """One partner change, as your role sees it."""
    show(call("GET", api_url, api_key, f"/v1/partner-changes/{change_id}"), as_json)


@partner_change.command("list")
def listing(api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Your partner changes: as customer, new partner or old partner."""
    page = call("GET", api_url, api_key, "/v1/partner-changes")
    if as_json:
        print(json.dumps(page, indent=2))
        return
    for change in page["data"]:
        show(change, False)


def _step(change_id: str, action: str, api_url: str, api_key: str, as_json: bool, body: dict | None = None) -> None:
    show(call("POST", api_url, api_key, f"/v1/partner-changes/{change_id}:{action}", json=body or {}), as_json)


@partner_change.command()
def review(change_id: str, phone: list[str] = NUMBERS, api_url: str = API_URL, api_key: str = API_KEY,
           as_json: bool = AS_JSON) -> None:
    """As the customer: confirm the numbers that move (all of the WABA's)."""
    _step(change_id, "review", api_url, api_key, as_json, {"phone_numbers": phone})


@partner_change.command("accept-terms")
def accept_terms(change_id: str, api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """As the customer: accept the terms and submit the request."""
    _step(change_id, "accept-terms", api_url, api_key, as_json)


@partner_change.command("confirm-payment-method")
def confirm_payment(change_id: str, api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """As the customer: confirm a payment method, where the new partner requires one."""
    _step(change_id, "confirm-payment-method", api_url, api_key, as_json)


@partner_change.command()
def approve(change_id: str, api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """As the new partner: approve; every number moves at once."""
    _step(change_id, "approve", api_url, api_key, as_json)


@partner_change.command()
def decline(change_id: str, api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """As the new partner: decline; nothing moves."""
    _step(change_id, "decline", api_url, api_key, as_json)


@partner_change.command()
def grant(change_id: str, phone: list[str] = NUMBERS, api_url: str = API_URL, api_key: str = API_KEY,
          as_json: bool = AS_JSON) -> None:
    """As the customer: the numbers the new partner may manage (it only reads the others)."""
    _step(change_id, "grant-permissions", api_url, api_key, as_json, {"managed_numbers": phone})


@partner_change.command()
def terms(partner_id: str, approval: str = typer.Option("auto", help="auto or manual."),
          processor: str = typer.Option("default", help="The payment processor the partner bills through."),
          payment_method: bool = typer.Option(False, "--payment-method-required/--no-payment-method",
                                              help="Customers confirm a payment method before approval.")) -> None:
    """Operator: how a partner takes changes towards it (needs NUMPORT_DATABASE_URL)."""
    from services.partner_change.domain import PartnerTerms
    from services.partner_change.repository import set_terms
    from shared import db
    from shared.settings import ServiceSettings, load

    if approval not in ("auto", "manual"):
        fail("--approval is auto or manual")

    class DatabaseOnly(ServiceSettings):
        kafka_bootstrap: str = ""

    async def run() -> None:
        pool = await db.open_pool(load(DatabaseOnly).database_url, "partner_change",
                                  Path(__file__).with_name("migrations"), 2)
        try:
            await set_terms(pool, PartnerTerms(partner_id, approval, processor, payment_method))  # type: ignore[arg-type]
        finally:
            await pool.close()

    try:
        asyncio.run(run())
    except Exception as error:  # an unreachable database: one line, no traceback
        fail(f"terms not set: {type(error).__name__}: {error}")
    print(f"{partner_id}: {approval} approval, processor {processor}"
          + (", payment method required" if payment_method else ""))
