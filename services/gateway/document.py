"""The partner API's OpenAPI document, finished after FastAPI drafts it, so that tools can trust it: every error
answer is the one envelope, and a migration's id links the calls that start one to the calls that follow it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ENVELOPE = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}
EVERY_CALL = {"500": {"description": "Unexpected; the answer names the request id for support (internal_error)."},
              "503": {"description": "A backing service is away (service_unavailable); retry after Retry-After.",
                      "headers": RETRY_AFTER}}
WITH_BODY = {"400": {"description": "The body is not JSON in UTF-8 (malformed_body)."}}
WITH_INPUT = {"422": {"description": "A parameter or a body field is not valid (invalid_request); `fields` names "
                                     "each one."}}
WITH_KEY = {"401": {"description": "No partner key, or not a valid one (unauthenticated)."}}
FASTAPI_OWN = ("HTTPValidationError", "ValidationError")  # its 422 shape, which this API never answers
# Where each way of starting migrations puts the new migration's id.
STARTS = {("startMigration", "202"): "$response.body#/id", ("startBatch", "200"): "$response.body#/rows/0/migration/id"}


def install(api: FastAPI) -> None:
    draft = api.openapi

    def openapi() -> dict[str, Any]:
        fresh = api.openapi_schema is None
        schema = draft()  # FastAPI keeps it, so it is finished once
        if fresh:
            finish(schema)
        return schema

    api.openapi = openapi  # type: ignore[method-assign]


def finish(schema: dict[str, Any]) -> None:
    operations = [op for item in schema["paths"].values() for op in item.values()]
    for operation in operations:
        errors(operation)
    for name in FASTAPI_OWN:
        schema["components"]["schemas"].pop(name, None)
    links(operations, schema["components"]["schemas"])


def errors(operation: dict[str, Any]) -> None:
    """Declare every error the operation can answer, each in the envelope (FastAPI drafts its own 422 shape)."""
    answers = operation["responses"]
    expected = {**EVERY_CALL, **(WITH_BODY if "requestBody" in operation else {}),
                **(WITH_INPUT if "requestBody" in operation or operation.get("parameters") else {}),
                **(WITH_KEY if operation.get("security") else {})}
    for status, answer in expected.items():
        answers.setdefault(status, answer)
    for status, answer in answers.items():
        if status[0] in "45":
            answer["content"] = ENVELOPE
            if answer.get("description") in (None, "", "Additional Response", "Validation Error"):
                answer["description"] = expected.get(status, {}).get("description", "Refused; see error.code.")


def links(operations: list[dict[str, Any]], models: dict[str, Any]) -> None:
    """From each start to every call that takes a migration id, in its path or in its body."""
    by_id = {op["operationId"]: op for op in operations}
    for (source, status), where in STARTS.items():
        if source not in by_id:
            continue
        found = {}
        for target in operations:
            if any(p["name"] == "migration_id" and p["in"] == "path" for p in target.get("parameters", [])):
                found[target["operationId"]] = {"operationId": target["operationId"],
                                                "parameters": {"path.migration_id": where}}
            elif "migration_id" in _body_fields(target, models):
                found[target["operationId"]] = {"operationId": target["operationId"],
                                                "requestBody": {"migration_id": where}}
        by_id[source]["responses"][status]["links"] = found


def _body_fields(operation: dict[str, Any], models: dict[str, Any]) -> set[str]:
    """The top-level fields of the operation's JSON body (FastAPI always refers to a named schema)."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    return set(models.get(body.get("$ref", "").rpartition("/")[2], {}).get("properties", ()))
