"""Every answer of the partner API carries a request id, and every error is the same JSON envelope with a stable
code, so a partner's script never has to parse text or a traceback, and support can find the log line."""

from __future__ import annotations

import logging
import re
import uuid
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.metrics import HTTP_RESPONSES
from shared.outages import RETRY_SECONDS, backend_away

log = logging.getLogger("numport.gateway")
PATTERN_MISMATCH = "Does not have the format this API documents for it (see the pattern in /openapi.json)."
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
SANE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
CODES = {400: "bad_request", 401: "unauthenticated", 404: "not_found", 405: "method_not_allowed", 409: "conflict",
         410: "gone", 422: "invalid_request", 502: "upstream_unavailable", 503: "service_unavailable"}


class ApiProblem(Exception):
    """An answer the partner can act on: a status, a stable code, our own words, and maybe a delay."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after
        self.fields = [{"field": field, "code": code, "problem": message}] if field else []


def problem(request_id: str, status: int, code: str, message: str, fields: list[dict[str, str]] | None = None,
            retry_after: int | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "fields": fields or [], "request_id": request_id}}
    extra = {**(headers or {}), **({"Retry-After": str(retry_after)} if retry_after is not None else {})}
    return JSONResponse(body, status_code=status, headers=extra)


def request_id(request: Request) -> str:
    return getattr(request.state, "request_id", "") or uuid.uuid4().hex


def field_errors(errors: Any) -> list[dict[str, str]]:
    """pydantic's findings, each with its stable type as the code; a pattern is named, not quoted (some are long)."""
    return [{"field": ".".join(str(p) for p in e["loc"] if p != "body") or "body", "code": e["type"],
             "problem": PATTERN_MISMATCH if e["type"] == "string_pattern_mismatch" else e["msg"]} for e in errors]


def malformed(request: Request, at: Any) -> JSONResponse:
    """A body that is not JSON in UTF-8 (FastAPI's own answers differ by case): one 400, in our words."""
    where = f" (reading stopped at position {at})" if isinstance(at, int) else ""
    message = f"The body could not be read as JSON in UTF-8{where}; send one JSON object, as Content-Type: " \
              "application/json."
    return problem(request_id(request), 400, "malformed_body", message,
                   [{"field": "body", "code": "malformed_body", "problem": message}])


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path, asked of each route (FastAPI nests included routers, and
    Starlette names only the first route's methods)."""
    routes = request.app.router.routes
    return ", ".join(m for m in METHODS if any(r.matches({**request.scope, "method": m})[0] == Match.FULL
                                               for r in routes))


def unexpected(error: Exception, rid: str, path: str) -> JSONResponse:
    """PostgreSQL or Kafka away: 503 and a delay; anything else: 500, the traceback only in the log."""
    if backend_away(error):
        log.warning("backing service unavailable", extra={"request_id": rid, "path": path,
                                                          "error": type(error).__name__})
        return problem(rid, 503, "service_unavailable", "numport cannot reach its database or event log right now; "
                       f"try again in {RETRY_SECONDS} s.", retry_after=RETRY_SECONDS)
    log.error("unexpected error", exc_info=error, extra={"request_id": rid, "path": path})
    return problem(rid, 500, "internal_error", f"Something went wrong on our side. If it persists, contact "
                   f"support with request id {rid}.")


class RequestIds:
    """ASGI middleware: names every request, stamps X-Request-Id on every answer, and answers for any exception
    that escaped the routes (it sits outside FastAPI's handlers and inside Starlette's bare 500 page)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        sent = Headers(scope=scope).get("x-request-id", "")
        rid = sent if SANE_ID.match(sent) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def stamped(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)["X-Request-Id"] = rid
                HTTP_RESPONSES.labels("gateway", f"{message['status'] // 100}xx").inc()
            await send(message)

        try:
            await self.app(scope, receive, stamped)
        except Exception as error:
            if started:  # half an answer is out; only the connection can tell the caller now
                raise
            await unexpected(error, rid, scope.get("path", ""))(scope, receive, stamped)


def install(api: FastAPI) -> None:
    """The envelope for FastAPI's own errors (validation, unknown route, wrong method) and for ours."""
    api.add_middleware(RequestIds)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        broken = [e for e in error.errors() if e["type"] == "json_invalid"]
        if broken:
            return malformed(request, broken[0]["loc"][-1])
        return problem(request_id(request), 422, "invalid_request", "The request is not valid; see fields.",
                       field_errors(error.errors()))

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 400 and isinstance(error.__cause__, ValueError | RecursionError):  # unreadable body
            return malformed(request, getattr(error.__cause__, "start", None))
        message = {404: "No such resource.", 405: "This resource does not accept that method."}
        detail = error.detail if error.detail and error.detail != _stock(error.status_code) else None
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return problem(request_id(request), error.status_code, CODES.get(error.status_code, "error"),
                       detail or message.get(error.status_code, "The request was refused."), headers=headers)

    @api.exception_handler(ApiProblem)
    async def api_problem(request: Request, error: ApiProblem) -> JSONResponse:
        return problem(request_id(request), error.status, error.code, error.message, error.fields,
                       retry_after=error.retry_after)


def _stock(status: int) -> str:
    """Starlette's default reason phrase, which we replace with our own words."""
    return HTTPStatus(status).phrase
