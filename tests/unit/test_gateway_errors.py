"""The partner API's error answers without infrastructure: the envelope, request ids, 503 vs 500, and the index
predicate that must list exactly the terminal states of the read model."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest

from services.gateway import status
from services.gateway.api import GatewayDeps, create_api
from services.gateway.cli import describe
from services.gateway.registration_client import RegistrationClient, RegistrationUnavailable
from shared.clock import SystemClock

MIGRATIONS = Path(status.__file__).with_name("migrations")


def test_the_one_open_migration_index_lists_exactly_the_terminal_states():
    sql = next(MIGRATIONS.glob("0003_*.sql")).read_text()
    predicate = re.search(r"WHERE state NOT IN \(([^)]*)\)", sql)
    assert predicate is not None
    assert set(re.findall(r"'([a-z_]+)'", predicate.group(1))) == status.TERMINAL
    assert set(status.RANK) >= status.TERMINAL  # every terminal state is one the read model can reach


class FailingPool:
    """Stands in for asyncpg's pool: every query raises what the test chose."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def fetchval(self, *args: object) -> None:
        raise self.error


def gateway(error: Exception) -> httpx.AsyncClient:
    app = create_api(GatewayDeps(FailingPool(error), precheck=None, clock=SystemClock()))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app, raise_app_exceptions=False), base_url="http://gw",
                             headers={"Authorization": "Bearer np_partner-a_key"})


async def test_a_database_outage_is_a_json_503_with_a_delay_and_the_request_id():
    async with gateway(ConnectionRefusedError(111, "Connect call failed")) as api:
        answer = await api.get("/v1/migrations", headers={"X-Request-Id": "order-42.retry-1"})
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert answer.json()["error"]["code"] == "service_unavailable"
    assert answer.headers["x-request-id"] == answer.json()["error"]["request_id"] == "order-42.retry-1"


async def test_a_bug_is_a_json_500_naming_the_request_id_and_never_the_traceback(caplog):
    async with gateway(ZeroDivisionError("secret internals")) as api:
        answer = await api.get("/v1/migrations", headers={"X-Request-Id": "bad id <script>"})
    rid = answer.headers["x-request-id"]
    assert answer.status_code == 500 and answer.json()["error"]["code"] == "internal_error"
    assert re.fullmatch(r"[0-9a-f]{32}", rid) and answer.json()["error"]["request_id"] == rid
    assert rid in answer.json()["error"]["message"]
    assert "secret internals" not in answer.text and "Traceback" not in answer.text
    assert any(r.exc_info and getattr(r, "request_id", None) == rid for r in caplog.records)


async def test_unknown_routes_and_methods_use_the_envelope_and_a_full_allow_header():
    async with gateway(ConnectionRefusedError()) as api:
        missing = await api.get("/v2/nothing-here")
        wrong = await api.delete("/v1/migrations")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert missing.headers["x-request-id"] == missing.json()["error"]["request_id"]
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    assert set(wrong.headers["allow"].split(", ")) == {"GET", "POST"}  # list and start share the path


def registration(handler) -> RegistrationClient:
    return RegistrationClient("http://registration", "internal", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("answer, code, wait", [
    (httpx.Response(503, json={"error": {"code": "meta_busy"}}, headers={"Retry-After": "7"}), "meta_busy", 7),
    (httpx.Response(503, json={"error": {"code": "service_unavailable"}}), "service_unavailable", 5),
    (httpx.Response(503, text="upstream connect error", headers={"Retry-After": "2"}), "registration_unavailable", 2),
    (httpx.Response(500, text="Internal Server Error"), "registration_unavailable", 5),
    (httpx.Response(401, json={"detail": "internal token missing or wrong"}), "registration_unavailable", 5),
])
async def test_registration_answers_that_are_not_verdicts_become_unavailable(answer, code, wait):
    client = registration(lambda request: answer)
    with pytest.raises(RegistrationUnavailable) as raised:
        await client.submit_code(uuid.uuid4(), "partner-a", "123456")
    assert (raised.value.code, raised.value.retry_after) == (code, wait)
    await client.aclose()


async def test_registration_out_of_reach_and_a_key_already_shown():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    away = registration(refuse)
    with pytest.raises(RegistrationUnavailable) as raised:
        await away.reveal_api_key(uuid.uuid4(), "partner-a")
    assert raised.value.code == "registration_unavailable"
    shown = registration(lambda request: httpx.Response(410, json={"detail": "shown once already"}))
    assert await shown.reveal_api_key(uuid.uuid4(), "partner-a") is None
    await away.aclose()
    await shown.aclose()


def test_the_cli_describes_any_failed_call_in_one_line():
    busy = httpx.Response(503, headers={"Retry-After": "3"},
                          json={"error": {"code": "meta_busy", "message": "Meta is busy right now;\ntry again."}})
    assert describe(busy, busy.json()) == "meta_busy: Meta is busy right now; try again. [retry after 3 s]"
    page = httpx.Response(502, text="<html>Bad Gateway</html>")
    assert describe(page, None) == "HTTP 502 from the gateway, without a numport error in the answer"



def test_every_request_body_of_the_api_is_refused_a_nul_character():
    import importlib
    import pkgutil

    from fastapi import APIRouter
    from fastapi.routing import APIRoute

    import services.gateway
    from services.gateway.models import Inbound

    modules = [importlib.import_module(f"services.gateway.{m.name}")
               for m in pkgutil.iter_modules(services.gateway.__path__)]
    app = create_api(GatewayDeps(FailingPool(RuntimeError()), precheck=None, clock=SystemClock()))  # type: ignore[arg-type]
    routes = [*app.routes, *(r for m in modules if isinstance(getattr(m, "router", None), APIRouter)
                             for r in m.router.routes)]
    bodies = {r.path: r.body_field.field_info.annotation for r in routes if isinstance(r, APIRoute) and r.body_field}
    assert len(bodies) >= 10 and all(issubclass(model, Inbound) for model in bodies.values()), bodies


@pytest.mark.parametrize(("body", "field"), [
    ({"phone_number": "+5511987654321", "business_id": "1", "destination_waba_id": "2", "display_name": "Acme\x00"},
     "display_name"),
    ({"phone_number": "+55119876\x0054321", "business_id": "1", "destination_waba_id": "2"}, "phone_number"),
])
def test_a_nul_character_is_refused_naming_its_field(body, field):
    from pydantic import ValidationError

    from services.gateway.models import MigrationRequest

    with pytest.raises(ValidationError) as refused:
        MigrationRequest.model_validate(body)
    assert any(e["loc"][0] == field for e in refused.value.errors()), refused.value.errors()
