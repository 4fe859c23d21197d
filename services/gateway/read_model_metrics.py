"""Migrations by state and by outcome, read from the status read model before each scrape: the read model already
knows every migration of every partner, and reading it keeps the figures right across replicas and restarts."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg

from services.gateway.status import TERMINAL
from shared.metrics import MIGRATIONS, MIGRATIONS_FINISHED

# The reason code of each way to finish: Meta's or our failure code, the first blocker, or why none was needed.
BY_STATE = """
SELECT state, CASE state WHEN 'failed' THEN coalesce(detail->>'reason_code', '')
                         WHEN 'ineligible' THEN coalesce(detail->'failed'->>0, '')
                         WHEN 'not_needed' THEN coalesce(detail->>'outcome', '')
                         ELSE '' END AS reason, count(*) AS migrations
FROM migrations GROUP BY 1, 2
"""


def refresher(pool: asyncpg.Pool) -> Callable[[], Coroutine[Any, Any, None]]:
    async def refresh() -> None:
        rows = await pool.fetch(BY_STATE)
        states: dict[tuple[str, ...], float] = {}
        for row in rows:
            states[(row["state"],)] = states.get((row["state"],), 0) + row["migrations"]
        MIGRATIONS.values = states
        MIGRATIONS_FINISHED.values = {(r["state"], r["reason"]): r["migrations"] for r in rows
                                      if r["state"] in TERMINAL}

    return refresh
