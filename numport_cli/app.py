"""The `numport` command: run a service, the sandbox, the demo, or regenerate the AsyncAPI documents."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="numport: WhatsApp number migration platform.")
SERVICES = {"precheck": "services.precheck.main", "registration": "services.registration.main",
            "gateway": "services.gateway.main", "billing": "services.billing.main",
            "templates": "services.templates.main", "partner_change": "services.partner_change.main"}


def spec_of(service: str):  # noqa: ANN201 - returns a ServiceSpec, imported lazily to keep start-up light
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}; choose one of: {', '.join(SERVICES)}")
    return importlib.import_module(SERVICES[service]).SPEC


@app.command()
def run(service: str = typer.Argument(..., help="Service to run: " + ", ".join(SERVICES))) -> None:
    """Run one service until SIGTERM; configuration comes from NUMPORT_* environment variables."""
    from shared.service import main

    main(spec_of(service))


@app.command()
def sandbox(port: int = typer.Option(8099, help="Port to listen on (127.0.0.1)."),
            scenario: str = typer.Option("", help="Scenario name or YAML/JSON file to load at start."),
            webhook_url: str = typer.Option("", envvar="NUMPORT_SANDBOX_WEBHOOK_URL",
                                            help="Where to POST Meta-shaped webhooks (the gateway)."),
            app_secret: str = typer.Option("sandbox-app-secret", envvar="NUMPORT_SANDBOX_APP_SECRET",
                                           help="Key of the X-Hub-Signature-256 HMAC.", show_default=False)) -> None:
    """Serve the Graph API sandbox standalone (Graph under /v23.0/…, admin API under /_sandbox)."""
    import uvicorn

    from sandbox.app import create_app
    from sandbox.state import World, read_scenario
    from sandbox.webhooks import Webhooks

    world = World()
    if scenario:
        world.load(read_scenario(scenario))
    hooks = Webhooks(url=webhook_url or None, app_secret=app_secret)
    typer.echo(f"numport sandbox on http://127.0.0.1:{port} (scenario: {scenario or 'empty'})")
    uvicorn.run(create_app(world, hooks), host="127.0.0.1", port=port, log_level="warning")


@app.command()
def asyncapi(check: bool = typer.Option(False, help="Fail when a checked-in document is stale."),
             out: Path = typer.Option(Path("docs/asyncapi"), help="Folder of the documents.")) -> None:
    """Generate one AsyncAPI document per service from the code."""
    from shared.asyncapi import render

    stale = []
    for service in SERVICES:
        path, text = out / f"{service}.yaml", render(spec_of(service))
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            out.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            typer.echo(f"wrote {path}")
    if stale:
        typer.echo(f"stale AsyncAPI documents: {', '.join(stale)}; run `numport asyncapi` and commit", err=True)
        raise typer.Exit(1)


events = typer.Typer(no_args_is_help=True, help="The event contract: JSON Schema snapshots per schema_version.")
app.add_typer(events, name="events")


@events.command("check")
def events_check() -> None:
    """Fail when an event changed in a way that breaks its subscribers without a new schema_version."""
    from shared.event_snapshots import problems

    if found := problems():
        typer.echo("\n".join(found), err=True)
        raise typer.Exit(1)
    typer.echo("every event matches its snapshot, or only adds to it")


@events.command("snapshot")
def events_snapshot() -> None:
    """Record the current schemas in docs/events/ (refused while a change would break subscribers)."""
    from shared.event_snapshots import write

    try:
        written = write()
    except ValueError as error:
        typer.echo(f"numport: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo("\n".join(f"wrote {p}" for p in written) or "snapshots already current")


@app.command()
def demo() -> None:
    """Start Kafka, PostgreSQL, the sandbox and the services, run a migration request end to end, show it."""
    from deploy.local.demo import main as demo_main

    sys.exit(demo_main())


@app.command()
def stack(scenario: str = typer.Option("demo", help="Sandbox scenario to load."),
          gateway_port: int = typer.Option(8080, help="Gateway port (another free one if taken)."),
          sandbox_port: int = typer.Option(8099, help="Sandbox port (another free one if taken).")) -> None:
    """Run everything locally (Kafka, PostgreSQL, sandbox, services) until Ctrl-C or SIGTERM; prints the API URL,
    a partner key, the database URL and the log folder."""
    from deploy.local import stack as local_stack

    local_stack.serve(scenario, gateway_port, sandbox_port, typer.echo)


def main() -> None:
    from services.gateway import cli_batch, cli_watch  # noqa: F401 - add `migrate batch` and `migrate watch`
    from services.gateway.cli import migrate, partner
    from services.templates import cli as _templates_cli  # noqa: F401 - adds `migrate templates-retry`

    app.add_typer(migrate, name="migrate")
    app.add_typer(partner, name="partner")
    app.add_typer(importlib.import_module("services.billing.cli").billing, name="billing")
    app.add_typer(importlib.import_module("services.partner_change.cli").partner_change, name="partner-change")
    app.add_typer(importlib.import_module("services.partner_change.port_out.cli").port_out, name="port-out")
    app.add_typer(importlib.import_module("services.gateway.customer_cli").customer, name="customer")
    app.command("logs")(importlib.import_module("deploy.local.logs").logs)
    app()
