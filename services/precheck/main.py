"""Composition root of the precheck service."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import Field

from services.precheck.handlers import Precheck
from services.precheck.meta_api import MetaGraphFacts
from shared import topics
from shared.clock import SystemClock
from shared.consumer import Subscription
from shared.events import MigrationRequested
from shared.graph import GraphClient
from shared.service import Runtime, ServiceSpec, Wired
from shared.settings import GraphSettings, ServiceSettings

log = logging.getLogger("numport.precheck")


class PrecheckSettings(ServiceSettings, GraphSettings):
    website_timeout_seconds: float = 3.0
    unsafe_allow_loopback_websites: bool = Field(
        default=False, description="UNSAFE, local stack and tests only: the website check may reach loopback "
                                   "(on any port); private, link-local and metadata addresses stay refused.")


@contextlib.asynccontextmanager
async def wire(runtime: Runtime) -> AsyncIterator[Wired]:
    settings = runtime.settings
    assert isinstance(settings, PrecheckSettings)
    graph = GraphClient.from_settings(settings)
    if settings.unsafe_allow_loopback_websites:
        log.warning("NUMPORT_UNSAFE_ALLOW_LOOPBACK_WEBSITES is on: partners' website URLs may reach this host")
    facts = MetaGraphFacts(graph, settings.website_timeout_seconds, settings.unsafe_allow_loopback_websites)
    precheck = Precheck(facts, SystemClock())
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
