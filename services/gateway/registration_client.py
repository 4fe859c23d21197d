"""The gateway's client of registration's internal API: codes and keys go there directly, never over Kafka."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from shared import http_transport
from shared.http_transport import BETWEEN_SERVICES
from shared.outages import retry_seconds

ANSWERS = (200, 410)  # registration's own verdicts; anything else means it could not do the work
PASSED_ON = ("meta_busy", "service_unavailable")  # 503 codes of registration the partner can act on


class RegistrationUnavailable(Exception):
    """Registration could not act now: unreachable, Meta busy, or its database away; worth retrying later."""

    def __init__(self, code: str, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)  # for the log; the partner reads our own words from the gateway
        self.code, self.retry_after = code, retry_after or retry_seconds(None)


def _retry_after(response: httpx.Response) -> int:
    try:
        return retry_seconds(float(response.headers.get("retry-after", "")))
    except ValueError:
        return retry_seconds(None)


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:  # a proxy's or a crashed worker's text page
        return None
    return body if isinstance(body, dict) else None


def _verdict(response: httpx.Response) -> dict[str, Any]:
    body = _json(response)
    if response.status_code == 503 and body is not None:
        code = (body.get("error") or {}).get("code") if isinstance(body.get("error"), dict) else None
        raise RegistrationUnavailable(code if code in PASSED_ON else "registration_unavailable",
                                      f"registration is busy ({code})", _retry_after(response))
    if response.status_code not in ANSWERS or body is None:
        kind = response.headers.get("content-type", "no type")
        raise RegistrationUnavailable("registration_unavailable",
                                      f"registration answered HTTP {response.status_code} ({kind})",
                                      _retry_after(response))
    return body


class RegistrationClient:
    def __init__(self, base_url: str, token: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = http_transport.client(base_url.rstrip("/"), BETWEEN_SERVICES, transport, timeout=60,
                                           headers={"X-Numport-Internal-Token": token})

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            response = await self._http.post(path, json=body)
        except httpx.HTTPError as error:
            raise RegistrationUnavailable("registration_unavailable",
                                          f"registration service unreachable ({type(error).__name__})") from None
        return response.status_code, _verdict(response)

    async def submit_code(self, migration_id: uuid.UUID, partner_id: str, code: str) -> dict[str, Any]:
        return (await self._post(f"/internal/migrations/{migration_id}/verification-code",
                                 {"partner_id": partner_id, "code": code}))[1]

    async def resend_code(self, migration_id: uuid.UUID, partner_id: str, method: str) -> dict[str, Any]:
        return (await self._post(f"/internal/migrations/{migration_id}/verification-code:resend",
                                 {"partner_id": partner_id, "method": method}))[1]

    async def reveal_api_key(self, migration_id: uuid.UUID, partner_id: str) -> str | None:
        status, body = await self._post(f"/internal/migrations/{migration_id}/api-key:reveal",
                                        {"partner_id": partner_id})
        return body.get("api_key") if status == 200 else None
