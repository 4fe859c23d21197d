"""`numport migrate watch`: follow one migration, or every migration into a WABA, live until they have finished."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import typer

from services.gateway.cli import API_KEY, API_URL, AS_JSON, call, fail, migrate
from services.gateway.cli_views import console
from services.gateway.status import TERMINAL

WENT_THROUGH = {"completed", "not_needed"}  # watch exits 0 when every migration ended so, else 3
NEEDS_SOMEONE = {"escalated", "failed", "ineligible"}  # shown the moment a migration reaches one


@migrate.command()
def watch(migration_id: str = typer.Argument(None, help="One migration to follow."),
          waba: str | None = typer.Option(None, "--waba", help="Follow every migration into this WABA instead."),
          every: float = typer.Option(2.0, "--every", min=0.1, help="Seconds between looks."),
          timeout: float = typer.Option(0, help="Give up after this many seconds (exit 1); 0 waits for ever."),
          api_url: str = API_URL, api_key: str = API_KEY, as_json: bool = AS_JSON) -> None:
    """Follow migrations until they have finished: a line whenever a state changes, counts by state for a WABA,
    each escalation or failure as it happens; --json for one JSON object per line. Exit status: 0 all completed
    (or not needed), 3 one was ineligible or failed, 1 the gateway could not be asked or --timeout passed."""
    if (migration_id is None) == (waba is None):
        fail("name one migration, or a WABA with --waba")
    look = partial(one_migration, api_url, api_key, migration_id) if migration_id else \
        partial(every_migration, api_url, api_key, waba)
    follow(look, Shown(as_json, counts=waba is not None), every, timeout)


def one_migration(api_url: str, api_key: str, migration_id: str) -> list[dict[str, Any]]:
    return [call("GET", api_url, api_key, f"/v1/migrations/{migration_id}")]


def every_migration(api_url: str, api_key: str, waba: str | None) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        params = {"waba_id": waba, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = call("GET", api_url, api_key, "/v1/migrations", params=params)
        found += page["data"]
        if not (cursor := page["next_cursor"]):
            return found


def follow(look: Callable[[], list[dict[str, Any]]], shown: Shown, every: float, timeout: float) -> None:
    deadline = time.monotonic() + timeout if timeout else None
    while True:
        migrations = look()
        shown.update(migrations)
        if migrations and all(m["state"] in TERMINAL for m in migrations):
            raise typer.Exit(0 if all(m["state"] in WENT_THROUGH for m in migrations) else 3)
        if deadline is not None and time.monotonic() >= deadline:
            fail(f"still not finished after {timeout:g} s: {shown.summary(migrations)}")
        time.sleep(every)


class Shown:
    """What was printed so far, so that each line says something new."""

    def __init__(self, as_json: bool, counts: bool) -> None:
        self.as_json, self.counts = as_json, counts
        self.seen: dict[str, tuple[str, str]] = {}
        self.last_counts: dict[str, int] | None = None

    def update(self, migrations: list[dict[str, Any]]) -> None:
        for m in migrations:
            now = (m["state"], m["next_action"])
            if self.seen.get(m["id"]) != now and (not self.counts or m["state"] in NEEDS_SOMEONE):
                self.line({"id": m["id"], "phone_number": m["phone_number"], "state": m["state"],
                           "next_action": m["next_action"]})
            self.seen[m["id"]] = now
        counts = dict(Counter(m["state"] for m in migrations))
        if self.counts and counts != self.last_counts:
            self.line({"counts": counts})
        self.last_counts = counts

    def line(self, fields: dict[str, Any]) -> None:
        if self.as_json:
            print(json.dumps({"at": datetime.now(UTC).isoformat(), **fields}), flush=True)
            return
        text = self.summary_of(fields["counts"]) if "counts" in fields else (
            f"{fields['id']} {fields['phone_number']}: [bold]{fields['state']}[/] — {fields['next_action']}")
        console.print(f"{datetime.now(UTC):%H:%M:%S} {text}", soft_wrap=True)

    def summary(self, migrations: list[dict[str, Any]]) -> str:
        return self.summary_of(dict(Counter(m["state"] for m in migrations))) or "no migration found"

    @staticmethod
    def summary_of(counts: dict[str, int]) -> str:
        return ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
