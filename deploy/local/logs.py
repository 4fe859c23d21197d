"""Where the local stack writes each service's JSON log, and `numport logs ID`: one migration's story, every
service's lines about it in time order."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

LOG_ROOT = Path(tempfile.gettempdir()) / "numport-logs"
LATEST = LOG_ROOT / "latest"  # a link to the folder of the stack started last
SHOWN_FIRST = ("ts", "level", "service", "msg")
LEFT_OUT = {*SHOWN_FIRST, "logger", "correlation_id", "migration_id"}  # the same on every line of one story


def new_folder() -> Path:
    """A fresh folder for one run of the stack, named by its start time; `latest` points to it."""
    folder = LOG_ROOT / time.strftime("%Y%m%d-%H%M%S")
    suffix = 0
    while folder.exists():
        suffix += 1
        folder = LOG_ROOT / f"{time.strftime('%Y%m%d-%H%M%S')}-{suffix}"
    folder.mkdir(parents=True)
    LATEST.unlink(missing_ok=True)
    LATEST.symlink_to(folder.name)
    return folder


def entries(folder: Path) -> Iterator[dict[str, Any]]:
    """Every JSON line of every `*.log` in the folder; anything else (a crash's traceback) is skipped."""
    for path in sorted(folder.glob("*.log")):
        with path.open(errors="replace") as lines:
            for line in lines:
                if line.startswith("{"):
                    try:
                        yield json.loads(line)
                    except ValueError:
                        continue


def about(entry: dict[str, Any], migration_id: str) -> bool:
    """A line belongs to the migration when it names it (whole, or by a prefix of at least 8 characters)."""
    named = (str(entry.get("correlation_id", "")), str(entry.get("migration_id", "")))
    return any(value == migration_id or (len(migration_id) >= 8 and value.startswith(migration_id))
               for value in named if value)


def story(folder: Path, migration_id: str) -> list[dict[str, Any]]:
    return sorted((e for e in entries(folder) if about(e, migration_id.lower())), key=lambda e: str(e.get("ts")))


def render(entry: dict[str, Any]) -> str:
    """`12:00:01.250 gateway      info    request answered  route=… status=202 …` for a person to read."""
    rest = " ".join(f"{k}={json.dumps(v) if isinstance(v, list | dict) else v}" for k, v in entry.items()
                    if k not in LEFT_OUT)
    clock = str(entry.get("ts", ""))[11:23]
    return f"{clock} {entry.get('service', '?'):<12} {entry.get('level', '?'):<7} {entry.get('msg', '')}  {rest}"


def logs(migration_id: str = typer.Argument(..., help="The migration's id (or its first 8+ characters)."),
         folder: Path = typer.Option(LATEST, help="The log folder `numport stack` or the demo printed."),
         as_json: bool = typer.Option(False, "--json", help="The lines as they were written, for jq.")) -> None:
    """Show one migration's story across services: every log line naming it, in time order."""
    if not folder.is_dir():
        typer.echo(f"numport: no log folder at {folder}; start `numport stack` or pass --folder", err=True)
        raise typer.Exit(1)
    found = story(folder, migration_id)
    if not found:
        typer.echo(f"numport: no line in {folder} names migration {migration_id}", err=True)
        raise typer.Exit(1)
    for entry in found:
        typer.echo(json.dumps(entry) if as_json else render(entry))
