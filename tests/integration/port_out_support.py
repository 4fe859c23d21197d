"""Port-out on the session's Kafka, PostgreSQL and sandbox: a world with our numbers, the service in this process on a
clock the test moves, and waiting for a port-out's row."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from deploy.local import kafkaio
from services.gateway.webhooks import changes_of
from services.partner_change.main import SPEC, PartnerChangeSettings
from shared.events import MigrationRequested, PhoneRegistered, PortOutRequested
from shared.service import running
from tests.integration.billing_support import until

US, CUSTOMER, OTHER_BSP = "100000000000009", "100000000000001", "100000000000005"
SHARED_WABA, OWNED_WABA, NEW_WABA = "210000000000001", "210000000000002", "210000000000003"
SHARED_NUMBER, OWNED_NUMBER = ("510000000000001", "+5511987650001"), ("510000000000002", "+5511987650002")


class ShiftedClock:
    """Real time plus a shift the test moves: days pass at once, and the service's loops keep running."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift

    def advance(self, delta: timedelta) -> None:
        self.shift += delta


def scenario() -> dict[str, Any]:
    """Two of our numbers with two-step verification on: one on a WABA we hold for the customer (classic signup),
    one on the customer's own WABA (Embedded Signup); and the new BSP's WABA they may move to."""
    def number(ids: tuple[str, str], waba: str) -> dict[str, Any]:
        return {"id": ids[0], "waba_id": waba, "display_phone_number": ids[1], "pin": "246810"}

    return {"businesses": [{"id": US}, {"id": CUSTOMER}, {"id": OTHER_BSP}],
            "wabas": [{"id": SHARED_WABA, "business_id": US, "on_behalf_of_business_id": CUSTOMER},
                      {"id": OWNED_WABA, "business_id": CUSTOMER},
                      {"id": NEW_WABA, "business_id": OTHER_BSP, "on_behalf_of_business_id": CUSTOMER}],
            "phone_numbers": [number(SHARED_NUMBER, SHARED_WABA), number(OWNED_NUMBER, OWNED_WABA)]}


@contextlib.asynccontextmanager
async def port_out_service(env: dict[str, str], clock: ShiftedClock, **settings: Any) -> AsyncIterator[None]:
    values = {k.removeprefix("NUMPORT_").lower(): v for k, v in env.items() if k.startswith("NUMPORT_")}
    config = PartnerChangeSettings(**{**values, "port_out_check_seconds": 0.2, "port_out_tick_seconds": 0.05,
                                       "consumer_group_prefix": f"t{uuid.uuid4().hex[:8]}", **settings})
    async with running(SPEC, config, clock):
        yield


def request(ids: tuple[str, str], waba: str, partner: str = "partner-a", known_id: bool = True) -> PortOutRequested:
    port_out_id = uuid.uuid4()
    return PortOutRequested.create(migration_id=port_out_id, correlation_id=port_out_id, phone_number=ids[1],
                                   producer="gateway", occurred_at=datetime.now(UTC), partner_id=partner,
                                   requested_by=f"partner:{partner}", waba_id=waba,
                                   phone_number_id=ids[0] if known_id else None)


async def row_when(db: asyncpg.Connection, port_out_id: uuid.UUID, check: Callable[[dict], bool] = bool,
                   **wanted: Any) -> dict[str, Any]:
    """The port-out's row once every named column has the wanted value and `check` holds."""
    found: dict[str, Any] = {}

    async def matches() -> bool:
        nonlocal found
        row = await db.fetchrow("SELECT * FROM partner_change.port_outs WHERE id = $1", port_out_id) \
            if await db.fetchval("SELECT to_regclass('partner_change.port_outs') IS NOT NULL") else None
        found = dict(row) if row else {}
        return bool(found) and all(found.get(k) == v for k, v in wanted.items()) and check(found)

    await until(matches, 20, f"port-out {port_out_id} with {wanted}")
    return found


async def webhook(bootstrap: str, waba: str, field: str, value: dict[str, Any], at: int) -> None:
    """One webhook change on numport.meta.webhooks, exactly as the gateway records it."""
    payload = {"object": "whatsapp_business_account",
               "entry": [{"id": waba, "time": at, "changes": [{"field": field, "value": value}]}]}
    [change] = changes_of(payload, datetime.now(UTC))
    await kafkaio.produce(bootstrap, "numport.meta.webhooks", change.model_dump_json().encode(), change.key)


async def port_out_events(bootstrap: str, port_out_id: uuid.UUID, count: int) -> list[dict[str, Any]]:
    records = await kafkaio.read(bootstrap, "numport.port-out.events", timeout=20,
                                 until=lambda rs: sum(str(port_out_id) in r.value.decode() for r in rs) >= count)
    return [e for r in records if (e := json.loads(r.value))["migration_id"] == str(port_out_id)]


async def hold(bootstrap: str, ids: tuple[str, str], waba: str, partner: str = "partner-a") -> None:
    """The number migrated to us for the customer by `partner`: partner change records it as held."""
    migration = uuid.uuid4()
    common = dict(migration_id=migration, correlation_id=migration, phone_number=ids[1], occurred_at=datetime.now(UTC))
    await kafkaio.produce_event(bootstrap, MigrationRequested.create(
        **common, producer="gateway", partner_id=partner, business_id=CUSTOMER, destination_waba_id=waba,
        flow="programmatic", source="bsp_cloud_api", phone_number_as_typed=ids[1], admin_access_confirmed=True))
    await kafkaio.produce_event(bootstrap, PhoneRegistered.create(
        **common, producer="registration", phone_number_id=ids[0], destination_waba_id=waba,
        completed_at=common["occurred_at"], source_partner="business:old", destination_partner=partner))
