"""`numport migrate batch FILE`: one migration per CSV row, each refusal naming its line and field."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress

from services.gateway.cli import API_KEY, API_URL, AS_JSON, call, fail, migrate
from services.gateway.cli_views import console, table
from services.gateway.models import MigrationRequest

COLUMNS = tuple(MigrationRequest.model_fields)
REQUIRED = tuple(name for name, field in MigrationRequest.model_fields.items() if field.is_required())
YES, NO = ("1", "true", "yes", "y"), ("0", "false", "no", "n", "")
PART = 100  # rows per API call


class CsvRefused(ValueError):
    """The file as a whole cannot be read as migration requests."""


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, request) per row; a row's empty cells take the API's defaults (flow, source, …)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as error:
        raise CsvRefused(f"{path} is not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
                         f"{error.start}); save it as CSV UTF-8 and try again") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    unknown, missing = [h for h in header if h not in COLUMNS], [r for r in REQUIRED if r not in header]
    if not header or unknown or missing:
        raise CsvRefused(f"{path}: the first line must name the columns: {', '.join(REQUIRED)} and any of "
                         f"{', '.join(c for c in COLUMNS if c not in REQUIRED)}"
                         + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                         + (f"; missing: {', '.join(missing)}" if missing else ""))
    reader.fieldnames = header
    rows = [(reader.line_num, {k: _cell(k, v) for k, v in row.items() if k in COLUMNS and v and v.strip()})
            for row in reader]
    if not rows:
        raise CsvRefused(f"{path} has a header but no rows")
    return rows


def _cell(name: str, value: str) -> Any:
    """Booleans spelled as people do; anything else goes to the API as written, to be refused by name there."""
    if name == "admin_access_confirmed" and value.strip().lower() in YES + NO:
        return value.strip().lower() in YES
    return value.strip()


def problems(row: dict[str, Any]) -> str:
    return "; ".join(f"{e['field']}: {e['problem']}" for e in row["errors"])


def show(rows: list[dict[str, Any]]) -> None:
    """Accepted rows in a table (whole ids); each refused row on a line of its own, naming line and field."""
    accepted = [r for r in rows if r["status"] == "accepted"]
    if accepted:
        shown = table("line", "number", "migration", "queue position", whole=("migration",))
        for r in accepted:
            shown.add_row(str(r["line"]), r["phone_number"] or "", r["migration"]["id"], str(r["queue_position"]))
        console.print(shown)
    for r in rows:
        if r["status"] == "rejected":
            console.print(f"line {r['line']} refused: {problems(r)}", soft_wrap=True, markup=False)
    console.print(f"{len(accepted)} started, {len(rows) - len(accepted)} refused")


@migrate.command()
def batch(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                      help="CSV, UTF-8, with a header line naming the request fields."),
          api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Start one migration per CSV row (header: phone_number,business_id,destination_waba_id and optionally
    source_waba_id,flow,source,display_name,website,admin_access_confirmed). Exit 1 when a row was refused."""
    try:
        lines, items = zip(*read_rows(file), strict=True)
    except CsvRefused as refused:
        fail(str(refused))
    rows: list[dict[str, Any]] = []
    bar = Console(stderr=True)  # progress is for people: on a terminal, never in --json, never on stdout
    with Progress(console=bar, disable=as_json or not bar.is_terminal) as progress:
        task = progress.add_task("starting migrations", total=len(items))
        for start_at in range(0, len(items), PART):
            answer = call("POST", api_url, api_key, "/v1/migrations:batch", json={"items": items[start_at:][:PART]})
            rows += [{**r, "line": lines[start_at + r["index"]], "index": start_at + r["index"]}
                     for r in answer["rows"]]
            progress.advance(task, len(answer["rows"]))
    print(json.dumps(rows, indent=2)) if as_json else show(rows)
    if any(r["status"] == "rejected" for r in rows):
        raise typer.Exit(1)  # scripts learn that some rows need attention
