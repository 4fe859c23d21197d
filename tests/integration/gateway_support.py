"""A running gateway (as an OS process) with two partners, over the session's Kafka, PostgreSQL and sandbox."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

import httpx

from deploy.local.processes import NUMPORT, ServiceProcess


@dataclass
class Stack:
    gateway: ServiceProcess
    key_a: str
    key_b: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.port}"

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)


def create_partner_with_cli(env: dict[str, str], partner_id: str) -> str:
    made = subprocess.run([NUMPORT, "partner", "create", partner_id, "--name", partner_id.title()],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


async def start_gateway(env: dict[str, str]) -> Stack:
    from services.gateway.main import SPEC
    from services.gateway.partners import create_partner
    from shared import db

    pool = await db.open_pool(env["NUMPORT_DATABASE_URL"], SPEC.name, SPEC.migrations, 2)
    try:
        key_a, key_b = [await create_partner(pool, p, p.title()) for p in ("partner-a", "partner-b")]
    finally:
        await pool.close()
    gateway = ServiceProcess("gateway", env).start()
    gateway.wait_ready()
    return Stack(gateway, key_a, key_b)


REQUEST = {
    "phone_number": "+55 11 98765-4321", "business_id": "100000000000001", "destination_waba_id": "200000000000002",
    "flow": "programmatic", "source": "bsp_cloud_api", "source_waba_id": "200000000000001",
    "admin_access_confirmed": True,
}
