"""The gateway's client of registration's internal API: codes and keys go there directly, never over Kafka."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


class RegistrationUnavailable(Exception):
    pass


class RegistrationClient:
    def __init__(self, base_url: str, token: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=60, transport=transport,
                                       headers={"X-Numport-Internal-Token": token})

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            response = await self._http.post(path, json=body)
        except httpx.HTTPError as error:
            raise RegistrationUnavailable(f"registration service unreachable ({type(error).__name__})") from None
        return response.status_code, response.json() if response.content else {}

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
