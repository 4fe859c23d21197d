"""The gateway's client of partner change's internal API: it names the caller, and passes the service's verdicts on.

A refusal (403, 404, 409, 422) comes back in our envelope with its code and field; anything else means the service
could not answer, which the caller may simply retry.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from services.gateway.callers import Caller
from services.gateway.problems import ApiProblem
from shared import http_transport
from shared.http_transport import BETWEEN_SERVICES
from shared.outages import RETRY_SECONDS
from shared.parties import HEADER

log = logging.getLogger("numport.gateway")
VERDICTS = (403, 404, 409, 422)


def unavailable(reason: str) -> ApiProblem:
    log.warning("partner change could not answer", extra={"reason": reason})
    return ApiProblem(503, "partner_change_unavailable", f"The partner-change service is not answering; try again "
                                                         f"in {RETRY_SECONDS} s.", retry_after=RETRY_SECONDS)


def _verdict(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise unavailable(f"HTTP {response.status_code} without a JSON object")
    if response.status_code == 200:
        return body
    error = body.get("error") if isinstance(body.get("error"), dict) else None
    if response.status_code in VERDICTS and error:
        raise ApiProblem(response.status_code, str(error.get("code")), str(error.get("message")),
                         field=error.get("field"))
    raise unavailable(f"HTTP {response.status_code}")


class PartnerChangeClient:
    def __init__(self, base_url: str, token: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = http_transport.client(base_url.rstrip("/"), BETWEEN_SERVICES, transport, timeout=30,
                                           headers={"X-Numport-Internal-Token": token})

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(self, method: str, path: str, caller: Caller, body: dict[str, Any] | None = None,
                   idempotency_key: str | None = None) -> dict[str, Any]:
        headers = {HEADER: caller.header}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = await self._http.request(method, f"/internal{path}", json=body, headers=headers)
        except httpx.HTTPError as error:
            raise unavailable(type(error).__name__) from None
        return _verdict(response)
