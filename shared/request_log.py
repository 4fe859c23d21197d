"""Per API request: one JSON line (route, status, duration, partner, request id, migration), one span that
continues the caller's trace, and its latency; every line logged meanwhile carries the migration's correlation id."""

from __future__ import annotations

import logging
import re
import time
from contextvars import ContextVar
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import tracing
from shared.logging import bound
from shared.metrics import HTTP_SECONDS

log = logging.getLogger("numport.http")
MIGRATION_IN_PATH = re.compile(r"/migrations/([0-9a-fA-F-]{36})(?:[/:]|$)")
_notes: ContextVar[dict[str, Any] | None] = ContextVar("numport_request_notes", default=None)


def note(**fields: Any) -> None:
    """Tell the request being answered what it should log, e.g. the migration it started; no-op outside one."""
    notes = _notes.get()
    if notes is not None:
        notes.update(fields)


def route_of(scope: Scope) -> str:
    """The route's template (`/v1/migrations/{migration_id}`), so ids never become label values."""
    route = scope.get("route")
    return getattr(route, "path_format", None) or getattr(route, "path", None) or "unmatched"


class RequestLog:
    """ASGI middleware around a service's API (never the probes: a kubelet polls those every few seconds)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers, started, answer = Headers(scope=scope), time.perf_counter(), {"status": 500}
        notes: dict[str, Any] = {}
        if found := MIGRATION_IN_PATH.search(scope.get("path", "")):
            notes["correlation_id"] = found.group(1).lower()

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            await send(message)

        token = _notes.set(notes)
        try:
            with bound(**notes), tracing.span(f"{scope['method']} {scope.get('path', '')}", tracing.SERVER,
                                              tracing.parent(headers.get("traceparent"))) as span:
                try:
                    await self.app(scope, receive, watched)
                finally:
                    route = route_of(scope)
                    span.update_name(f"{scope['method']} {route}")
                    fields = self._fields(scope, headers, route, answer["status"], time.perf_counter() - started)
                    span.set_attributes({f"numport.{k}": v for k, v in {**fields, **notes}.items()})
                    level = logging.WARNING if answer["status"] >= 500 else logging.INFO
                    log.log(level, "request answered", extra={**fields, **notes})
        finally:
            _notes.reset(token)

    def _fields(self, scope: Scope, headers: Headers, route: str, status: int, seconds: float) -> dict[str, Any]:
        HTTP_SECONDS.labels(self.service, scope["method"], route, str(status)).observe(seconds)
        state = scope.get("state") or {}
        found = {"method": scope["method"], "route": route, "status": status,
                 "duration_ms": round(seconds * 1000, 1), "request_id": state.get("request_id")
                 or headers.get("x-request-id", "")[:128] or None, "partner_id": state.get("partner_id")}
        return {k: v for k, v in found.items() if v is not None}
