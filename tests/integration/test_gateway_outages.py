"""The partner API in trouble: PostgreSQL stopped, Meta throttling or failing during a step a person waits on.
Every answer stays JSON in the error envelope with a delay to wait, and the migration itself is unaffected."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from deploy.local.processes import NUMPORT
from shared.graph import POOL_WAIT_SECONDS
from tests.integration.gateway_support import REQUEST
from tests.integration.saga_support import start, until_code, wait_for

# Seconds Meta may act on a write: 2 x 2 s timeout, the last attempt's wait for a connection and its 2 s, and the
# 30 s margin set below.
OUTCOME_WINDOW = 2 * 2 + min(2, POOL_WAIT_SECONDS) + 2 + 30


@pytest.fixture
def service_env(service_env: dict[str, str]) -> dict[str, str]:
    """A window long enough that a slow machine cannot outlive it between two calls; tests move the clock."""
    return {**service_env, "NUMPORT_GRAPH_SETTLE_MARGIN_SECONDS": "30"}


def every_operation(migration_id: str) -> dict[tuple[str, str], tuple[dict[str, Any], int]]:
    """A well-formed call of each operation, and what it answers while everything is up."""
    signup = {"migration_id": migration_id, "waba_id": "1", "phone_number_id": "2"}
    return {
        ("post", "/v1/migrations"): (dict(json=REQUEST, headers={"Idempotency-Key": "outage-1"}), 202),
        ("post", "/v1/migrations:batch"): (dict(json={"items": [{**REQUEST, "phone_number": "+55 11 98765-0001"}]}),
                                           200),
        ("post", "/v1/migrations:dry-run"): (dict(json=REQUEST), 200),
        ("get", "/v1/migrations/{migration_id}"): ({}, 200),
        ("get", "/v1/migrations/{migration_id}/timeline"): ({}, 200),
        ("get", "/v1/migrations"): ({}, 200),
        ("post", "/v1/migrations/{migration_id}/verification-code"): (dict(json={"code": "123456"}), 409),
        ("post", "/v1/migrations/{migration_id}/verification-code:resend"): (dict(json={"method": "SMS"}), 409),
        ("post", "/v1/migrations/{migration_id}/api-key"): ({}, 409),
        ("post", "/v1/embedded-signup/events"): (dict(json=signup), 409),
        ("post", "/v1/migrations/{migration_id}/templates:retry"): ({}, 202),
        ("get", "/v1/billing/report"): (dict(params={"from": "2026-01-01", "to": "2026-01-31"}), 200),
        **partner_change_operations(),
    }


def partner_change_operations() -> dict[tuple[str, str], tuple[dict[str, Any], int]]:
    """Partner change and port-out, called with a partner key on things that do not exist (or are the customer's)."""
    change = "/v1/partner-changes/00000000-0000-4000-8000-000000000001"
    steps = {step: 404 for step in (":accept-terms", ":confirm-payment-method", ":approve", ":decline")}
    return {
        ("post", "/v1/partner-changes"): (dict(json={"waba_id": "1", "destination_partner_id": "partner-b",
                                                    "legal_name": "Acme", "country": "BR"}), 403),
        ("get", "/v1/partner-changes"): ({}, 200),
        ("get", "/v1/partner-changes/{change_id}"): (dict(url=change), 404),
        **{("post", f"/v1/partner-changes/{{change_id}}{step}"): (dict(url=change + step), status)
           for step, status in steps.items()},
        ("post", "/v1/partner-changes/{change_id}:review"): (dict(url=change + ":review", json={
            "phone_numbers": ["+5511987650001"]}), 404),
        ("post", "/v1/partner-changes/{change_id}:grant-permissions"): (dict(url=change + ":grant-permissions", json={
            "managed_numbers": ["+5511987650001"]}), 404),
        ("get", "/v1/numbers/{phone_number}"): (dict(url="/v1/numbers/+5511987650001"), 404),
        ("post", "/v1/port-outs"): (dict(json={"phone_number": "+55 11 98765-0001"}), 404),
        ("get", "/v1/port-outs"): ({}, 200),
        ("get", "/v1/port-outs/{port_out_id}"): (dict(url="/v1/port-outs/00000000-0000-4000-8000-000000000001"), 404),
    }


async def call(api: httpx.AsyncClient, method: str, path: str, migration_id: str, kwargs: dict[str, Any]) -> Any:
    """A sample call: its own `url` when the path has identifiers other than the migration's."""
    kwargs = dict(kwargs)
    return await api.request(method, kwargs.pop("url", None) or path.format(migration_id=migration_id), **kwargs)


# Meta's webhooks in never touch PostgreSQL: they answer the same with it stopped.
WITHOUT_DATABASE = {
    ("get", "/webhooks/meta"): (dict(params={"hub.mode": "subscribe", "hub.verify_token": "wrong"}), 403),
    ("post", "/webhooks/meta"): (dict(content=b"{}", headers={"X-Hub-Signature-256": "sha256=00"}), 401),
}


async def until_answering(api: httpx.AsyncClient, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (await api.get("/v1/migrations")).status_code != 200:
        assert time.monotonic() < deadline, "the gateway did not recover after PostgreSQL came back"
        await asyncio.sleep(0.1)


async def test_with_postgres_stopped_every_route_answers_json_503_then_recovers(services, infra):
    if "postgres" not in infra.servers:
        pytest.skip(f"PostgreSQL is not a local process this test can stop ({infra.database_source})")
    async with services.client() as api:
        first = await api.post("/v1/migrations", json=REQUEST, headers={"Idempotency-Key": "outage-1"})
        migration_id = first.json()["id"]
        await wait_for(api, migration_id, "awaiting_obo")  # registration knows it: code calls get a verdict
        document = (await api.get("/openapi.json")).json()
        routes = {(method, path) for path, item in document["paths"].items() for method in item}
        calls = every_operation(migration_id)
        assert routes == set(calls) | set(WITHOUT_DATABASE), "a new route needs a sample call here"
        with infra.outage("postgres"):
            for (method, path), (kwargs, _) in calls.items():
                answer = await call(api, method, path, migration_id, kwargs)
                assert answer.status_code == 503, (method, path, answer.text)
                assert answer.json()["error"]["code"] == "service_unavailable" and int(answer.headers["retry-after"])
                assert answer.json()["error"]["request_id"] == answer.headers["x-request-id"]
            for (method, path), (kwargs, expected) in WITHOUT_DATABASE.items():
                answer = await api.request(method, path, **kwargs)
                assert answer.status_code == expected and answer.json()["error"]["code"], (method, path, answer.text)
        await until_answering(api)
        for (method, path), (kwargs, expected) in calls.items():
            answer = await call(api, method, path, migration_id, kwargs)
            assert answer.status_code == expected, (method, path, answer.text)
        assert (await api.post("/v1/migrations", json=REQUEST, headers={"Idempotency-Key": "outage-1"})).json()[
            "id"] == migration_id


@contextlib.asynccontextmanager
async def meta_failing(sandbox: httpx.AsyncClient, status: int, calls: int = 2) -> AsyncIterator[None]:
    """Meta answers the next `calls` Graph calls with `status`; registration's read of the number after a failed
    entry is retried, so it shrugs off what is left."""
    await sandbox.post("/_sandbox/faults", json={"burst_status": status, "burst_remaining": calls})
    try:
        yield
    finally:
        await sandbox.post("/_sandbox/faults", json={"burst_remaining": 0})


def cli(services, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMPORT_API_URL": services.url, "NUMPORT_API_KEY": services.key, "COLUMNS": "200"}
    return subprocess.run([NUMPORT, "migrate", *args], env=env, capture_output=True, text=True, timeout=60)


def assert_meta_busy(answer: httpx.Response, wait: str) -> None:
    assert answer.status_code == 503 and answer.headers["content-type"] == "application/json", answer.text
    assert answer.json()["error"]["code"] == "meta_busy" and answer.headers["retry-after"] == wait
    assert f"try again in {wait} s" in answer.json()["error"]["message"]


async def enter(api: httpx.AsyncClient, migration_id: str, code: str) -> httpx.Response:
    return await api.post(f"/v1/migrations/{migration_id}/verification-code", json={"code": code})


@pytest.mark.parametrize("status, wait", [(429, "1"), (500, "5")])  # Meta's Retry-After when it sends one, else ours
async def test_meta_throttling_or_failing_on_code_entry_is_a_503_and_the_saga_keeps_waiting(
        services, eligible_world, sandbox_server, status, wait):
    async with services.client() as api, httpx.AsyncClient(base_url=sandbox_server.url) as sandbox:
        migration_id = await start(api)
        code = await until_code(api, eligible_world, migration_id)
        async with meta_failing(sandbox, status):
            assert_meta_busy(await enter(api, migration_id, code), wait)
        if status == 500:  # Meta may still act on that entry: wait out its window, count nothing
            again = await enter(api, migration_id, code)
            assert again.status_code == 503 and again.json()["error"]["code"] == "meta_busy", again.text
            assert 1 <= int(again.headers["retry-after"]) <= OUTCOME_WINDOW
            typed = cli(services, "code", migration_id, code)
            assert typed.returncode == 1 and typed.stdout == "" and "Traceback" not in typed.stderr
            assert typed.stderr.startswith("numport: meta_busy: Meta is busy") and len(typed.stderr.splitlines()) == 1
            assert (await api.get(f"/v1/migrations/{migration_id}")).json()["state"] == "awaiting_code"
            services.advance_clock(OUTCOME_WINDOW + 1)  # instead of sleeping out the window
        entered = await enter(api, migration_id, code)  # throttled: Meta did nothing, so try again at once
        assert entered.status_code == 200 and entered.json()["status"] == "verified", entered.text
        assert [c[2] for c in eligible_world.calls if c[1].endswith("/verify_code")] == [status, 200]
        await wait_for(api, migration_id, "completed")
        async with meta_failing(sandbox, 500, calls=5):  # the key is in our own database: Meta cannot hide it
            key = await api.post(f"/v1/migrations/{migration_id}/api-key")
    assert key.status_code == 200 and key.json()["api_key"], key.text


async def test_meta_throttling_or_failing_on_a_new_code_is_a_503_and_the_saga_keeps_waiting(
        services, eligible_world, sandbox_server):
    async with services.client() as api, httpx.AsyncClient(base_url=sandbox_server.url) as sandbox:
        migration_id = await start(api)
        await until_code(api, eligible_world, migration_id)
        async with meta_failing(sandbox, 429, calls=8):  # more than the client's retries of a throttled write
            resent = await api.post(f"/v1/migrations/{migration_id}/verification-code:resend", json={})
        assert (await api.get(f"/v1/migrations/{migration_id}")).json()["state"] == "awaiting_code"
        assert_meta_busy(resent, "1")


@pytest.mark.parametrize("segment", ["abc%0A", "%C3%9B%0A%C3%8A", "a%0Ab%0Dc"])
async def test_a_path_holding_a_line_break_gets_the_envelope_like_any_other(services, segment):
    """The probes' app hands every path it does not serve to the API, whatever the path holds."""
    async with services.client() as api:
        answer = await api.post(f"/v1/migrations/{segment}/verification-code", json={"code": "123456"})
        unknown = await api.get(f"/v1/nowhere/{segment}")
    assert answer.status_code == 422 and answer.json()["error"]["fields"][0]["field"] == "path.migration_id"
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
