"""Every Graph operation numport calls is served by the sandbox, and every answer matches Meta's spec."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import Match

from sandbox import fields
from sandbox.app import create_app
from tests.contract.answers import EDGES, Answer, check
from tests.contract.conftest import accept_obo, delivered_code, start_migration
from tests.contract.spec import check_response, spec

# The operations of Meta's spec that numport calls (method, spec path). Keep in step with shared/graph users.
NUMPORT_OPERATIONS = {
    ("get", "/{Version}/{Phone-Number-ID}"),
    ("get", "/{Version}/{WABA-ID}"),
    ("get", "/{Version}/{Business-ID}"),
    ("get", "/{Version}/{WABA-ID}/phone_numbers"),
    ("post", "/{Version}/{WABA-ID}/phone_numbers"),
    ("post", "/{Version}/{Phone-Number-ID}/request_code"),
    ("post", "/{Version}/{Phone-Number-ID}/verify_code"),
    ("post", "/{Version}/{Phone-Number-ID}/register"),
    ("get", "/{Version}/{WABA-ID}/subscribed_apps"),
    ("post", "/{Version}/{WABA-ID}/subscribed_apps"),
    ("get", "/{Version}/{WABA-ID}/message_templates"),
    ("get", "/{Version}/{WABA-ID}/in_progress_onbehalf_request"),
    ("get", "/{Version}/{Business-ID}/extendedcredits"),
}
# Operations numport needs that Meta documents but the spec lacks (see sandbox/README.md).
OUTSIDE_SPEC = {
    ("post", "/{Version}/{WABA-ID}/migrate_message_templates"),
    ("post", "/{Version}/{Credit-Line-ID}/whatsapp_credit_sharing_and_attach"),
    ("post", "/{Version}/{WABA-ID}/in_progress_onbehalf_request"),
}


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "123456", path).replace("123456", "v23.0", 1)


def test_numport_operations_exist_in_the_spec_and_are_served():
    app = create_app()
    for method, path in NUMPORT_OPERATIONS | OUTSIDE_SPEC:
        if (method, path) in NUMPORT_OPERATIONS:
            assert method in spec()["paths"][path], f"{method.upper()} {path} is not in Meta's spec"
        else:
            assert path not in spec()["paths"] or method not in spec()["paths"][path]
        scope = {"type": "http", "method": method.upper(), "path": concrete(path), "root_path": ""}
        assert any(r.matches(scope)[0] is Match.FULL for r in app.routes), f"sandbox does not serve {method} {path}"


async def call(graph: httpx.AsyncClient, method: str, spec_path: str, url: str, expect: int,
               **kwargs) -> httpx.Response:
    response = await graph.request(method.upper(), url, **kwargs)
    assert response.status_code == expect, response.text
    check_response(spec_path, method, response.status_code, response.json())
    return response


async def test_reads_and_their_errors_match_the_spec(graph):
    number, waba = "/{Version}/{Phone-Number-ID}", "/{Version}/{WABA-ID}"
    body = (await call(graph, "get", number, "/v23.0/500000000000001", 200,
                       params={"fields": "name_status,quality_rating,code_verification_status"})).json()
    assert body == {"id": "500000000000001", "name_status": "APPROVED", "quality_rating": "GREEN",
                    "code_verification_status": "VERIFIED"}
    await call(graph, "get", number, "/v23.0/999999999999999", 400)
    await call(graph, "get", number, "/v23.0/500000000000001", 401, headers={"Authorization": ""})
    await call(graph, "get", number, "/v2x/500000000000001", 400)
    assert (await call(graph, "get", waba, "/v23.0/200000000000001", 200,
                       params={"fields": "name,account_review_status"})).json()["account_review_status"] == "APPROVED"
    await call(graph, "get", "/{Version}/{Business-ID}", "/v23.0/100000000000001", 200,
               params={"fields": "name,verification_status"})
    listed = await call(graph, "get", f"{waba}/phone_numbers", "/v23.0/200000000000001/phone_numbers", 200,
                        params={"fields": "display_phone_number,status,account_mode,host_platform"})
    assert listed.json()["data"][0]["status"] == "LINKED"
    await call(graph, "get", f"{waba}/phone_numbers", "/v23.0/999/phone_numbers", 400)
    await call(graph, "get", f"{waba}/subscribed_apps", "/v23.0/200000000000002/subscribed_apps", 200)
    await call(graph, "get", f"{waba}/message_templates", "/v23.0/200000000000001/message_templates", 200,
               params={"fields": "name,status,category,language,components", "limit": 1})
    await call(graph, "get", f"{waba}/message_templates", "/v23.0/999/message_templates", 400)
    await call(graph, "get", "/{Version}/{Business-ID}/extendedcredits", "/v23.0/100000000000009/extendedcredits", 200)


async def test_migration_writes_and_their_errors_match_the_spec(graph):
    add, waba = "/{Version}/{WABA-ID}/phone_numbers", "/{Version}/{WABA-ID}"
    migrate = {"cc": "55", "phone_number": "11987654321", "migrate_phone_number": True}
    await call(graph, "post", add, "/v23.0/200000000000002/phone_numbers", 400, json=migrate)  # OBO not accepted
    await call(graph, "post", add, "/v23.0/200000000000002/phone_numbers", 400, json={"cc": "x"})
    await call(graph, "post", f"{waba}/subscribed_apps", "/v23.0/200000000000002/subscribed_apps", 200)
    await accept_obo(graph)
    obo = await call(graph, "get", f"{waba}/in_progress_onbehalf_request",
                     "/v23.0/200000000000002/in_progress_onbehalf_request", 200)
    assert obo.json()["data"][0]["status"] == "APPROVE"
    number_id = (await call(graph, "post", add, "/v23.0/200000000000002/phone_numbers", 200, json=migrate)).json()["id"]

    request_code, verify, register = (f"/{{Version}}/{{Phone-Number-ID}}/{op}"
                                      for op in ("request_code", "verify_code", "register"))
    await call(graph, "post", request_code, f"/v23.0/{number_id}/request_code", 400, json={"code_method": "FAX"})
    await call(graph, "post", request_code, f"/v23.0/{number_id}/request_code", 200,
               json={"code_method": "SMS", "language": "pt_BR"})
    await call(graph, "post", verify, f"/v23.0/{number_id}/verify_code", 422, json={"code": "000000"})
    await call(graph, "post", verify, f"/v23.0/{number_id}/verify_code", 400, json={"code": "12"})
    await call(graph, "post", verify, f"/v23.0/{number_id}/verify_code", 200,
               json={"code": await delivered_code(graph, number_id)})
    await call(graph, "post", register, f"/v23.0/{number_id}/register", 400,
               json={"messaging_product": "whatsapp", "pin": "12"})
    await call(graph, "post", register, f"/v23.0/{number_id}/register", 200,
               json={"messaging_product": "whatsapp", "pin": "424242"})


async def test_throttling_answers_match_the_spec(graph):
    number_id = await start_migration(graph)
    path = "/{Version}/{Phone-Number-ID}/request_code"
    for _ in range(5):
        await call(graph, "post", path, f"/v23.0/{number_id}/request_code", 200,
                   json={"code_method": "VOICE", "language": "en"})
    refused = await call(graph, "post", path, f"/v23.0/{number_id}/request_code", 429,
                         json={"code_method": "SMS", "language": "en"})
    assert refused.json()["error"]["is_transient"] is True
    await graph.post("/_sandbox/faults", json={"burst_status": 429, "burst_remaining": 1})
    throttled = await call(graph, "get", "/{Version}/{Phone-Number-ID}", f"/v23.0/{number_id}", 429)
    assert throttled.json()["error"]["code"] == 80007 and throttled.headers["retry-after"] == "1"
    await graph.post("/_sandbox/faults", json={"burst_status": 500, "burst_remaining": 1})
    await call(graph, "get", "/{Version}/{Phone-Number-ID}", f"/v23.0/{number_id}", 500)


@pytest.mark.parametrize("method, path", sorted(NUMPORT_OPERATIONS))
def test_each_operation_declares_the_graph_error_envelope_or_none(method, path):
    """Guards the validator itself: a wrong body for the operation's success response must be caught."""
    responses = spec()["paths"][path][method]["responses"]
    schema = responses["200"]["content"]["application/json"]["schema"]
    if schema.get("required") or "$ref" in schema:
        with pytest.raises(AssertionError):
            check_response(path, method, 200, {"id": 123, "data": "x", "success": "x", "name": 5})


