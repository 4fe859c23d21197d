"""The partner API's document says what the API accepts and answers: exact patterns (a match always passes, a miss
never does), strict booleans, one error envelope even for unreadable bodies, bearer security, Allow on 405, links."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from services.gateway import repository
from services.gateway.api import GatewayDeps, create_api
from services.gateway.patterns import CURSOR, PHONE, national_lengths
from shared.clock import SystemClock
from shared.phone import to_e164
from tests.integration.gateway_support import REQUEST

DOCUMENT = create_api(GatewayDeps(None, precheck=None, clock=SystemClock())).openapi()  # type: ignore[arg-type]
BODIES = [(path, method) for path, item in DOCUMENT["paths"].items() for method, op in item.items()
          if "requestBody" in op and path.startswith("/v1/")]

IDS = {"migration_id": uuid.uuid4(), "change_id": uuid.uuid4(), "port_out_id": uuid.uuid4(),  # path parameters
       "phone_number": "+15551234567"}


class OnePartner:
    """Stands in for asyncpg's pool: every key belongs to partner-a, and no migration exists."""

    async def fetchval(self, *args: object) -> str:
        return "partner-a"

    async def fetchrow(self, *args: object) -> None:
        return None


def gateway() -> httpx.AsyncClient:
    app = create_api(GatewayDeps(OnePartner(), precheck=None, clock=SystemClock()))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app, raise_app_exceptions=False), base_url="http://gw",
                             headers={"Authorization": "Bearer np_partner-a_key"})


def test_every_country_code_and_length_the_phone_pattern_admits_is_a_number_the_api_accepts():
    assert not [a for a in map(str, COUNTRY_CODE_TO_REGION_CODE) for b in map(str, COUNTRY_CODE_TO_REGION_CODE)
                if a != b and b.startswith(a)], "country codes are prefix-free, so the pattern's code is the parser's"
    pattern, sample, promised = re.compile(PHONE), random.Random(15), 0
    for code in COUNTRY_CODE_TO_REGION_CODE:
        lengths, trunk = national_lengths(code)
        for length, first in ((n, d) for n in lengths for d in "0123456789"):
            national = first + "".join(sample.choice("0123456789") for _ in range(length - 1))
            assert pattern.fullmatch(f"+{code} {national}") and pattern.fullmatch(f"{code}{national}")
            assert pattern.fullmatch(f"+{code} (0) {national}") or not trunk or first == "0"  # "+44 (0)20 …"
            for typed in (f"+{code} {national}", f"+{code} (0) {national}", f"+{code} {national}0"):
                if pattern.fullmatch(typed):  # a match is a promise
                    assert to_e164(typed), typed
                    promised += 1
    assert promised > 10_000


@settings(max_examples=300, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(PHONE, fullmatch=True))
def test_any_string_the_phone_pattern_matches_normalises(typed):
    assert re.fullmatch(r"\+[1-9][0-9]{6,14}", to_e164(typed))


@settings(max_examples=100, deadline=None, database=None, derandomize=True)
@given(st.from_regex(CURSOR, fullmatch=True))
def test_any_cursor_of_the_documented_shape_decodes(cursor):
    created, ident = repository.decode_cursor(cursor)
    assert repository.encode_cursor(created, ident).lstrip("0") == cursor.lstrip("0")


def test_a_cursor_round_trips_to_the_microsecond():
    created, ident = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC), uuid.uuid4()
    cursor = repository.encode_cursor(created, ident)
    assert re.fullmatch(CURSOR, cursor) and repository.decode_cursor(cursor) == (created, ident)


@pytest.mark.parametrize("value", [0, 1, "yes", "true", None, []])
async def test_admin_access_is_true_or_false_and_nothing_else(value):
    async with gateway() as api:
        answer = await api.post("/v1/migrations:dry-run", json={**REQUEST, "admin_access_confirmed": value})
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"] == [{"field": "admin_access_confirmed", "code": "bool_type",
                                                 "problem": "Input should be a valid boolean"}]


