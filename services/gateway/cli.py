"""`numport migrate …` and `numport partner …`: the partner API from a terminal, with --json for scripts."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

migrate = typer.Typer(no_args_is_help=True, help="Start, check and follow number migrations.")
partner = typer.Typer(no_args_is_help=True, help="Manage partners and their API keys.")
console = Console()
API_URL = typer.Option("http://127.0.0.1:8080", envvar="NUMPORT_API_URL", help="The gateway's URL.")
API_KEY = typer.Option(..., envvar="NUMPORT_API_KEY", help="Your partner API key.", show_default=False)
AS_JSON = typer.Option(False, "--json", help="Print the API's JSON answer instead of tables.")
REQUEST_FIELDS = ("phone_number", "business_id", "destination_waba_id", "flow", "source", "source_waba_id",
                  "display_name", "website", "admin_access_confirmed")


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


def show_report(report: dict[str, Any], every_check: bool = False) -> None:
    checks = report["report"]
    counts = {s: sum(c["status"] == s for c in checks) for s in ("pass", "fail", "not_applicable")}
    console.print(f"[bold]{report['phone_number']}[/]: [bold]{report['outcome']}[/]"
                  + (f" — {report['message']}" if report.get("message") else "")
                  + (f" ({len(checks)} checks: {counts['pass']} pass, {counts['fail']} fail, "
                     f"{counts['not_applicable']} not applicable)" if checks else ""))
    if every_check:
        table = Table("check", "result", "reason code", "who acts", "remedy")
        for check in checks:
            colour = {"pass": "green", "fail": "red"}.get(check["status"], "dim")
            table.add_row(check["check"], f"[{colour}]{check['status']}[/]", check.get("reason_code") or "",
                          check.get("actor") or "", check.get("remedy") or "")
        console.print(table)
    elif counts["fail"]:
        table = Table("blocker", "who acts", "remedy")
        for check in (c for c in checks if c["status"] == "fail"):
            table.add_row(f"[red]{check['reason_code']}[/]", check["actor"], check["remedy"])
        console.print(table)


def show_migration(m: dict[str, Any]) -> None:
    console.print(f"[bold]{m['id']}[/] {m['phone_number']} → WABA {m['destination_waba_id']}: "
                  f"[bold]{m['state']}[/]\n  next: {m['next_action']}")
    if (templates := _template_detail(m["detail"])) is not None:
        console.print(f"  templates: {templates}")


def _template_detail(detail: dict[str, Any]) -> str | None:
    """Template counts and downtime, as the templates service reported them."""
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in (detail.get("template_counts") or {}).items() if n)
    downtime = detail.get("template_downtime_seconds")
    found = [counts] if counts else []
    found += [f"template downtime {downtime:g} s"] if downtime is not None else []
    return "; ".join(found) or None


@migrate.command("dry-run")
def dry_run(phone: str = typer.Option(..., help="The number as the customer typed it."),
            business_id: str = typer.Option(...), destination_waba_id: str = typer.Option(...),
            flow: str = "programmatic", source: str = "bsp_cloud_api", source_waba_id: str | None = None,
            display_name: str | None = None, website: str | None = None, admin_access: bool = True,
            every_check: bool = typer.Option(False, "--all", help="List passing checks too."),
            api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Every precheck, now, changing nothing."""
    body = request_body(phone, business_id, destination_waba_id, flow, source, source_waba_id, display_name,
                        website, admin_access)
    report = call("POST", api_url, api_key, "/v1/migrations:dry-run", json=body)
    print(json.dumps(report, indent=2)) if as_json else show_report(report, every_check)


