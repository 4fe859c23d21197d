"""A running gateway (as an OS process) with two partners, over the session's Kafka, PostgreSQL and sandbox."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

import httpx

from deploy.local.processes import NUMPORT, ServiceProcess
from services.gateway.partners import create_partners_at


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
    key_a, key_b = await create_partners_at(env["NUMPORT_DATABASE_URL"], "partner-a", "partner-b")
    gateway = ServiceProcess("gateway", env).start()
    gateway.wait_ready()
    return Stack(gateway, key_a, key_b)


REQUEST = {
    "phone_number": "+55 11 98765-4321", "business_id": "100000000000001", "destination_waba_id": "200000000000002",
    "flow": "programmatic", "source": "bsp_cloud_api", "source_waba_id": "200000000000001",
    "admin_access_confirmed": True,
}


@dataclass
class Services:
    """precheck, registration, templates, billing and gateway as processes, with a partner key and a clock to move."""

    processes: dict[str, ServiceProcess]
    key: str
    clock_file: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.processes['gateway'].port}"

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30)

    def advance_clock(self, seconds: float) -> None:
        with open(self.clock_file) as handle:
            offset = float(handle.read() or 0)
        with open(self.clock_file, "w") as handle:
            handle.write(str(offset + seconds))

    def logs(self) -> str:
        return "\n".join(p.logs() for p in self.processes.values())

    def stop(self) -> None:
        for process in self.processes.values():
            if process.process and process.process.poll() is None:
                process.terminate()


async def start_services(env: dict[str, str], clock_file: str, **registration_env: str) -> Services:
    [key] = await create_partners_at(env["NUMPORT_DATABASE_URL"], "partner-a")
    env = {**env, "NUMPORT_CLOCK_OFFSET_FILE": clock_file}
    registration = ServiceProcess("registration", {**env, **registration_env}).start()
    partner_change = ServiceProcess("partner_change", env).start()
    gateway = ServiceProcess("gateway", {**env, "NUMPORT_REGISTRATION_URL": f"http://127.0.0.1:{registration.port}",
                                         "NUMPORT_PARTNER_CHANGE_URL": f"http://127.0.0.1:{partner_change.port}"})
    processes = {"precheck": ServiceProcess("precheck", env).start(), "registration": registration,
                 "templates": ServiceProcess("templates", env).start(),
                 "billing": ServiceProcess("billing", env).start(), "partner_change": partner_change,
                 "gateway": gateway.start()}
    for process in processes.values():
        process.wait_ready()
    return Services(processes, key, clock_file)
