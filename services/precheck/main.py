"""Composition root of the precheck service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from services.precheck.handlers import Precheck
from services.precheck.meta_api import MetaGraphFacts
from shared import topics
from shared.clock import SystemClock
from shared.consumer import Subscription
from shared.events import MigrationRequested
from shared.graph import GraphClient
from shared.service import Runtime, ServiceSpec, Wired
from shared.settings import GraphSettings, ServiceSettings


class PrecheckSettings(ServiceSettings, GraphSettings):
    website_timeout_seconds: float = 3.0


@contextlib.asynccontextmanager
async def wire(runtime: Runtime) -> AsyncIterator[Wired]:
    settings = runtime.settings
    assert isinstance(settings, PrecheckSettings)
    graph = GraphClient.from_settings(settings)
    precheck = Precheck(MetaGraphFacts(graph, settings.website_timeout_seconds), SystemClock())
    try:
        yield Wired({"migration_requested": precheck.on_migration_requested})
    finally:
        await graph.aclose()


SPEC = ServiceSpec(
    name="precheck",
    description="Checks every migration blocker named by Meta and the BSP documents before anything is touched.",
    subscriptions=(Subscription("migration_requested", topics.MIGRATION_REQUESTS, (MigrationRequested,),
                                "Runs every check for a requested migration and emits the verdict."),),
    wire=wire,
    migrations=Path(__file__).with_name("migrations"),
    settings_model=PrecheckSettings,
)
