"""`numport migrate templates-retry`: the manual retry of a migration's templates, from a terminal."""

from __future__ import annotations

import json

from services.gateway.cli import API_KEY, API_URL, AS_JSON, call, console, migrate


@migrate.command("templates-retry")
def templates_retry(migration_id: str, api_url: str = API_URL, api_key: str = API_KEY,
                    as_json: bool = AS_JSON) -> None:
    """Copy again whatever of a migration's templates is still missing on the destination (never a duplicate)."""
    answer = call("POST", api_url, api_key, f"/v1/migrations/{migration_id}/templates:retry")
    print(json.dumps(answer, indent=2)) if as_json else console.print(answer["message"])
