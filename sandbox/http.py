"""Graph-shaped HTTP details: Meta's error envelope, request parameters from query/JSON/form, cursor paging."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from sandbox.rules import Refusal

KINDS = {400: "OAuthException", 401: "OAuthException", 403: "OAuthException", 404: "GraphMethodException",
         422: "GraphMethodException", 429: "OAuthException", 500: "OAuthException"}
NODE_ID = re.compile(r"^[0-9]+$")


def graph_error(status: int, code: int, message: str, *, transient: bool = False, subcode: int | None = None,
                headers: dict[str, str] | None = None, kind: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"message": f"(#{code}) {message}", "type": kind or KINDS.get(status, "OAuthException"),
                             "code": code, "fbtrace_id": "AsandboxTrace", "is_transient": transient,
                             "error_data": {"messaging_product": "whatsapp", "details": message}}
    if subcode:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def refused(refusal: Refusal) -> JSONResponse:
    subcode = 2446079 if refusal.status == 429 and refusal.code == 4 else None
    return graph_error(refusal.status, refusal.code, refusal.message, transient=refusal.transient, subcode=subcode)


def not_found(node_id: str) -> JSONResponse:
    """Meta's answer for an id it cannot load (absent, hidden from the token, or without that edge): 400, 100/33."""
    return graph_error(400, 100, f"Object {node_id} does not exist, is not visible to this token, or does not serve "
                       "this request.", subcode=33, kind="GraphMethodException")


def unknown_fields(_: Request, error: Exception) -> JSONResponse:
    return graph_error(400, 100, str(error))


def bad_request(message: str) -> JSONResponse:
    return graph_error(400, 100, f"Invalid parameter: {message}")


async def params(request: Request) -> dict[str, Any]:
    """Meta accepts parameters in the query string, as JSON or as form fields: merge them all."""
    merged: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    if body:
        if request.headers.get("content-type", "").startswith("application/json"):
            loaded = json.loads(body)
            if isinstance(loaded, dict):
                merged.update(loaded)
        else:
            merged.update((await request.form()).items())
    return merged


def truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def page(items: list[dict[str, Any]], limit: Any, after: Any) -> dict[str, Any]:
    """Cursor paging as Graph does it: cursors are opaque; ours encode the offset."""
    size = max(1, min(100, int(limit or 25)))
    start = int(after) if after and str(after).isdigit() else 0
    chunk = items[start:start + size]
    paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(start + len(chunk))}}
    if start + size < len(items):
        paging["next"] = f"?limit={size}&after={start + size}"
    return {"data": chunk, "paging": paging}
