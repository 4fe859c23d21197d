"""Partner change and the gateway as processes, four partners with their terms, a customer whose WABA holds three
numbers of partner-a (from migration events on Kafka), and a clock to move."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from deploy.local import kafkaio
from deploy.local.processes import ServiceProcess
from services.gateway.callers import create_customer_at
from services.gateway.partners import create_partners_at
from services.partner_change import repository
from services.partner_change.domain import PartnerTerms
from services.partner_change.repository import set_terms
from shared import db
from shared.events import MigrationRequested, PhoneRegistered

BUSINESS, OTHER_BUSINESS = "100000000000001", "100000000000005"
TERMS = [PartnerTerms("partner-a", "auto", "default", False), PartnerTerms("partner-b", "auto", "default", False),
         PartnerTerms("partner-m", "manual", "default", True), PartnerTerms("partner-x", "auto", "legacy", False)]
APPROVAL_SECONDS = 3600
MIGRATIONS = Path(repository.__file__).with_name("migrations")


@dataclass
class Stack:
    service: ServiceProcess
    gateway: ServiceProcess
    keys: dict[str, str]  # partner ids, "customer" (owns WABA) and "stranger" (another business)
    clock_file: Path
    bootstrap: str

    def client(self, who: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.gateway.port}", timeout=30,
                                 headers={"Authorization": f"Bearer {self.keys[who]}"})

    def advance_clock(self, seconds: float) -> None:
        self.clock_file.write_text(str(float(self.clock_file.read_text() or 0) + seconds))


def held(number: str, waba: str, partner: str, migrating_only: bool = False) -> list:
    """A migration of `number` to `partner` in `waba`, as precheck's input and registration's completion say it."""
    migration, now = uuid.uuid4(), datetime.now(UTC)
    base = dict(migration_id=migration, phone_number=number, correlation_id=migration, occurred_at=now)
    asked = MigrationRequested.create(**base, producer="gateway", partner_id=partner, business_id=BUSINESS,
                                      destination_waba_id=waba, flow="programmatic", source="bsp_cloud_api",
                                      phone_number_as_typed=number, admin_access_confirmed=True)
    done = PhoneRegistered.create(**base, producer="registration", phone_number_id=f"5{number[-6:]}",
                                  destination_waba_id=waba, completed_at=now, source_partner="business:1",
                                  destination_partner=partner)
    return [asked] if migrating_only else [asked, done]


async def produce(bootstrap: str, events: list) -> None:
    for event in events:
        await kafkaio.produce_event(bootstrap, event)


async def until(check, timeout: float = 20.0, what: str = "the condition"):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while not (found := await check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
    return found


async def start(env: dict[str, str], clock_file: Path, **service_env: str) -> Stack:
    url = env["NUMPORT_DATABASE_URL"]
    keys = dict(zip([t.partner_id for t in TERMS], await create_partners_at(url, *[t.partner_id for t in TERMS]),
                    strict=True))
    keys["customer"] = await create_customer_at(url, "acme", BUSINESS)
    keys["stranger"] = await create_customer_at(url, "globex", OTHER_BUSINESS)
    clock_file.write_text("0")
    env = {**env, "NUMPORT_CLOCK_OFFSET_FILE": str(clock_file), "NUMPORT_PARTNER_CHANGE_TICK_SECONDS": "0.1",
           "NUMPORT_PARTNER_CHANGE_APPROVAL_SECONDS": str(APPROVAL_SECONDS)}
    service = ServiceProcess("partner_change", {**env, **service_env}).start()
    gateway = ServiceProcess("gateway", {**env, "NUMPORT_PARTNER_CHANGE_URL": f"http://127.0.0.1:{service.port}"})
    gateway.start()
    service.wait_ready()
    gateway.wait_ready()
    pool = await db.open_pool(url, "partner_change", MIGRATIONS, 2)
    try:
        for terms in TERMS:
            await set_terms(pool, terms)
    finally:
        await pool.close()
    return Stack(service, gateway, keys, clock_file, env["NUMPORT_KAFKA_BOOTSTRAP"])


async def waba_of_three(stack: Stack, index: int) -> tuple[str, tuple[str, ...]]:
    """A fresh WABA of the customer with three numbers of partner-a, once partner change knows them."""
    waba, numbers = f"2000000000000{index:02d}", tuple(f"+49151{index:02d}00000{n}" for n in (1, 2, 3))
    await produce(stack.bootstrap, [e for n in numbers for e in held(n, waba, "partner-a")])
    async with stack.client("customer") as api:
        for number in numbers:
            await until(lambda n=number: _visible(api, n), what=f"{number} on its WABA")
    return waba, numbers


async def _visible(api: httpx.AsyncClient, number: str) -> bool:
    return (await api.get(f"/v1/numbers/{number}")).status_code == 200


async def request(api: httpx.AsyncClient, waba: str, destination: str, **extra: object) -> httpx.Response:
    return await api.post("/v1/partner-changes", json={"waba_id": waba, "destination_partner_id": destination,
                                                       "legal_name": "Acme GmbH", "country": "DE", **extra})


async def submitted(stack: Stack, waba: str, destination: str) -> dict:
    """A change asked for, its numbers reviewed and its terms accepted (and, where due, the payment confirmed)."""
    async with stack.client("customer") as api:
        change = (await request(api, waba, destination)).json()
        base = f"/v1/partner-changes/{change['id']}"
        await api.post(f"{base}:review", json={"phone_numbers": change["phone_numbers"]})
        change = (await api.post(f"{base}:accept-terms")).json()
        if change["state"] == "terms_accepted":
            change = (await api.post(f"{base}:confirm-payment-method")).json()
    return change
