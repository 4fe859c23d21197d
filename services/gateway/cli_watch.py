"""`numport migrate watch ID`: follow one migration, a line per change of state, until it has finished."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import typer

from services.gateway.cli import API_KEY, API_URL, AS_JSON, call, fail, migrate
from services.gateway.cli_views import console
from services.gateway.status import TERMINAL

# watch's exit status once the migration has finished: 0 it went through (or was not needed), 3 it did not
WATCH_EXIT = {"completed": 0, "not_needed": 0, "ineligible": 3, "failed": 3}


@migrate.command()
def watch(migration_id: str, every: float = typer.Option(2.0, "--every", min=0.1, help="Seconds between looks."),
          timeout: float = typer.Option(0, help="Give up after this many seconds (exit 1); 0 waits for ever."),
          api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Follow a migration until it has finished: a line each time its state or next action changes (escalations
    included), --json for one JSON object per line. Exit status: 0 completed or not needed, 3 ineligible or
    failed, 1 the gateway could not be asked or --timeout passed."""
    deadline = time.monotonic() + timeout if timeout else None
    seen: tuple[str, str] | None = None
    while True:
        migration = call("GET", api_url, api_key, f"/v1/migrations/{migration_id}")
        now = (migration["state"], migration["next_action"])
        if now != seen:
            seen = now
            show_change(migration, as_json)
        if migration["state"] in TERMINAL:
            raise typer.Exit(WATCH_EXIT.get(migration["state"], 1))
        if deadline is not None and time.monotonic() >= deadline:
            fail(f"migration {migration_id} is still {migration['state']} after {timeout:g} s")
        time.sleep(every)


def show_change(migration: dict, as_json: bool) -> None:
    at = datetime.now(UTC).strftime("%H:%M:%S")
    if as_json:
        print(json.dumps({"at": datetime.now(UTC).isoformat(), "id": migration["id"], "state": migration["state"],
                          "next_action": migration["next_action"], "detail": migration["detail"]}), flush=True)
        return
    colour = "red" if migration["state"] in ("escalated", "failed", "ineligible") else "bold"
    console.print(f"{at} [{colour}]{migration['state']}[/] — {migration['next_action']}", soft_wrap=True)
