"""Reading a Graph edge to its end: Meta pages every listing, and a first page alone silently misses the rest."""

from __future__ import annotations

from typing import Any

from shared.graph import GraphClient

PAGE = 100


async def every_node(graph: GraphClient, path: str, fields: list[str], waba: str | None = None,
                     limit: int = PAGE) -> list[dict[str, Any]]:
    """All nodes of the edge, page after page by the `after` cursor, until Meta names no next page."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = await graph.get(path, fields=fields, waba=waba, limit=limit, **({"after": after} if after else {}))
        found += page.get("data", [])
        paging = page.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after")
        if not paging.get("next") or not after or not page.get("data"):
            return found
