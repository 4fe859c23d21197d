"""`numport port-out …`: take a number away from us and follow it until it has left (API calls, --json for scripts)."""

from __future__ import annotations

import json
from typing import Any

import typer

from services.gateway.cli import API_URL, AS_JSON, call

port_out = typer.Typer(no_args_is_help=True, help="A number leaves us for another BSP: two-step verification off, "
                                                  "then the departure, after which we no longer bill it.")
API_KEY = typer.Option(..., envvar="NUMPORT_API_KEY", show_default=False,
                       help="The number's partner key, or the customer's own key.")


def show(found: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(found, indent=2))
        return
    print(f"port-out {found['id']}  {found['phone_number']} (WABA {found['waba_id']}): {found['state']}")
    print(f"  next: {found['next_step']}")
    if found.get("ticket"):
        print(f"  ticket '{found['ticket']['topic']}' due {found['due_at']}, {found['reminders']} reminder(s)"
              + (f", escalated {found['escalated_at']}" if found.get("escalated_at") else "")
              + (f", closed {found['ticket_closed_at']}" if found.get("ticket_closed_at") else ""))
    if found.get("departed_at"):
        print(f"  left us at {found['departed_at']}: billed to us only before that instant")


@port_out.command()
def start(phone: str = typer.Option(..., help="The number that leaves us, in international format."),
          idempotency_key: str | None = None, api_url: str = API_URL, api_key: str = API_KEY,
          as_json: bool = AS_JSON) -> None:
    """Ask to take a number away from us; the answer says who switches two-step verification off, and how."""
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    show(call("POST", api_url, api_key, "/v1/port-outs", json={"phone_number": phone}, headers=headers), as_json)


@port_out.command()
def status(port_out_id: str, api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """One port-out: its path, the ticket's clock, two-step verification, the departure."""
    show(call("GET", api_url, api_key, f"/v1/port-outs/{port_out_id}"), as_json)


@port_out.command("list")
def listing(limit: int = 50, api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Your port-outs, newest first."""
    page = call("GET", api_url, api_key, "/v1/port-outs", params={"limit": limit})
    if as_json:
        print(json.dumps(page, indent=2))
        return
    for found in page["data"]:
        show(found, False)
