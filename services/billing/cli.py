"""`numport billing report|chart`: the ledger for analysts, straight from billing's SQL views (NUMPORT_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from datetime import date
from pathlib import Path

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from services.billing.reports import DayLine, Traffic, daily_report, number_traffic

billing = typer.Typer(no_args_is_help=True, help="Billing reports and the dispute chart, from the ledger.")
DATABASE = typer.Option(..., envvar="NUMPORT_DATABASE_URL", help="PostgreSQL URL.", show_default=False)


async def _read(url: str, query):  # noqa: ANN001, ANN202 - a coroutine function over one connection
    try:
        conn = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as error:
        print(f"numport: cannot reach the database ({type(error).__name__})", file=sys.stderr)
        raise typer.Exit(1) from None
    try:
        return await query(conn)
    finally:
        await conn.close()


@billing.command()
def report(partner: str = typer.Option(..., help="Partner id, as the ledger names it."),
           start: str = typer.Option(..., "--from", help="First day, YYYY-MM-DD (UTC)."),
           end: str = typer.Option(..., "--to", help="Last day, YYYY-MM-DD (UTC), included."),
           as_csv: bool = typer.Option(False, "--csv", help="CSV on stdout."),
           as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
           database_url: str = DATABASE) -> None:
    """Per day and pricing category: messages attributed to the partner and how many are billable."""
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        print("numport: --from and --to take dates as YYYY-MM-DD", file=sys.stderr)
        raise typer.Exit(1) from None
    lines = asyncio.run(_read(database_url, lambda conn: daily_report(conn, partner, first, last)))
    if as_json:
        typer.echo(json.dumps({"partner": partner, "from": start, "to": end, "days": [_json(x) for x in lines]},
                              indent=2))
    elif as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["day", "pricing_category", "messages", "billable"])
        writer.writerows([line.day.isoformat(), line.pricing_category, line.messages, line.billable]
                         for line in lines)
    else:
        _table(partner, lines)


def _json(line: DayLine) -> dict[str, object]:
    return {"day": line.day.isoformat(), "pricing_category": line.pricing_category, "messages": line.messages,
            "billable": line.billable}


def _table(partner: str, lines: list[DayLine]) -> None:
    table = Table("day", "pricing category", "messages", "billable", title=f"billing report: {partner}")
    for line in lines:
        table.add_row(line.day.isoformat(), line.pricing_category, f"{line.messages:,}", f"{line.billable:,}")
    table.add_row("total", "", f"{sum(x.messages for x in lines):,}", f"{sum(x.billable for x in lines):,}",
                  style="bold")
    Console().print(table)


@billing.command()
def chart(phone: str = typer.Option(..., help="The business number, E.164 (+4915…)."),
          out: Path = typer.Option(..., help="PNG file to write."),
          partner: str | None = typer.Option(None, help="Only this partner's messages (what a partner may see)."),
          database_url: str = DATABASE) -> None:
    """One number's traffic around its migration instant, each partner's share in its own colour."""
    from services.billing.chart import draw  # matplotlib loads only for the chart

    traffic: Traffic = asyncio.run(_read(database_url, lambda conn: number_traffic(conn, phone, partner)))
    if not traffic.buckets:
        print(f"numport: no billed messages for {phone}" + (f" and {partner}" if partner else ""), file=sys.stderr)
        raise typer.Exit(1)
    draw(traffic, phone, out)
    typer.echo(f"wrote {out}")
