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


@functools.cache
def spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():  # the repository's sibling folder, as on developers' machines and in CI
        raise FileNotFoundError(f"Meta's OpenAPI spec is expected at {SPEC_PATH}")
    return yaml.safe_load(SPEC_PATH.read_text())


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(URI, Resource(contents=spec(), specification=DRAFT202012))


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def operation(path: str, method: str) -> dict[str, Any]:
    return spec()["paths"][path][method]


def check_response(path: str, method: str, status: int, body: Any) -> None:
    """Raise AssertionError naming the operation when `body` does not match its declared response schema."""
    responses = operation(path, method)["responses"]
    declared = responses.get(str(status))
    if declared is None and status >= 400:
        # Postman-imported operations declare no errors at all; Meta answers them with its usual envelope.
        pointer = "components/schemas/GraphAPIError"
    else:
        assert declared is not None, f"{method.upper()} {path} declares no {status} response"
        if "content" not in declared:
            return
        pointer = _pointer("paths", path, method, "responses", str(status), "content", "application/json", "schema")
    validator = OAS31Validator({"$ref": f"{URI}#/{pointer}"}, registry=_registry())
    try:
        validator.validate(body)
    except ValidationError as error:
        where = list(error.absolute_path)
        raise AssertionError(f"{method.upper()} {path} {status}: {error.message} at {where}") from None
