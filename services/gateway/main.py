"""Composition root of the gateway: the partner API plus the projector of the migration status read model."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import Field, SecretStr

from services.gateway import read_model_metrics
from services.gateway.api import GatewayDeps, create_api
from services.gateway.handlers import on_migration_events
from services.gateway.partner_change_client import PartnerChangeClient
from services.gateway.registration_client import RegistrationClient
from services.precheck.dry_run import DryRun
from shared import topics
from shared.consumer import Subscription
from shared.graph import GraphClient
from shared.service import Runtime, ServiceSpec, Wired
from shared.settings import GraphSettings, ServiceSettings


class GatewaySettings(ServiceSettings, GraphSettings):
    website_timeout_seconds: float = 3.0
    registration_url: str | None = Field(default=None, description="Registration's internal API.")
    internal_token: SecretStr | None = Field(default=None, description="Shared with registration.")
    app_secret: SecretStr | None = Field(default=None, description="Our Meta app's secret: webhook signatures.")
    webhook_verify_token: SecretStr | None = Field(default=None, description="Meta's webhook subscription handshake.")
    partner_change_url: str | None = Field(default=None, description="Partner change's internal API.")


@contextlib.asynccontextmanager
async def wire(runtime: Runtime) -> AsyncIterator[Wired]:
    settings = runtime.settings
    assert isinstance(settings, GatewaySettings)
    graph = GraphClient.from_settings(settings)
    registration = RegistrationClient(settings.registration_url, settings.internal_token.get_secret_value()) \
        if settings.registration_url and settings.internal_token else None
    deps = GatewayDeps(runtime.pool, DryRun(graph, settings.website_timeout_seconds), runtime.clock,
                       registration, runtime.producer, _reveal(settings.app_secret),
                       _reveal(settings.webhook_verify_token), _partner_change(settings))
    try:
        yield Wired({sub.name: on_migration_events for sub in SUBSCRIPTIONS}, create_api(deps),
                    scrape=(read_model_metrics.refresher(runtime.pool),))
    finally:
        await graph.aclose()
        if registration:
            await registration.aclose()
        if deps.partner_change:
            await deps.partner_change.aclose()


def _partner_change(settings: GatewaySettings) -> PartnerChangeClient | None:
    if settings.partner_change_url and settings.internal_token:
        return PartnerChangeClient(settings.partner_change_url, settings.internal_token.get_secret_value())
    return None


def _reveal(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret else None


SUBSCRIPTIONS = tuple(
    Subscription(f"{topic.name.split('.')[1]}_events", topic, topic.events,
                 f"Projects {', '.join(e.__name__ for e in topic.events)} into the migration status read model.",
                 batch=True, inbox=False, transaction=False)
    for topic in (topics.PRECHECK_RESULTS, topics.REGISTRATION_EVENTS, topics.TEMPLATE_EVENTS))

SPEC = ServiceSpec(
    name="gateway",
    description="The partner API: start, dry-run and follow migrations; publishes MigrationRequested.",
    subscriptions=SUBSCRIPTIONS,
    wire=wire,
    migrations=Path(__file__).with_name("migrations"),
    settings_model=GatewaySettings,
)
