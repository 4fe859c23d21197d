"""httpx client of Meta's Graph API (or the sandbox): typed errors, backoff with jitter, Retry-After honoured.

Reads are retried freely. A write is retried only when Meta certainly did not act on it (throttled, or the
connection never opened); otherwise the caller gets `GraphOutcomeUnknown` and must read Meta's state before
deciding to send it again — a restart must never repeat a side effect blindly.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from shared import http_transport
from shared.errors import PermanentError, TransientError
from shared.graph_calls import Call
from shared.http_transport import connections
from shared.metrics import GRAPH_WABA_CALLS

THROTTLE_CODES = frozenset({4, 17, 32, 613, 80007, 80008, 130429, 131056, 133009})
TRANSIENT_CODES = frozenset({1, 2, 131000, 133004, 133015, 2494100}) | THROTTLE_CODES
# Every connection opened is kept for the next call (shared/http_transport.connections); how many:
# GraphSettings.graph_max_connections.
# A call waits this long at most for a free pooled connection; one that waited in vain never left (PoolTimeout is
# "certainly not applied"), and the wait is part of a write's outcome window.
POOL_WAIT_SECONDS = 5.0




class GraphError(Exception):
    """Meta's error envelope, parsed; never carries the request's token."""

    def __init__(self, status: int, error: dict[str, Any], retry_after: float | None = None) -> None:
        self.status = status
        self.code = int(error.get("code") or 0)
        self.subcode = int(error.get("error_subcode") or 0) or None
        self.error_type = str(error.get("type") or "")
        self.message = str(error.get("message") or "")
        self.details = str((error.get("error_data") or {}).get("details") or "")
        self.fbtrace_id = error.get("fbtrace_id")
        self.is_transient = bool(error.get("is_transient")) or self.code in TRANSIENT_CODES or status >= 500
        super().__init__(f"Graph API error {self.code}"
                         f"{f'/{self.subcode}' if self.subcode else ''} (HTTP {status}): {self.message}")
        self.retry_after = retry_after  # after super(): TransientError.__init__ would reset it

    @property
    def throttled(self) -> bool:
        return self.code in THROTTLE_CODES or self.status == 429


class GraphTransientError(GraphError, TransientError):
    pass


class GraphPermanentError(GraphError, PermanentError):
    pass


class GraphOutcomeUnknown(TransientError):
    """A write may or may not have reached Meta; read the state before trying again."""


class GraphUnreachable(TransientError):
    """The connection never opened: Meta heard nothing."""


def certainly_not_applied(error: BaseException) -> bool:
    """Meta refused before acting (throttled) or never heard of the call: sending it again repeats nothing."""
    return isinstance(error, GraphUnreachable) or (isinstance(error, GraphError) and error.throttled)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def parse_error(response: httpx.Response) -> GraphError:
    try:
        body = response.json()
        error = body["error"] if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
    except ValueError:
        error = {}
    if not error:
        error = {"message": f"unexpected response body ({response.headers.get('content-type', 'no type')})",
                 "code": 2 if response.status_code >= 500 else 0}
    parsed = GraphError(response.status_code, error, _retry_after(response))
    kind = GraphTransientError if parsed.is_transient else GraphPermanentError
    return kind(response.status_code, error, parsed.retry_after)


class GraphClient:
    def __init__(self, base_url: str, version: str, token: str, *, timeout: float = 10.0, max_attempts: int = 5,
                 backoff: float = 0.5, max_backoff: float = 30.0, transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic, settle_margin: float = 5.0,
                 max_connections: int = 16) -> None:
        self._http = http_transport.client(f"{base_url.rstrip('/')}/{version}", connections(max_connections),
                                           transport, headers={"Authorization": f"Bearer {token}"},
                                           timeout=httpx.Timeout(timeout, pool=min(timeout, POOL_WAIT_SECONDS)))
        self.max_attempts, self.backoff, self.max_backoff, self._sleep = max_attempts, backoff, max_backoff, sleep
        self.timeout, self._clock, self.settle_margin = timeout, clock, settle_margin

    @property
    def write_budget(self) -> float:
        """Seconds within which a write's last attempt starts; throttled writes stop retrying past it."""
        return 2 * self.timeout

    @property
    def outcome_window(self) -> float:
        """How long after a write was first sent Meta may still act on it: the budget, the last attempt's wait for a
        pooled connection and one more timeout for its answer, and a margin for Meta's own processing and our clock."""
        return self.write_budget + min(self.timeout, POOL_WAIT_SECONDS) + self.timeout + self.settle_margin

    @classmethod
    def from_settings(cls, settings: Any) -> GraphClient:
        """The client every service builds from its GraphSettings."""
        return cls(settings.graph_base_url, settings.graph_api_version, settings.graph_token.get_secret_value(),
                   timeout=settings.graph_timeout_seconds, max_attempts=settings.graph_max_attempts,
                   settle_margin=settings.graph_settle_margin_seconds, max_connections=settings.graph_max_connections)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(self, path: str, fields: list[str] | None = None, *, waba: str | None = None,
                  **params: Any) -> dict[str, Any]:
        """`waba`: the WABA the call is about, counted per WABA in /metrics (Meta's rate limits are per WABA)."""
        if fields:
            params["fields"] = ",".join(fields)
        return await self._call("GET", path, idempotent=True, waba=waba, params=params)

    async def post(self, path: str, body: dict[str, Any] | None = None, *, idempotent: bool = False,
                   attempts: int | None = None, waba: str | None = None) -> dict[str, Any]:
        """`attempts=1` for calls a person is waiting on and Meta counts (a code entry): answer at once."""
        return await self._call("POST", path, idempotent=idempotent, attempts=attempts, waba=waba, json=body or {})

    async def _call(self, method: str, path: str, *, idempotent: bool, attempts: int | None = None,
                    waba: str | None = None, **kwargs: Any) -> dict[str, Any]:
        limit, started = attempts or self.max_attempts, self._clock()
        for attempt in range(1, limit + 1):
            if waba:
                GRAPH_WABA_CALLS.labels(waba, method).inc()
            with Call(method, path, attempt) as call:
                answer, error = await self._request(call, method, path, idempotent, kwargs)
                if error is None:
                    return answer
                delay = error.retry_after if error.retry_after is not None else self._backoff(attempt)
                if attempt == limit or (not idempotent and self._clock() - started + delay > self.write_budget):
                    raise error  # a write must settle inside its outcome window, or a restart could not reason
                call.outcome, call.retry_in = "retried", delay
            await self._sleep(delay)
        raise AssertionError("unreachable")

    async def _request(self, call: Call, method: str, path: str, idempotent: bool,
                       kwargs: dict[str, Any]) -> tuple[dict[str, Any], None] | tuple[None, TransientError]:
        """One attempt: Meta's answer, or the error worth retrying; raises what must not be retried."""
        try:
            response = await self._http.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return None, GraphUnreachable(f"Graph API unreachable: {type(exc).__name__}")
        except httpx.TransportError as exc:
            if not idempotent:
                call.outcome = "unknown"
                raise GraphOutcomeUnknown(f"{method} {path}: connection lost after sending "
                                          f"({type(exc).__name__})") from None
            return None, TransientError(f"Graph API transport error: {type(exc).__name__}")
        call.status = response.status_code
        if response.is_success:
            call.outcome = "ok"
            return (response.json() if response.content else {}), None
        error = parse_error(response)
        call.meta_error, call.fbtrace_id = error.code, error.fbtrace_id
        if isinstance(error, GraphPermanentError):
            call.outcome = "permanent"
            raise error
        if not idempotent and not error.throttled:
            call.outcome = "unknown"
            raise GraphOutcomeUnknown(f"{method} {path}: {error}") from error
        return None, error  # type: ignore[return-value] - a transient GraphError

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform over [0, base * 2^(attempt-1)], capped."""
        return random.uniform(0, min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))
