"""Composition root of the templates service: the rounds loop, the Kafka handlers, two Graph clients."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
from pydantic import Field

from services.templates import domain, repository
from services.templates.copying import Copier
from services.templates.handlers import TemplatesHandlers
from services.templates.meta_api import MetaTemplatesApi
from services.templates.rounds import Rounds
from shared import locks, topics
from shared.clock import SystemClock
from shared.consumer import Subscription
from shared.events import (
    EmbeddedSignupFinished,
    MetaWebhookChange,
    MigrationFailed,
    NumberEligible,
    PhoneRegistered,
    TemplatesRetryRequested,
    parse_webhook_change,
)
from shared.graph import GraphClient
from shared.service import Runtime, ServiceSpec, Wired
from shared.settings import GraphSettings, ServiceSettings
from shared.wakeup import Wakeup, looking, until

log = logging.getLogger("numport.templates")


class TemplatesSettings(ServiceSettings, GraphSettings):
    templates_migrate_timeout_seconds: float = Field(default=180, gt=0, le=900, description=(
        "Timeout of one template-migration call: Meta may take minutes for a page of 500."))
    templates_page_size: int = Field(default=domain.MAX_PER_CALL, ge=1, le=domain.MAX_PER_CALL,
                                     description="Templates per migration call (`count`); Meta takes at most 500.")
    templates_parallel_calls: int = Field(default=4, ge=1, le=16, description="Migration calls sent side by side.")
    templates_tick_seconds: float = Field(default=0.2, gt=0, le=60, description=(
        "Shortest pause between two looks for due work; commits wake the loop."))
    templates_idle_seconds: float = Field(default=5, gt=0, le=300, description=(
        "Fallback look for due work, for a commit notification lost while the listening connection reconnected."))
    templates_concurrency: int = Field(default=8, ge=1, le=64, description="Migrations worked on side by side.")


async def run_rounds(rounds: Rounds, every: float, concurrency: int, wakeup: Wakeup, longest: float) -> None:
    """Work every migration with something due, a few at a time; a failure waits for the next look. It looks when a
    commit may have made work, when the next waiting round falls due, and at the latest every `longest` seconds;
    never more often than every `every` seconds."""
    gate = asyncio.Semaphore(concurrency)

    async def guarded(row: asyncpg.Record) -> None:
        async with gate:
            try:
                await rounds.work(row["migration_id"], row["destination_waba_id"])
            except Exception as error:  # one migration's trouble (or PostgreSQL away) must not stop the others
                log.warning("template work failed, will be retried", extra={"error": repr(error)})

    async def look() -> float | None:
        due = await repository.runnable(rounds.pool, rounds.copier.clock.now())
        await asyncio.gather(*(guarded(row) for row in due))
        at = await repository.next_due(rounds.pool, rounds.copier.clock.now())
        return until(at, rounds.copier.clock.now())

    await looking(wakeup, look, every, longest, "template rounds tick failed")


@contextlib.asynccontextmanager
async def wire(runtime: Runtime) -> AsyncIterator[Wired]:
    s = runtime.settings
    assert isinstance(s, TemplatesSettings)
    graph = GraphClient.from_settings(s)
    migrations = GraphClient(s.graph_base_url, s.graph_api_version, s.graph_token.get_secret_value(),
                             timeout=s.templates_migrate_timeout_seconds, max_attempts=s.graph_max_attempts,
                             settle_margin=s.graph_settle_margin_seconds,
                             max_connections=s.templates_concurrency * s.templates_parallel_calls)
    lock_pool = await locks.open_pool(s.database_url, s.templates_concurrency + 2)
    copier = Copier(runtime.pool, MetaTemplatesApi(graph, migrations), runtime.clock,
                    timedelta(seconds=migrations.outcome_window))
    rounds = Rounds(copier, lock_pool, s.templates_page_size, s.templates_parallel_calls)
    handlers = TemplatesHandlers(runtime.clock)

    # A clock moved from outside (tests, rehearsals) makes rounds due without any commit: look every tick then.
    longest = s.templates_idle_seconds if isinstance(runtime.clock, SystemClock) else 0.0

    async def rounds_loop() -> None:
        await run_rounds(rounds, s.templates_tick_seconds, s.templates_concurrency,
                         Wakeup(s.database_url, "templates_work", "numport-templates-rounds"), longest)

    try:
        yield Wired({"number_eligible": handlers.on_number_eligible, "signup_finished": handlers.on_signup_finished,
                     "registered": handlers.on_registration_event, "retry": handlers.on_retry_requested,
                     "meta_webhooks": handlers.on_webhook}, background=(rounds_loop,))
    finally:
        await graph.aclose()
        await migrations.aclose()
        await lock_pool.close()


SPEC = ServiceSpec(
    name="templates",
    description="Copies every eligible template to the destination WABA before registration, and follows Meta's "
                "re-checks of the copies.",
    subscriptions=(
        Subscription("number_eligible", topics.PRECHECK_RESULTS, (NumberEligible,),
                     "Starts duplicating the templates of an eligible number's source WABA."),
        Subscription("signup_finished", topics.SIGNUP_EVENTS, (EmbeddedSignupFinished,),
                     "Learns the destination WABA Embedded Signup created."),
        Subscription("registered", topics.REGISTRATION_EVENTS, (PhoneRegistered, MigrationFailed),
                     "Measures the template downtime from the registration instant; stops copying for a migration "
                     "that failed."),
        Subscription("retry", topics.TEMPLATE_REQUESTS, (TemplatesRetryRequested,),
                     "A partner's manual retry: copies what is still missing."),
        Subscription("meta_webhooks", topics.META_WEBHOOKS, (MetaWebhookChange,),  # type: ignore[arg-type]
                     "Meta's template status, category and quality webhooks about the copies.",
                     decode=parse_webhook_change),
    ),
    wire=wire,
    migrations=Path(__file__).with_name("migrations"),
    settings_model=TemplatesSettings,
)
