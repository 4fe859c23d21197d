"""Precheck's one public entry for other services: the full report on a request, reading Graph, writing nothing.

The gateway's dry-run calls this in its own process (see the README's architecture section): a dry-run reads Graph
and decides by the same rules as the Kafka handler, but needs none of precheck's state, so it goes through this
module rather than precheck's adapters or a network hop.
"""

from __future__ import annotations

from datetime import datetime

from services.precheck.evaluate import evaluate
from services.precheck.meta_api import MetaGraphFacts
from shared.events import CheckOutcome, Event, MigrationRequested
from shared.graph import GraphClient


class DryRun:
    """Every check of precheck, on demand; the caller owns the Graph client and closes it."""

    def __init__(self, graph: GraphClient, website_timeout: float = 3.0, allow_loopback_websites: bool = False) -> None:
        self._facts = MetaGraphFacts(graph, website_timeout, allow_loopback_websites)

    async def __call__(self, request: MigrationRequested, now: datetime,
                       producer: str = "gateway") -> tuple[str, list[CheckOutcome], Event]:
        """(outcome, report, verdict event); the verdict is for reading only, it is never published."""
        return await evaluate(request, self._facts, now, producer=producer)
