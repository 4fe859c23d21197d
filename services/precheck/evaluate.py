"""One precheck, from request to verdict: used by the Kafka handler and by the gateway's dry-run alike."""

from __future__ import annotations

from datetime import datetime

from services.precheck import checks, domain
from services.precheck.meta_api import MetaGraphFacts
from services.precheck.policy import POLICY
from shared.events import CheckOutcome, Event, MigrationRequested
from shared.graph import GraphPermanentError


async def evaluate(req: MigrationRequested, facts: MetaGraphFacts, now: datetime,
                   producer: str = "precheck") -> tuple[str, list[CheckOutcome], Event]:
    """Read-only: gathers facts with Graph GETs (and a website GET), never writes anywhere."""
    try:
        gathered = await facts.gather(req)
    except GraphPermanentError as error:
        return domain.lookup_refused(req, now, error.message, producer)
    return domain.decide(req, gathered, now, checks.ALL_CHECKS, POLICY[req.flow], producer)
