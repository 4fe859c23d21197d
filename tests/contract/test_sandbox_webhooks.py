"""Webhooks arrive Meta-shaped and signed; the traffic generator feeds message statuses; the CLI serves it all."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI, Request

from deploy.local.ports import free_port, wait_until
from deploy.local.processes import ThreadedServer
from sandbox.app import create_app
from sandbox.state import World, read_scenario
from sandbox.webhooks import Webhooks
from tests.contract.conftest import GRAPH, delivered_code, start_migration

SECRET = "app-secret-for-signature-test"


def receiver() -> tuple[FastAPI, list[tuple[bytes, str]]]:
    received: list[tuple[bytes, str]] = []
    app = FastAPI()

    @app.post("/webhooks")
    async def take(request: Request) -> dict:
        received.append((await request.body(), request.headers.get("x-hub-signature-256", "")))
        return {}

    return app, received


def verify(body: bytes, header: str) -> bool:
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return header.startswith("sha256=") and hmac.compare_digest(header.removeprefix("sha256="), expected)


async def wait_for(received: list, count: int) -> None:
    for _ in range(100):
        if len(received) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} webhook deliveries, got {len(received)}")


@contextlib.asynccontextmanager
async def signing_sandbox(scenario: str) -> AsyncIterator[tuple[httpx.AsyncClient, list[tuple[bytes, str]]]]:
    """The sandbox in-process, delivering its webhooks over HTTP to a receiver that keeps body and signature."""
    app, received = receiver()
    world = World()
    world.load(read_scenario(scenario))
    with ThreadedServer(app) as server:
        hooks = Webhooks(url=f"{server.url}/webhooks", app_secret=SECRET)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(create_app(world, hooks)),
            base_url=GRAPH,
            headers={"Authorization": "Bearer t"},
        ) as graph:
            yield graph, received


async def test_migration_webhooks_are_signed_with_the_app_secret():
    async with signing_sandbox("templates_mixed") as (graph, received):
        number_id = await start_migration(graph)
        await graph.post(f"/v23.0/{number_id}/request_code", json={"code_method": "SMS", "language": "en"})
        await graph.post(f"/v23.0/{number_id}/verify_code", json={"code": await delivered_code(graph, number_id)})
        await graph.post(f"/v23.0/{number_id}/register", json={"messaging_product": "whatsapp", "pin": "123123"})
        await wait_for(received, 2)
    assert all(verify(body, header) for body, header in received)
    assert not verify(received[0][0] + b" ", received[0][1])  # any change to the body breaks the signature
    fields = [c["field"] for body, _ in received for e in json.loads(body)["entry"] for c in e["changes"]]
    assert fields[0] == "account_update" and "phone_number_quality_update" in fields
    assert "message_template_status_update" in fields


async def test_traffic_generator_emits_message_statuses_with_pricing():
    async with signing_sandbox("eligible") as (admin, received):
        run = (
            await admin.post(
                "/_sandbox/traffic", json={"phone_number_ids": ["500000000000001"], "rate": 200, "count": 20}
            )
        ).json()["id"]
        for _ in range(100):
            if (await admin.get(f"/_sandbox/traffic/{run}")).json()["done"]:
                break
            await asyncio.sleep(0.05)
    statuses = [
        s
        for body, _ in received
        for e in json.loads(body)["entry"]
        for c in e["changes"]
        for s in c["value"]["statuses"]
    ]
    assert len(statuses) == 60  # 20 messages x sent, delivered, read
    assert all("errors" not in s for s in statuses)
    assert {s["status"] for s in statuses} == {"sent", "delivered", "read"}
    assert all(s["timestamp"].isdigit() for s in statuses)
    priced = [s for s in statuses if "pricing" in s]  # on sent and on one of delivered/read, as Meta does
    assert len(priced) == 40 and all(s["pricing"]["pricing_model"] == "PMP" for s in priced)
    assert {s["status"] for s in priced} == {"sent", "delivered"}
    assert all(verify(body, header) for body, header in received)


def test_numport_sandbox_runs_standalone():
    port = free_port()
    cli = Path(sys.executable).with_name("numport")
    process = subprocess.Popen(
        [str(cli), "sandbox", "--port", str(port), "--scenario", "eligible"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/_sandbox/calls").status_code == 200, 30, "sandbox")
        answer = httpx.get(
            f"http://127.0.0.1:{port}/v23.0/500000000000001",
            params={"fields": "name_status"},
            headers={"Authorization": "Bearer t"},
        )
        assert answer.json() == {"id": "500000000000001", "name_status": "APPROVED"}
    finally:
        process.terminate()
        process.wait(10)


async def test_failed_statuses_carry_the_error_and_no_pricing():
    async with signing_sandbox("eligible") as (admin, received):
        run = (await admin.post("/_sandbox/traffic", json={"phone_number_ids": ["500000000000001"], "rate": 100,
                                                            "count": 2, "statuses": ["sent", "failed"]})).json()["id"]
        for _ in range(100):
            if (await admin.get(f"/_sandbox/traffic/{run}")).json()["done"]:
                break
            await asyncio.sleep(0.05)
    statuses = [s for body, _ in received for e in json.loads(body)["entry"] for c in e["changes"]
                for s in c["value"]["statuses"]]
    failed = [s for s in statuses if s["status"] == "failed"]
    assert len(failed) == 2 and all(s["errors"][0]["code"] == 131026 and "pricing" not in s for s in failed)
