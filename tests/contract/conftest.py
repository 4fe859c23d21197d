"""The sandbox in-process over httpx.ASGITransport, addressed like Meta (the spec's server URL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.app import create_app
from sandbox.state import World, read_scenario
from sandbox.webhooks import Webhooks
from tests.contract.answers import Recorder

GRAPH = "https://graph.facebook.com"


@pytest.fixture
def sandbox_world() -> World:
    world = World()
    world.load(read_scenario("eligible"))
    return world


@pytest.fixture
def hooks() -> Webhooks:
    return Webhooks()


@pytest.fixture
def recorder(sandbox_world: World, hooks: Webhooks) -> Recorder:
    return Recorder(httpx.ASGITransport(create_app(sandbox_world, hooks)))


@pytest.fixture
async def graph(recorder: Recorder, sandbox_world: World) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox in-process; when the test is done, every Graph answer it received is checked against the
    operation it was meant for."""
    async with httpx.AsyncClient(transport=recorder, base_url=GRAPH,
                                 headers={"Authorization": "Bearer sandbox-token"}) as client:
        yield client
    recorder.check_all(sandbox_world)


async def accept_obo(graph: httpx.AsyncClient, waba: str = "200000000000002",
                     business: str = "100000000000001") -> None:
    obo = (await graph.post(f"/v23.0/{waba}/in_progress_onbehalf_request",
                            json={"receiving_business_id": business})).json()["id"]
    assert (await graph.post(f"/_sandbox/obo/{obo}/accept")).status_code == 200


async def start_migration(graph: httpx.AsyncClient) -> str:
    """OBO accepted and the number added with the migrate flag; returns the number's id."""
    await accept_obo(graph)
    added = await graph.post("/v23.0/200000000000002/phone_numbers",
                             json={"cc": "55", "phone_number": "11987654321", "migrate_phone_number": True})
    assert added.status_code == 200, added.text
    return added.json()["id"]


async def delivered_code(graph: httpx.AsyncClient, number_id: str) -> str:
    return (await graph.get(f"/_sandbox/numbers/{number_id}/code")).json()["code"]
