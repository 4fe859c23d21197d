"""Composition root of billing: status webhooks in batches, holder changes one by one, the attribution stream out."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path

from services.billing.handlers import Statuses, on_holder_events
from services.billing.holders import DEPARTURE_EVENTS, HOLDER_EVENTS, PARTNER_CHANGE_EVENTS
from services.billing.records import decode_statuses
from shared import topics
from shared.consumer import Subscription
from shared.events import MetaWebhookChange
from shared.service import Runtime, ServiceSpec, Wired

# A batch of webhook records makes many short-lived objects; collecting the young generation every 700 allocations
# would scan them again and again (measured: a third of the consume-and-parse time).
GC_THRESHOLDS = (50_000, 20, 20)


@contextlib.asynccontextmanager
async def wire(runtime: Runtime) -> AsyncIterator[Wired]:
    gc.freeze()  # what start-up built lives as long as the process: never scan it again
    previous = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield Wired({"statuses": Statuses(), "holder_changes": on_holder_events, "departures": on_holder_events,
                     "partner_changes": on_holder_events})
    finally:
        gc.set_threshold(*previous)


SUBSCRIPTIONS = (
    Subscription("statuses", topics.META_WEBHOOKS, (MetaWebhookChange,),  # type: ignore[arg-type] - a wire record
                 "Meta's message statuses (sent, delivered, read, failed, with pricing), in batches: each message "
                 "billed once, to the holder of its number when it was sent.",
                 batch=True, decode=decode_statuses, inbox=False),
    Subscription("holder_changes", topics.REGISTRATION_EVENTS, HOLDER_EVENTS,
                 "A number changed hands (PhoneRegistered: the migration-complete instant): put it on the number's "
                 "timeline and re-attribute the messages it moves; in batches, so a burst of migrations takes the "
                 "timeline lock once.", batch=True),
    Subscription("departures", topics.PORT_OUT_EVENTS, DEPARTURE_EVENTS,
                 "A number left us (PhoneDeparted): from its departure instant nobody of ours is billed for it.",
                 batch=True),
    Subscription("partner_changes", topics.PARTNER_CHANGE_EVENTS, PARTNER_CHANGE_EVENTS,
                 "A WABA changed integration partner (PartnerChangeCompleted, one record per number): messages sent "
                 "from the transfer instant are billed to the new partner.", batch=True),
)

SPEC = ServiceSpec(
    name="billing",
    description="Bills every message to the partner that held its number when it was sent; a ledger, daily totals "
                "and the attribution stream.",
    subscriptions=SUBSCRIPTIONS,
    wire=wire,
    migrations=Path(__file__).with_name("migrations"),
)