@migrate.command()
def start(phone: str = typer.Option(...), business_id: str = typer.Option(...),
          destination_waba_id: str = typer.Option(...), flow: str = "programmatic", source: str = "bsp_cloud_api",
          source_waba_id: str | None = None, display_name: str | None = None, website: str | None = None,
          admin_access: bool = True, idempotency_key: str | None = None, api_url: str = API_URL,
          api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Start one migration."""
    body = request_body(phone, business_id, destination_waba_id, flow, source, source_waba_id, display_name,
                        website, admin_access)
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    migration = call("POST", api_url, api_key, "/v1/migrations", json=body, headers=headers)
    print(json.dumps(migration, indent=2)) if as_json else show_migration(migration)


@migrate.command()
def batch(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV with a header row of fields."),
          api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Start one migration per CSV row (columns: phone_number, business_id, destination_waba_id, …)."""
    with file.open(newline="") as handle:
        items = [{k: _cell(k, v) for k, v in row.items() if k in REQUEST_FIELDS and v not in (None, "")}
                 for row in csv.DictReader(handle)]
    if not items:
        fail(f"{file} has no rows")
    rows: list[dict[str, Any]] = []
    with Progress(console=console, disable=as_json) as progress:
        task = progress.add_task("starting migrations", total=len(items))
        for start_at in range(0, len(items), 100):
            part = items[start_at:start_at + 100]
            chunk = call("POST", api_url, api_key, "/v1/migrations:batch", json={"items": part})
            rows += [{**r, "index": r["index"] + start_at} for r in chunk["rows"]]
            progress.advance(task, len(chunk["rows"]))
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        table = Table("row", "number", "result", "migration / problem")
        for r in rows:
            detail = r["migration"]["id"] if r["migration"] else "; ".join(e["problem"] for e in r["errors"])
            table.add_row(str(r["index"] + 1), r["phone_number"] or "", r["status"], detail)
        console.print(table)
    if any(r["status"] == "rejected" for r in rows):
        raise typer.Exit(1)  # scripts learn that some rows need attention


def _cell(name: str, value: str) -> Any:
    return value.strip().lower() in ("1", "true", "yes") if name == "admin_access_confirmed" else value.strip()


@migrate.command()
def status(migration_id: str, api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """A migration's state, next action and timeline."""
    migration = call("GET", api_url, api_key, f"/v1/migrations/{migration_id}")
    timeline = call("GET", api_url, api_key, f"/v1/migrations/{migration_id}/timeline")
    if as_json:
        print(json.dumps({"migration": migration, "timeline": timeline["events"]}, indent=2))
        return
    show_migration(migration)
    table = Table("when (UTC)", "event", "by", "detail")
    for event in timeline["events"]:
        payload = event["payload"]
        detail = _detail(payload)
        table.add_row(event["occurred_at"][:19].replace("T", " "), event["type"], payload.get("producer", ""), detail)
    console.print(table)


def _detail(payload: dict[str, Any]) -> str:
    if payload.get("failed"):
        return ", ".join(payload["failed"])
    if (templates := _template_detail(payload)) is not None:
        return templates
    if payload.get("template_outcome"):
        return f"{payload['name']} ({payload['language']}): {payload['status']}, {payload.get('reason') or ''}"
    for key, label in (("reason_code", ""), ("message", ""), ("position", "position "), ("method", "by "),
                       ("attempts_left", "tries left: "), ("completed_at", "at "), ("key_prefix", "key "),
                       ("allocation_config_id", "allocation "), ("obo_request_id", "request ")):
        if payload.get(key) not in (None, ""):
            return f"{label}{payload[key]}"
    return ""


@migrate.command("list")
def listing(state: str | None = None, waba_id: str | None = None, phone: str | None = None, limit: int = 50,
            api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Your migrations, newest first."""
    params = {k: v for k, v in dict(state=state, waba_id=waba_id, phone_number=phone, limit=limit).items() if v}
    page = call("GET", api_url, api_key, "/v1/migrations", params=params)
    if as_json:
        print(json.dumps(page, indent=2))
        return
    table = Table("id", "number", "destination WABA", "state", "updated (UTC)")
    for m in page["data"]:
        table.add_row(m["id"], m["phone_number"], m["destination_waba_id"], m["state"], m["updated_at"][:19])
    console.print(table)


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
def create(partner_id: str, name: str = typer.Option(..., help="Display name of the partner.")) -> None:
    """Create a partner and print its API key (shown once; only its hash is stored)."""
    from services.gateway.partners import create_partners_at
    from shared.settings import ServiceSettings, load

    class DatabaseOnly(ServiceSettings):
        kafka_bootstrap: str = ""

    settings = load(DatabaseOnly)

    async def run() -> str:
        return (await create_partners_at(settings.database_url, partner_id, names={partner_id: name}))[0]

    try:
        key = asyncio.run(run())
    except ValueError as error:
        fail(str(error))
    except Exception as error:  # a duplicate id or an unreachable database: one line, no traceback
        fail(f"partner not created: {type(error).__name__}: {error}")
    print(key)
