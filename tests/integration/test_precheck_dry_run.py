"""Dry-run through the partner API: every check against a sandbox scenario, nothing written anywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from deploy.local.ports import free_port
from deploy.local.processes import ThreadedServer
from sandbox.app import create_app
from sandbox.faults import Faults
from sandbox.state import World, read_scenario
from services.gateway.api import GatewayDeps, create_api
from services.gateway.main import SPEC
from services.gateway.partners import create_partner
from services.precheck.dry_run import DryRun
from shared import db as shared_db
from shared.clock import SystemClock
from shared.graph import GraphClient
from tests.integration.gateway_support import REQUEST


@dataclass
class DryRunRig:
    client: httpx.AsyncClient
    world: World
    faults: Faults


@pytest.fixture
async def api(clean) -> AsyncIterator[DryRunRig]:
    world, faults = World(), Faults()
    graph = GraphClient("https://graph.facebook.com", "v23.0", "token", max_attempts=2, backoff=0.01,
                        transport=httpx.ASGITransport(create_app(world, faults=faults)))
    pool = await shared_db.open_pool(clean.database_url, SPEC.name, SPEC.migrations, 4)
    key = await create_partner(pool, "partner-a", "Partner A")
    precheck = DryRun(graph, website_timeout=1.0, allow_loopback_websites=True)  # live_site is on loopback
    app = create_api(GatewayDeps(pool, precheck, SystemClock()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway",
                                 headers={"Authorization": f"Bearer {key}"}) as client:
        yield DryRunRig(client, world, faults)
    await pool.close()
    await graph.aclose()


@pytest.fixture(scope="module")
def live_site():
    site = FastAPI()
    site.get("/")(lambda: {"ok": True})
    with ThreadedServer(site) as server:
        yield server.url


CASES = [
    ("eligible", {}, "eligible", []),
    ("two_step_on", {}, "ineligible", ["TWO_STEP_ENABLED_SHARED_WABA"]),
    ("two_step_on_owned", {}, "ineligible", ["TWO_STEP_ENABLED_OWNED_WABA"]),
    ("name_pending", {}, "ineligible", ["DISPLAY_NAME_CHANGE_PENDING"]),
    ("name_not_approved", {}, "ineligible", ["DISPLAY_NAME_NOT_APPROVED"]),
    ("test_number", {}, "ineligible", ["TEST_NUMBER"]),
    ("sandbox_account", {}, "ineligible", ["SANDBOX_ACCOUNT"]),
    ("business_mismatch", {}, "ineligible", ["BUSINESS_MISMATCH"]),
    ("on_premises_source", {}, "ineligible", ["SOURCE_PLATFORM_MISMATCH"]),
    ("cloud_api_source", {"source": "bsp_on_premises"}, "ineligible", ["SOURCE_PLATFORM_MISMATCH"]),
    ("no_webhook_app", {}, "ineligible", ["DESTINATION_NO_WEBHOOK_APP"]),
    ("eligible", {"admin_access_confirmed": False}, "ineligible", ["ADMIN_ACCESS_NOT_CONFIRMED"]),
    ("business_unverified", {}, "ineligible",
     ["BUSINESS_NOT_VERIFIED", "SOURCE_WABA_NOT_APPROVED", "SOURCE_WABA_NO_PAYMENT_METHOD"]),
    ("five_blockers", {}, "ineligible", ["BUSINESS_NOT_VERIFIED", "TWO_STEP_ENABLED_SHARED_WABA",
                                         "DISPLAY_NAME_CHANGE_PENDING", "TEST_NUMBER", "DESTINATION_NO_WEBHOOK_APP"]),
    ("brazil_without_ninth_digit", {"phone_number": "+55 11 98765-4321"}, "ineligible", ["BR_NINTH_DIGIT_MISMATCH"]),
    ("brazil_with_ninth_digit", {"phone_number": "+55 11 8765-4321"}, "ineligible", ["BR_NINTH_DIGIT_MISMATCH"]),
    ("brazil_without_ninth_digit", {"phone_number": "+55 11 8765-4321"}, "eligible", []),
    ("already_moved", {}, "already_moved", []),
    ("add_directly", {}, "add_directly", []),
    ("eligible", {"business_id": "100000000000777"}, "ineligible", ["META_LOOKUP_REFUSED"]),
]


@pytest.mark.parametrize("scenario, changes, outcome, failed", CASES,
                         ids=[f"{c[0]}-{'-'.join(c[3]) or c[2]}" for c in CASES])
async def test_dry_run_reports_exactly_the_blockers_and_writes_nothing(api, scenario, changes, outcome, failed, db):
    client, world = api.client, api.world
    world.load(read_scenario(scenario))
    answer = await client.post("/v1/migrations:dry-run", json={**REQUEST, **changes})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["outcome"] == outcome and sorted(report["failed"]) == sorted(failed)
    failures = [c for c in report["report"] if c["status"] == "fail"]
    assert sorted(c["reason_code"] for c in failures) == sorted(failed)
    assert all(c["message"] and c["remedy"] and c["actor"] for c in failures)
    assert world.writes == [] and len(world.calls) >= 3
    assert await db.fetchval("SELECT count(*) FROM gateway.outbox") == 0
    assert await db.fetchval("SELECT count(*) FROM gateway.migrations") == 0


async def test_the_business_website_must_answer(api, live_site):
    client, world = api.client, api.world
    world.load(read_scenario("eligible"))
    up = (await client.post("/v1/migrations:dry-run", json={**REQUEST, "website": live_site})).json()
    down = (await client.post("/v1/migrations:dry-run",
                              json={**REQUEST, "website": f"http://127.0.0.1:{free_port()}/"})).json()
    assert up["outcome"] == "eligible"
    assert down["failed"] == ["WEBSITE_DOWN"]
    assert next(c for c in down["report"] if c["check"] == "website_live")["actor"] == "customer"


@pytest.mark.parametrize("website", ["http://169.254.169.254/latest/meta-data/?token=abc", "http://10.0.0.1/admin",
                                     "http://[fd00:ec2::254]/", "http://[::ffff:192.168.0.1]/"])
async def test_a_refused_website_reads_only_not_reachable(api, website):
    api.world.load(read_scenario("eligible"))
    answer = await api.client.post("/v1/migrations:dry-run", json={**REQUEST, "website": website})
    check = next(c for c in answer.json()["report"] if c["check"] == "website_live")
    assert check["reason_code"] == "WEBSITE_DOWN" and check["message"] == "The business website is not reachable."
    hints = ("metadata", "private", "loopback", "link-local", "resolves", "abc", "10.0.0.1", "192.168")
    assert not any(hint in answer.text for hint in hints)


async def test_meta_outage_during_dry_run_is_a_clear_502(api):
    client, world = api.client, api.world
    world.load(read_scenario("eligible"))
    api.faults.configure(burst_status=503, burst_remaining=100)
    answer = await client.post("/v1/migrations:dry-run", json=REQUEST)
    assert answer.status_code == 502 and answer.json()["error"]["code"] == "upstream_unavailable"
