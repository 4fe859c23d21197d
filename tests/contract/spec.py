"""Validate sandbox responses against the response schema of the operation in Meta's official OpenAPI spec."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import yaml
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(os.environ.get("NUMPORT_META_SPEC") or Path(__file__).resolve().parents[3] / "shared" / "reference"
                 / "meta-business-messaging-api_v23.0.yaml")
URI = "urn:meta-business-messaging-api"
DEPARTED_STATUSES = {503: "fault bursts only (sandbox/README.md, departure 10)"}


@functools.cache
def spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():  # the repository's sibling folder, as on developers' machines and in CI
        raise FileNotFoundError(f"Meta's OpenAPI spec is expected at {SPEC_PATH}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # 1 MB of YAML: the C parser where it is built
    return yaml.load(SPEC_PATH.read_text(), Loader=loader)


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(URI, Resource(contents=spec(), specification=DRAFT202012))


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def operation(path: str, method: str) -> dict[str, Any]:
    return spec()["paths"][path][method]


@functools.cache
def operations() -> dict[str, tuple[str, str]]:
    """operationId → (path, method): `GET /{id}` fits a dozen operations, an operationId names one."""
    return {op["operationId"]: (path, method) for path, ops in spec()["paths"].items()
            for method, op in ops.items() if isinstance(op, dict) and "operationId" in op}


def check_operation(operation_id: str, status: int, body: Any) -> None:
    path, method = operations()[operation_id]
    check_response(path, method, status, body)


def check_schema(schema: dict[str, Any], body: Any, what: str) -> None:
    """Validate against a schema that may $ref the spec's components (`urn:meta-business-messaging-api#/…`)."""
    try:
        OAS31Validator(schema, registry=_registry()).validate(body)
    except ValidationError as error:
        raise AssertionError(f"{what}: {error.message} at {list(error.absolute_path)}") from None


def check_response(path: str, method: str, status: int, body: Any) -> None:
    """Raise AssertionError naming the operation when `body` does not match its declared response schema."""
    responses = operation(path, method)["responses"]
    declared = responses.get(str(status))
    declares_errors = any(code[0] in "45" for code in responses)
    if declared is None and status >= 400 and (not declares_errors or status in DEPARTED_STATUSES):
        # Postman-imported operations declare no errors at all; Meta answers them with its usual envelope.
        pointer = "components/schemas/GraphAPIError"
    else:
        assert declared is not None, f"{method.upper()} {path} declares no {status} response"
        if "content" not in declared:
            return
        pointer = _pointer("paths", path, method, "responses", str(status), "content", "application/json", "schema")
    check_schema({"$ref": f"{URI}#/{pointer}"}, body, f"{method.upper()} {path} {status}")
