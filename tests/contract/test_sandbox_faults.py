"""Meta's failures around a write, over real HTTP: refused unseen, applied late or unanswered, erring after applying."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from deploy.local.processes import ThreadedServer
from sandbox.app import create_app
from sandbox.faults import Faults
from sandbox.state import World, read_scenario
from tests.contract.conftest import accept_obo, delivered_code, start_migration

AUTH = {"Authorization": "Bearer sandbox-token"}
NUMBER, SOURCE, DESTINATION = "500000000000001", "200000000000001", "200000000000002"
ADD = {"cc": "55", "phone_number": "11987654321", "migrate_phone_number": True}


@dataclass
class Rig:
    client: httpx.AsyncClient
    world: World
    faults: Faults
    url: str


@pytest.fixture
def served() -> Iterator[tuple[str, World, Faults]]:
    world, faults = World(), Faults()
    world.load(read_scenario("eligible"))
    with ThreadedServer(create_app(world, faults=faults)) as server:
        yield server.url, world, faults


@pytest.fixture
async def rig(served: tuple[str, World, Faults]) -> AsyncIterator[Rig]:
    url, world, faults = served
    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=10) as client:
        yield Rig(client, world, faults, url)


async def inject(client: httpx.AsyncClient, *entries: dict[str, Any], **settings: Any) -> dict[str, Any]:
    answer = await client.post("/_sandbox/faults", json={"writes": list(entries), **settings})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def logged(client: httpx.AsyncClient, operation: str) -> list[dict[str, Any]]:
    answer = await client.get("/_sandbox/requests", params={"operation": operation})
    assert answer.status_code == 200, answer.text
    return answer.json()["requests"]


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 5.0) -> Any:
    deadline = time.monotonic() + within
    while not (found := await check()):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
    return found


def seconds_between(record: dict[str, Any]) -> float:
    applied, received = (datetime.fromisoformat(record[k]) for k in ("applied_at", "received_at"))
    return (applied - received).total_seconds()


async def subscribed(client: httpx.AsyncClient, waba: str) -> bool:
    return bool((await client.get(f"/v23.0/{waba}/subscribed_apps")).json()["data"])


async def test_slow_apply_lands_after_the_client_gave_up(rig):
    await accept_obo(rig.client)
    await inject(rig.client, {"operation": "add_number", "mode": "slow_apply", "seconds": 1})
    with pytest.raises(httpx.ReadTimeout):
        await rig.client.post(f"/v23.0/{DESTINATION}/phone_numbers", json=ADD, timeout=0.2)
    [waiting] = await logged(rig.client, "add_number")
    assert waiting["applied_at"] is None and waiting["answered"] is None and waiting["target"] == NUMBER

    async def applied() -> Any:
        return next((r for r in await logged(rig.client, "add_number") if r["answered"]), None)

    record = await applied() or await eventually(applied)
    assert 0.9 <= seconds_between(record) < 1.6
    assert record["fault"] == "slow_apply" and record["outcome"] == 200 and record["answered"] == "client gone"
    listing = (await rig.client.get(f"/v23.0/{DESTINATION}/phone_numbers")).json()["data"]
    assert [(n["id"], n["status"]) for n in listing] == [(NUMBER, "PENDING")]
    assert rig.world.applied_writes("add_number") == Counter({NUMBER: 1})


async def test_slow_apply_survives_a_killed_client(rig):
    call = (f"import httpx; httpx.post('{rig.url}/v23.0/{SOURCE}/subscribed_apps', "
            f"headers={AUTH!r}, timeout=30)")
    client = subprocess.Popen([sys.executable, "-c", call])
    try:
        await inject(rig.client, {"operation": "subscribe", "mode": "slow_apply", "seconds": 1})
        await eventually(lambda: logged(rig.client, "subscribe"), within=15)
    finally:
        client.kill()
    assert client.wait(5) == -9 and not await subscribed(rig.client, SOURCE)
    await eventually(lambda: subscribed(rig.client, SOURCE))
    [record] = await eventually(lambda: logged_answered(rig.client, "subscribe"))
    assert record["answered"] == "client gone" and 0.9 <= seconds_between(record) < 1.6


async def logged_answered(client: httpx.AsyncClient, operation: str) -> list[dict[str, Any]]:
    return [r for r in await logged(client, operation) if r["answered"] is not None]


async def test_a_register_whose_answer_is_lost_still_counts_as_applied(rig):
    number = await start_migration(rig.client)
    await rig.client.post(f"/v23.0/{number}/request_code", json={"code_method": "SMS", "language": "en"})
    code = await delivered_code(rig.client, number)
    assert (await rig.client.post(f"/v23.0/{number}/verify_code", json={"code": code})).status_code == 200
    await inject(rig.client, {"operation": "register", "mode": "lost_answer"})
    with pytest.raises(httpx.RemoteProtocolError):
        await rig.client.post(f"/v23.0/{number}/register", json={"messaging_product": "whatsapp", "pin": "424242"})
    node = (await rig.client.get(f"/v23.0/{number}", params={"fields": "last_onboarded_time"})).json()
    assert node.get("last_onboarded_time")
    [record] = await logged(rig.client, "register")
    assert record["answered"] == "dropped" and record["outcome"] == 200 and seconds_between(record) < 0.5
    assert rig.world.applied_writes("register") == Counter({number: 1})
    assert rig.world.succeeded("POST", "/register") == 1  # the calls list keeps what Meta decided


async def test_a_late_answer_comes_after_an_immediate_apply(rig):
    await inject(rig.client, {"operation": "subscribe", "mode": "lost_answer", "seconds": 0.3})
    started = time.monotonic()
    answer = await rig.client.post(f"/v23.0/{SOURCE}/subscribed_apps")
    assert answer.status_code == 200 and time.monotonic() - started >= 0.3
    [record] = await logged(rig.client, "subscribe")
    assert record["answered"] == 200 and seconds_between(record) < 0.2


async def test_a_reset_write_changes_nothing_and_is_not_logged_as_a_crash(rig):
    number = await start_migration(rig.client)
    await inject(rig.client, {"operation": "request_code", "mode": "reset", "times": 1})
    crashes: list[logging.LogRecord] = []
    recorder = logging.Handler()
    recorder.emit = crashes.append  # type: ignore[method-assign]
    logging.getLogger("uvicorn.error").addHandler(recorder)
    try:
        with pytest.raises(httpx.RemoteProtocolError):
            await rig.client.post(f"/v23.0/{number}/request_code", json={"code_method": "SMS", "language": "en"})
    finally:
        logging.getLogger("uvicorn.error").removeHandler(recorder)
    assert crashes == []
    assert (await rig.client.get(f"/_sandbox/numbers/{number}/code")).status_code == 404
    again = await rig.client.post(f"/v23.0/{number}/request_code", json={"code_method": "SMS", "language": "en"})
    assert again.status_code == 200, "times: 1 hits only the first call"
    dropped, passed = await logged(rig.client, "request_code")
    assert (dropped["fault"], dropped["outcome"], dropped["applied_at"], dropped["answered"]) == (
        "reset", None, None, "dropped")
    assert (passed["fault"], passed["answered"]) == (None, 200) and passed["applied_at"]
    assert rig.world.applied_writes("request_code") == Counter({number: 1})


async def test_an_error_after_apply_answers_5xx_with_the_change_made(rig):
    await inject(rig.client, {"operation": "credit_line", "mode": "error_after_apply"},
                 {"operation": "obo_request", "mode": "error_after_apply", "status": 503, "times": 1})
    shared = await rig.client.post("/v23.0/700000000000009/whatsapp_credit_sharing_and_attach",
                                   json={"waba_id": DESTINATION, "waba_currency": "USD"})
    assert shared.status_code == 500 and shared.json()["error"]["is_transient"] is True
    waba = (await rig.client.get(f"/v23.0/{DESTINATION}", params={"fields": "primary_funding_id"})).json()
    assert waba["primary_funding_id"].startswith("funding-")
    obo = {"receiving_business_id": "100000000000001"}
    assert (await rig.client.post(f"/v23.0/{DESTINATION}/in_progress_onbehalf_request", json=obo)).status_code == 503
    assert (await rig.client.post(f"/v23.0/{DESTINATION}/in_progress_onbehalf_request", json=obo)).status_code == 200
    assert rig.world.applied_writes("credit_line") == Counter({DESTINATION: 1})
    assert rig.world.applied_writes("obo_request") == Counter({DESTINATION: 2})


async def test_a_rate_hits_a_repeatable_share_of_calls(rig):
    async def statuses() -> list[int]:
        await inject(rig.client, {"operation": "subscribe", "mode": "error_after_apply", "rate": 0.5}, seed=3)
        return [(await rig.client.post(f"/v23.0/{SOURCE}/subscribed_apps")).status_code for _ in range(20)]

    first, second = await statuses(), await statuses()
    assert first == second and 3 <= first.count(500) <= 17 and set(first) == {200, 500}
    assert rig.world.applied_writes("subscribe") == Counter({SOURCE: 40})


async def test_an_apply_outlives_a_cancelled_in_process_client(graph, sandbox_world):
    await inject(graph, {"operation": "subscribe", "mode": "slow_apply", "seconds": 0.5})
    with pytest.raises(TimeoutError):  # the client's task is cancelled; the app ran inside it
        await asyncio.wait_for(graph.post(f"/v23.0/{SOURCE}/subscribed_apps"), 0.1)
    await eventually(lambda: subscribed(graph, SOURCE))
    assert sandbox_world.applied_writes("subscribe") == Counter({SOURCE: 1})


async def test_in_process_clients_see_a_drop_as_a_transport_error(graph):
    await inject(graph, {"operation": "subscribe", "mode": "reset"})
    with pytest.raises(httpx.RemoteProtocolError):
        await graph.post(f"/v23.0/{SOURCE}/subscribed_apps")
    assert not await subscribed(graph, SOURCE)
    assert [r["fault"] for r in await logged(graph, "subscribe")] == ["reset"]
    assert await logged(graph, "register") == []
    assert (await graph.get("/_sandbox/requests", params={"operation": "nope"})).status_code == 422


async def test_a_sandbox_reset_clears_entries_and_abandons_pending_applies(graph):
    await inject(graph, {"operation": "subscribe", "mode": "slow_apply", "seconds": 5})
    pending = asyncio.ensure_future(graph.post(f"/v23.0/{SOURCE}/subscribed_apps"))
    await eventually(lambda: logged(graph, "subscribe"))
    assert (await graph.post("/_sandbox/reset")).status_code == 200
    with pytest.raises(httpx.RemoteProtocolError):
        await asyncio.wait_for(pending, 1)
    assert (await graph.post("/_sandbox/faults", json={})).json()["writes"] == []


@pytest.mark.parametrize("entry, named", [
    ({"operation": "regster", "mode": "reset"}, "writes[0].operation"),
    ({"operation": "register", "mode": "explode"}, "writes[0].mode"),
    ({"operation": "register", "mode": "slow_apply"}, "writes[0].seconds"),
    ({"operation": "register", "mode": "error_after_apply", "status": 404}, "writes[0].status"),
    ({"operation": "register", "mode": "reset", "rate": 1.5}, "writes[0].rate"),
    ({"operation": "register", "mode": "reset", "times": 0}, "writes[0].times"),
    ({"operation": "register", "mode": "reset", "delay": 1}, "writes[0].delay"),
])
async def test_a_wrong_entry_is_refused_naming_its_field_and_changes_nothing(graph, entry, named):
    await inject(graph, {"operation": "verify_code", "mode": "reset"})
    refused = await graph.post("/_sandbox/faults", json={"writes": [entry], "latency_ms": 5})
    assert refused.status_code == 422 and refused.json()["detail"].startswith(f"{named}:")
    kept = (await graph.post("/_sandbox/faults", json={})).json()
    assert kept["latency_ms"] == 0 and [w["operation"] for w in kept["writes"]] == ["verify_code"]


async def test_the_older_settings_still_apply_next_to_write_entries(graph):
    settings = await inject(graph, {"operation": "subscribe", "mode": "error_after_apply"},
                            burst_status=429, burst_remaining=1)
    assert settings["burst_remaining"] == 1 and settings["writes"][0]["mode"] == "error_after_apply"
    for _ in range(2):
        assert (await graph.post(f"/v23.0/{SOURCE}/subscribed_apps")).status_code == 500
    log = await logged(graph, "subscribe")  # the burst answered in Meta's place: nothing applied the first time
    assert [(r["outcome"], r["answered"], bool(r["applied_at"])) for r in log] == [(429, 500, False), (200, 500, True)]
