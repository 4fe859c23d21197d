"""Composition root of partner change: the map of numbers from migration events, the internal API, the transfers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr

from services.partner_change import handlers
from services.partner_change.api import create_api
from services.partner_change.commands import PartnerChanges
from services.partner_change.port_out import wiring as port_out
from services.partner_change.transfers import Transfers
from shared import topics
from shared.consumer import Subscription
from shared.events import MigrationFailed, MigrationNotNeeded, MigrationRequested, NumberIneligible, PhoneRegistered
from shared.service import Runtime, ServiceSpec, Wired
from shared.settings import GraphSettings, ServiceSettings
from shared.wakeup import Wakeup


class PartnerChangeSettings(ServiceSettings, GraphSettings, port_out.PortOutSettings):
    internal_token: SecretStr = Field(description="Shared with the gateway for the internal API.")
    partner_change_approval_seconds: float = Field(default=7 * 24 * 3600, gt=0, description=(
        "How long a manually approving partner has to approve; then the request expires and nothing moves."))
    partner_change_tick_seconds: float = Field(default=0.2, gt=0, le=60, description=(
        "Shortest pause between two looks for approved changes and overdue approvals; commits wake the loop."))


@contextlib.asynccontextmanager
async def wire(runtime: Runtime) -> AsyncIterator[Wired]:
    s = runtime.settings
    assert isinstance(s, PartnerChangeSettings)
    changes = PartnerChanges(runtime.pool, runtime.clock, timedelta(seconds=s.partner_change_approval_seconds))
    transfers = Transfers(runtime.pool, runtime.clock)

    async def transfer_loop() -> None:
        await transfers.run(s.partner_change_tick_seconds,
                            Wakeup(s.database_url, "partner_change_work", "numport-partner-change-transfers"))

    async with port_out.port_outs(runtime) as (port_out_handlers, port_out_loops):
        yield Wired({"requests": handlers.on_migration_requested, "registration": handlers.on_registration_event,
                     "precheck": handlers.on_migration_ended, **port_out_handlers},
                    create_api(changes, s.internal_token.get_secret_value()),
                    background=(transfer_loop, *port_out_loops))


SPEC = ServiceSpec(
    name="partner_change",
    description="Moves every number of a customer's WABA from one integration partner to another at one instant, "
                "once the customer has gone through the steps and the new partner approved.",
    subscriptions=(
        Subscription("requests", topics.MIGRATION_REQUESTS, (MigrationRequested,),
                     "A number starts migrating: busy until its migration ends."),
        Subscription("registration", topics.REGISTRATION_EVENTS, (PhoneRegistered, MigrationFailed),
                     "A number is ours (its WABA and partner), or its migration failed."),
        Subscription("precheck", topics.PRECHECK_RESULTS, (NumberIneligible, MigrationNotNeeded),
                     "A migration that stopped at the precheck: the number is not busy any more."),
        *port_out.SUBSCRIPTIONS,
    ),
    wire=wire,
    migrations=Path(__file__).with_name("migrations"),
    settings_model=PartnerChangeSettings,
)