ALL_FIELDS = {kind: ",".join(sorted(kind.known)) for kind in (fields.NUMBER, fields.WABA, fields.BUSINESS,
                                                              fields.TEMPLATE, fields.OBO_REQUEST)}


async def test_a_whole_migration_run_answers_as_its_operations_declare(graph, recorder, sandbox_world):
    """Every node read with its default fields and with every field it knows, every write of a migration, and
    their refusals; each answer is checked against the operation it was meant for (by operationId)."""
    await accept_obo(graph)
    obo = (await graph.get("/v23.0/200000000000002/in_progress_onbehalf_request")).json()["data"][0]["id"]
    reads = {"500000000000001": fields.NUMBER, "200000000000001": fields.WABA, "100000000000001": fields.BUSINESS,
             "600000000000001": fields.TEMPLATE, obo: fields.OBO_REQUEST}
    for node, kind in reads.items():
        default = (await graph.get(f"/v23.0/{node}")).json()
        assert set(kind.required) <= set(default), (kind.name, default)
        everything = (await graph.get(f"/v23.0/{node}", params={"fields": ALL_FIELDS[kind]})).json()
        assert set(default) <= set(everything)
    await graph.get("/v23.0/200000000000001/phone_numbers", params={"fields": ALL_FIELDS[fields.NUMBER]})
    await graph.get("/v23.0/200000000000001/message_templates",
                    params={"fields": ALL_FIELDS[fields.TEMPLATE], "summary": "total_count,message_template_limit"})
    await graph.post("/v23.0/200000000000002/subscribed_apps")
    await graph.get("/v23.0/200000000000002/subscribed_apps")
    line = (await graph.get("/v23.0/100000000000009/extendedcredits")).json()["data"][0]["id"]
    shared = (await graph.post(f"/v23.0/{line}/whatsapp_credit_sharing_and_attach",
                               json={"waba_id": "200000000000002", "waba_currency": "BRL"})).json()
    await graph.get(f"/v23.0/{shared['allocation_config_id']}")
    migrated = await graph.post("/v23.0/200000000000002/migrate_message_templates",
                                json={"source_waba_id": "200000000000001"})
    assert migrated.status_code == 200
    number = (await graph.post("/v23.0/200000000000002/phone_numbers",
                               json={"cc": "55", "phone_number": "11987654321", "migrate_phone_number": True})).json()
    await graph.post(f"/v23.0/{number['id']}/request_code", json={"code_method": "SMS", "language": "en_US"})
    await graph.post(f"/v23.0/{number['id']}/verify_code", json={"code": "000000"})
    await graph.post(f"/v23.0/{number['id']}/verify_code", json={"code": await delivered_code(graph, number["id"])})
    await graph.post(f"/v23.0/{number['id']}/register", json={"messaging_product": "whatsapp", "pin": "13"})
    await graph.post(f"/v23.0/{number['id']}/register", json={"messaging_product": "whatsapp", "pin": "424242"})
    await graph.get("/v23.0/200000000000001", params={"fields": "name,no_such_field"})
    await graph.get("/v23.0/123456789")
    counts = recorder.check_all(sandbox_world)
    solutions = {"setSolutionMigrationIntent", "listWabaSolutions", "acceptWhatsAppBusinessSolution",
                 "rejectSolutionRequest"}  # tests/contract/test_sandbox_solutions.py runs these
    assert set(counts) == {*EDGES.values(), "getPhoneNumberById", "getWhatsAppBusinessAccountDetails",
                           "getBusinessPortfolioSpecificFields", "getTemplateByIdDefaultFields", "readOnBehalfRequest",
                           "readCreditAllocation", "unknownNode"} - solutions
    assert sum(counts.values()) == len(recorder.answers) == 28