@pytest.mark.parametrize("body", [b"\xff\xfe{}", b'{"phone_number": ', b"[" * 100_000, b"{'a': 1}"])
@pytest.mark.parametrize("path, method", BODIES)
async def test_unreadable_bodies_are_one_400_in_the_envelope(path, method, body):
    async with gateway() as api:
        answer = await api.request(method, path.format(**IDS), content=body,
                                   headers={"Content-Type": "application/json", "X-Request-Id": "r-1"})
    assert answer.status_code == 400 and answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert (error["code"], error["request_id"], error["fields"][0]["field"]) == ("malformed_body", "r-1", "body")
    assert "parsing" not in error["message"]  # FastAPI's own words, which this API replaces


async def test_a_pattern_miss_names_the_field_and_its_code_without_quoting_the_pattern():
    async with gateway() as api:
        answer = await api.post("/v1/migrations:dry-run", json={**REQUEST, "phone_number": "+55 11 9876"})
        listed = await api.get("/v1/migrations", params={"cursor": "not-ours", "phone_number": "call +55 11"})
    [field] = answer.json()["error"]["fields"]
    assert (field["field"], field["code"]) == ("phone_number", "phone_number_format") and "[" not in field["problem"]
    assert [(f["field"], f["code"]) for f in listed.json()["error"]["fields"]] == [
        ("query.phone_number", "string_pattern_mismatch"), ("query.cursor", "string_pattern_mismatch")]


async def test_every_path_answers_405_with_exactly_its_documented_methods():
    async with gateway() as api:
        for path, item in DOCUMENT["paths"].items():
            answer = await api.request("PATCH", path.format(**IDS))
            assert answer.status_code == 405 and answer.json()["error"]["code"] == "method_not_allowed", path
            assert set(answer.headers["allow"].split(", ")) == {m.upper() for m in item}, path


def test_partner_calls_name_the_bearer_scheme_and_only_they_do():
    assert DOCUMENT["components"]["securitySchemes"] == {"partnerKey": {
        "type": "http", "scheme": "bearer", "bearerFormat": "np_<partner>_<secret>",
        "description": "Your partner API key, as 'Authorization: Bearer <key>'."}}
    for path, item in DOCUMENT["paths"].items():
        for operation in item.values():
            expected = [{"partnerKey": []}] if path.startswith("/v1/") else None  # Meta signs its webhooks instead
            assert operation.get("security") == expected, path
            assert not [p for p in operation.get("parameters", []) if p["name"].lower() in ("authorization",
                                                                                          "x-api-key")], path
    assert not [p for p in DOCUMENT["paths"] if "internal" in p or not p.startswith(("/v1/", "/webhooks/"))]


def test_every_error_answer_is_documented_as_the_envelope():
    assert not {"HTTPValidationError", "ValidationError"} & set(DOCUMENT["components"]["schemas"])
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            answers = operation["responses"]
            assert {"500", "503"} <= set(answers) and ("400" in answers or "requestBody" not in operation), path
            for status, answer in answers.items():
                if status[0] in "45":
                    assert answer["content"] == {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ErrorBody"}}}, (method, path, status)


def test_a_started_migrations_id_links_to_every_call_about_it():
    operations = {op["operationId"]: op for item in DOCUMENT["paths"].values() for op in item.values()}
    for source, status, where in (("startMigration", "202", "$response.body#/id"),
                                  ("startBatch", "200", "$response.body#/rows/0/migration/id")):
        links = operations[source]["responses"][status]["links"]
        assert {"getMigration", "getTimeline", "enterCode", "requestNewCode", "collectApiKey"} <= set(links)
        assert links["getTimeline"] == {"operationId": "getTimeline", "parameters": {"path.migration_id": where}}
        assert links["signupFinished"]["requestBody"] == {"migration_id": where}
