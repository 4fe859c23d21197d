"""`numport migrate …` and `numport partner …`: the partner API from a terminal, with --json for scripts."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, NoReturn

import httpx
import typer

from services.gateway.cli_views import console, show_migration, show_migrations, show_report, show_timeline
from services.gateway.models import MigrationRequest

migrate = typer.Typer(no_args_is_help=True, help="Start, check and follow number migrations.")
partner = typer.Typer(no_args_is_help=True, help="Manage partners and their API keys.")
API_URL = typer.Option("http://127.0.0.1:8080", envvar="NUMPORT_API_URL", help="The gateway's URL.")
API_KEY = typer.Option(..., envvar="NUMPORT_API_KEY", help="Your partner API key.", show_default=False)
AS_JSON = typer.Option(False, "--json", help="Print the API's JSON answer instead of tables.")
DEFAULT = {name: field.default for name, field in MigrationRequest.model_fields.items() if not field.is_required()}
FLOW = typer.Option(DEFAULT["flow"], help="Meta's migration flow (programmatic, embedded_signup).")
SOURCE = typer.Option(DEFAULT["source"], help="Where the number is served today.")
ADMIN_ACCESS = typer.Option(DEFAULT["admin_access_confirmed"], "--admin-access/--no-admin-access",
                            help="Confirm that you have admin access to the customer's Business Manager.")
# dry-run's exit status, for scripts: 0 only when `migrate start` would go ahead (documented in the README)
DRY_RUN_EXIT = {"eligible": 0, "ineligible": 3, "in_progress": 4, "already_moved": 5, "add_directly": 5}


def fail(message: str) -> NoReturn:
    print(f"numport: {message}", file=sys.stderr)
    raise typer.Exit(1)


def call(method: str, url: str, key: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
    try:
        response = httpx.request(method, f"{url.rstrip('/')}{path}", timeout=60, **kwargs,
                                 headers={**(headers or {}), "Authorization": f"Bearer {key}"})
    except httpx.HTTPError as error:
        fail(f"cannot reach the gateway at {url} ({type(error).__name__})")
    try:
        body = response.json() if response.content else {}
    except ValueError:  # a proxy's error page, or something that is not our gateway
        body = None
    if response.is_error or body is None:
        fail(describe(response, body))
    return body


def describe(response: httpx.Response, body: Any) -> str:
    """One line for any failed call: the API's code and message, its fields, and how long to wait."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return f"HTTP {response.status_code} from the gateway, without a numport error in the answer"
    fields = "; ".join(f"{f.get('field')}: {f.get('problem')}" for f in error.get("fields") or [])
    wait = response.headers.get("retry-after")
    message = " ".join(str(error.get("message", "")).split())  # one line, whatever the server wrote
    return (f"{error.get('code', response.status_code)}: {message}" + (f" ({fields})" if fields else "")
            + (f" [retry after {wait} s]" if wait and f"{wait} s" not in message else ""))


def request_body(phone: str, business_id: str, destination_waba_id: str, flow: str, source: str,
                 source_waba_id: str | None, display_name: str | None, website: str | None,
                 admin_access: bool) -> dict[str, Any]:
    body = dict(phone_number=phone, business_id=business_id, destination_waba_id=destination_waba_id, flow=flow,
                source=source, source_waba_id=source_waba_id, display_name=display_name, website=website,
                admin_access_confirmed=admin_access)
    return {k: v for k, v in body.items() if v is not None}