@pytest.mark.parametrize("url", ["/v23.0/500000000000001", "/v23.0/200000000000001", "/v23.0/100000000000001",
                                 "/v23.0/600000000000001", "/v23.0/200000000000001/phone_numbers",
                                 "/v23.0/200000000000001/message_templates",
                                 "/v23.0/200000000000002/in_progress_onbehalf_request"])
async def test_an_unknown_field_is_refused_with_code_100(graph, url):
    answer = await graph.get(url, params={"fields": "id,name_status{x,y},no_such_field"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["type"]) == (100, "OAuthException") and "no_such_field" in error["message"]
    assert error["fbtrace_id"]


async def test_default_reads_carry_what_the_spec_and_clients_require(graph):
    waba = (await graph.get("/v23.0/200000000000001")).json()
    assert {"id", "name", "timezone_id", "message_template_namespace"} <= set(waba)
    template = (await graph.get("/v23.0/600000000000001")).json()
    assert template["parameter_format"] == "POSITIONAL" and template["components"]
    nested = (await graph.get("/v23.0/600000000000001", params={"fields": "quality_score{score,date},name"})).json()
    assert set(nested) == {"id", "name", "quality_score"} and nested["quality_score"]["score"] == "GREEN"


@pytest.mark.parametrize("answer, operation_id", [
    (Answer("GET", "/v23.0/200000000000001", 200, {"id": "200000000000001", "timezone_id": "1"}),
     "getWhatsAppBusinessAccountDetails"),  # no name, which the spec requires
    (Answer("POST", "/v23.0/2/migrate_message_templates", 200,
            {"migrated_templates": ["1"], "failed_templates": [{"id": "2", "reason": "x"}]}),
     "migrateMessageTemplates"),  # failed_templates is a map keyed by template id
    (Answer("GET", "/v23.0/200000000000001/message_templates", 404, {"error": {"code": 803}}),
     "getTemplateByNameDefaultFields"),  # not Meta's envelope: no message, no type
    (Answer("POST", "/v23.0/5/verify_code", 409, {"error": {"message": "m", "type": "t", "code": 1}}),
     "verifyPhoneNumberCode"),  # a status the operation does not declare
    (Answer("GET", "/v23.0/9", 404, {"error": {"message": "m", "type": "t", "code": 100}}), "unknownNode"),
])
def test_a_wrong_answer_fails_the_check(answer, operation_id):
    with pytest.raises(AssertionError):
        check(answer, operation_id)
