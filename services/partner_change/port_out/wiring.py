"""Port-out's part of partner_change's composition root: settings, subscriptions, handlers and the watch loop."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.partner_change.port_out.domain import Limits
from services.partner_change.port_out.handlers import PortOuts
from services.partner_change.port_out.meta_api import PortOutGraph
from shared import topics
from shared.consumer import Subscription
from shared.events import MetaWebhookChange, PortOutRequested, parse_webhook_change
from shared.graph import GraphClient
from shared.service import Runtime
from shared.settings import GraphSettings
from shared.wakeup import Wakeup


class PortOutSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NUMPORT_", extra="ignore")
    bsp_business_id: str = Field(description="Our business portfolio: a WABA it holds for a customer is shared.")
    port_out_service_level_hours: float = Field(default=72, gt=0, description="The ticket's deadline (48-72 h).")
    port_out_reminder_hours: float = Field(default=24, gt=0, description="Operations reminded this often before it.")
    port_out_check_seconds: float = Field(default=300, gt=0, description="How often an open port-out reads Meta.")
    port_out_tick_seconds: float = Field(default=1, gt=0, le=60, description=(
        "Shortest pause between two looks for due port-out checks; commits wake the watch."))
    port_out_cancels_subscription: bool = Field(default=False, description=(
        "true: we cancel the customer's subscription when the number leaves; false: we tell the customer to."))


def limits(s: PortOutSettings) -> Limits:
    return Limits(timedelta(hours=s.port_out_service_level_hours), timedelta(hours=s.port_out_reminder_hours),
                  timedelta(seconds=s.port_out_check_seconds), s.port_out_cancels_subscription)


SUBSCRIPTIONS = (
    Subscription("port_out_requested", topics.PORT_OUT_REQUESTS, (PortOutRequested,),
                 "Starts a port-out: reads who owns the WABA, then the customer's steps or an operations ticket."),
    Subscription("port_out_webhooks", topics.META_WEBHOOKS, (MetaWebhookChange,),  # type: ignore[arg-type]
                 "Meta's security webhook (two-step verification off) and ONBOARDING of a leaving number elsewhere.",
                 decode=parse_webhook_change),
)


@contextlib.asynccontextmanager
async def port_outs(runtime: Runtime) -> AsyncIterator[tuple[dict, tuple]]:
    """(handlers by subscription name, background loops) for a composition root to add to its own."""
    s = runtime.settings
    assert isinstance(s, GraphSettings) and isinstance(s, PortOutSettings)
    graph = GraphClient.from_settings(s)
    handlers = PortOuts(runtime.pool, PortOutGraph(graph), runtime.clock, limits(s), s.bsp_business_id)

    async def watch_port_outs() -> None:
        await handlers.run(s.port_out_tick_seconds,
                           Wakeup(runtime.settings.database_url, "port_out_work", "numport-port-out-watch"))

    try:
        yield {"port_out_requested": handlers.on_requested, "port_out_webhooks": handlers.on_webhook}, \
            (watch_port_outs,)
    finally:
        await graph.aclose()