@migrate.command("dry-run")
def dry_run(phone: str = typer.Option(..., help="The number as the customer typed it."),
            business_id: str = typer.Option(...), destination_waba_id: str = typer.Option(...),
            flow: str = FLOW, source: str = SOURCE, source_waba_id: str | None = None,
            display_name: str | None = None, website: str | None = None, admin_access: bool = ADMIN_ACCESS,
            every_check: bool = typer.Option(False, "--all", help="List passing checks too."),
            api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Every precheck, now, changing nothing. Exit status: 0 eligible, 3 ineligible, 4 already migrating,
    5 no migration needed (already moved, or add it directly), 1 the call failed."""
    body = request_body(phone, business_id, destination_waba_id, flow, source, source_waba_id, display_name,
                        website, admin_access)
    report = call("POST", api_url, api_key, "/v1/migrations:dry-run", json=body)
    print(json.dumps(report, indent=2)) if as_json else show_report(report, every_check)
    raise typer.Exit(DRY_RUN_EXIT.get(report["outcome"], 1))


@migrate.command()
def start(phone: str = typer.Option(...), business_id: str = typer.Option(...),
          destination_waba_id: str = typer.Option(...), flow: str = FLOW, source: str = SOURCE,
          source_waba_id: str | None = None, display_name: str | None = None, website: str | None = None,
          admin_access: bool = ADMIN_ACCESS, idempotency_key: str | None = None, api_url: str = API_URL,
          api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Start one migration."""
    body = request_body(phone, business_id, destination_waba_id, flow, source, source_waba_id, display_name,
                        website, admin_access)
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    migration = call("POST", api_url, api_key, "/v1/migrations", json=body, headers=headers)
    print(json.dumps(migration, indent=2)) if as_json else show_migration(migration)


@migrate.command()
def status(migration_id: str, api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """A migration's state, next action and timeline."""
    migration = call("GET", api_url, api_key, f"/v1/migrations/{migration_id}")
    timeline = call("GET", api_url, api_key, f"/v1/migrations/{migration_id}/timeline")
    if as_json:
        print(json.dumps({"migration": migration, "timeline": timeline["events"]}, indent=2))
        return
    show_migration(migration)
    show_timeline(timeline["events"])


@migrate.command("list")
def listing(state: str | None = None, waba_id: str | None = None, phone: str | None = None, limit: int = 50,
            api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Your migrations, newest first."""
    params = {k: v for k, v in dict(state=state, waba_id=waba_id, phone_number=phone, limit=limit).items() if v}
    page = call("GET", api_url, api_key, "/v1/migrations", params=params)
    if as_json:
        print(json.dumps(page, indent=2))
        return
    show_migrations(page["data"])


@migrate.command()
def code(migration_id: str, digits: str = typer.Argument(..., help="The 6 digits the phone received."),
         api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Enter the ownership code the phone received by SMS or call."""
    answer = call("POST", api_url, api_key, f"/v1/migrations/{migration_id}/verification-code", json={"code": digits})
    print(json.dumps(answer, indent=2)) if as_json else console.print(answer["message"])


@migrate.command("new-code")
def new_code(migration_id: str, voice: bool = typer.Option(False, "--voice", help="Call instead of SMS."),
             api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Ask Meta for a new ownership code."""
    answer = call("POST", api_url, api_key, f"/v1/migrations/{migration_id}/verification-code:resend",
                  json={"method": "VOICE" if voice else "SMS"})
    print(json.dumps(answer, indent=2)) if as_json else console.print(answer["message"])


@migrate.command("api-key")
def api_key_once(migration_id: str, api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Collect the migrated number's API key; it is shown this one time."""
    answer = call("POST", api_url, api_key, f"/v1/migrations/{migration_id}/api-key")
    print(json.dumps(answer, indent=2)) if as_json else console.print(f"API key (shown once): {answer['api_key']}")


@partner.command()
def create(partner_id: str, name: str = typer.Option(..., help="Display name of the partner."),
           add_key: bool = typer.Option(False, "--add-key", help="The partner exists: give it another key.")) -> None:
    """Create a partner and print its API key (shown once; only its hash is stored); an existing id is refused."""
    from services.gateway.partners import create_partners_at
    from shared.settings import ServiceSettings, load

    class DatabaseOnly(ServiceSettings):
        kafka_bootstrap: str = ""

    settings = load(DatabaseOnly)

    async def run() -> str:
        return (await create_partners_at(settings.database_url, partner_id, names={partner_id: name},
                                         add_key=add_key))[0]

    try:
        key = asyncio.run(run())
    except ValueError as error:  # a bad id, or one that exists (PartnerExists)
        fail(str(error))
    except Exception as error:  # an unreachable database: one line, no traceback
        fail(f"partner not created: {type(error).__name__}: {error}")
    print(key)
