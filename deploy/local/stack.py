"""numport running locally for real: Kafka, PostgreSQL, the Graph sandbox, every service, and a partner key.

The demo, `numport stack` and the benchmarks all start it the same way and stop everything they started.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from deploy.local import infra, kafkaio, logs
from deploy.local.processes import ServiceProcess, ThreadedServer
from sandbox.app import create_app
from sandbox.faults import Faults
from sandbox.state import World, read_scenario
from sandbox.webhooks import Webhooks
from services.gateway.partners import create_partners_at
from shared.secrets import new_encryption_key

# registration and partner_change before the gateway: it needs their addresses
SERVICES = ("precheck", "registration", "templates", "billing", "partner_change", "gateway")
APP_SECRET = "local-stack-app-secret"
VERIFY_TOKEN = "local-stack-verify-token"
BSP_BUSINESS_ID, APP_ID = "100000000000009", "400000000000001"  # "us" in the sandbox scenarios


@dataclass
class LocalStack:
    infra: infra.Infra
    sandbox_url: str
    world: World
    faults: Faults
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    api_key: str = ""
    env: dict[str, str] = field(default_factory=dict)
    log_folder: Path | None = None  # every service's JSON log, <service>.log; `numport logs ID` reads it

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.services['gateway'].port}"

    def service_env(self) -> dict[str, str]:
        env = dict(self.env)
        if "registration" in self.services:
            env["NUMPORT_REGISTRATION_URL"] = f"http://127.0.0.1:{self.services['registration'].port}"
        if "partner_change" in self.services:
            env["NUMPORT_PARTNER_CHANGE_URL"] = f"http://127.0.0.1:{self.services['partner_change'].port}"
        return env


def services_env(kafka: str, database: str, sandbox: str, **overrides: str) -> dict[str, str]:
    """What every numport service needs to run here; each reads its own settings and ignores the rest."""
    return {"NUMPORT_KAFKA_BOOTSTRAP": kafka, "NUMPORT_DATABASE_URL": database, "NUMPORT_GRAPH_BASE_URL": sandbox,
            "NUMPORT_GRAPH_TOKEN": "local-stack-token", "NUMPORT_SECRETS_KEY": new_encryption_key(),
            "NUMPORT_INTERNAL_TOKEN": secrets.token_urlsafe(24), "NUMPORT_BSP_BUSINESS_ID": BSP_BUSINESS_ID,
            "NUMPORT_APP_ID": APP_ID, "NUMPORT_APP_SECRET": APP_SECRET, "NUMPORT_WEBHOOK_VERIFY_TOKEN": VERIFY_TOKEN,
            "NUMPORT_OBO_POLL_SECONDS": "1", "NUMPORT_SCHEDULER_TICK_SECONDS": "0.2",
            **overrides}


def _port_or_free(preferred: int) -> int | None:
    with socket.socket() as probe:
        return preferred if probe.connect_ex(("127.0.0.1", preferred)) != 0 else None


@contextlib.contextmanager
def running(scenario: str | dict = "demo", gateway_port: int = 8080, sandbox_port: int = 8099,
            on: infra.Infra | None = None, **service_settings: str) -> Iterator[LocalStack]:
    """Everything started here is stopped on exit; `on` runs the services on infrastructure already running."""
    with contextlib.nullcontext(on) if on else infra.running() as local:
        asyncio.run(kafkaio.reset(local.kafka_bootstrap))
        world, faults = World(), Faults()
        world.load(read_scenario(scenario) if isinstance(scenario, str) else scenario)
        hooks = Webhooks(app_secret=APP_SECRET)
        with ThreadedServer(create_app(world, hooks, faults), _port_or_free(sandbox_port)) as sandbox:
            stack = LocalStack(local, sandbox.url, world, faults,
                               env=services_env(local.kafka_bootstrap, local.database_url, sandbox.url,
                                                **service_settings), log_folder=logs.new_folder())
            try:
                for name in SERVICES:
                    port = _port_or_free(gateway_port) if name == "gateway" else None
                    stack.services[name] = ServiceProcess(name, stack.service_env(), port, stack.log_folder).start()
                for process in stack.services.values():
                    process.wait_ready()
                hooks.url = f"{stack.api_url}/webhooks/meta"  # the sandbox delivers Meta's webhooks to our gateway
                stack.api_key = asyncio.run(create_partners_at(local.database_url, "local-partner", add_key=True))[0]
                yield stack
            finally:
                for process in stack.services.values():
                    process.terminate()


def serve(scenario: str, gateway_port: int, sandbox_port: int, echo: Callable[[str], None]) -> None:
    """`numport stack`: run until SIGINT or SIGTERM, whether started in a terminal or in the background.

    A shell starts a background job with SIGINT ignored; the handlers are installed explicitly so that Ctrl-C
    (or `kill -INT`) stops it anyway. A signal during start-up aborts it; everything started so far is stopped.
    """
    stop, up = threading.Event(), threading.Event()

    def on_signal(number: int, _frame: object) -> None:
        stop.set()
        if not up.is_set():
            raise KeyboardInterrupt  # unwinds `running`, which stops whatever already started

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, on_signal)
    with contextlib.suppress(KeyboardInterrupt), running(scenario, gateway_port, sandbox_port) as stack:
        up.set()
        echo(ready_text(stack))
        stop.wait()
        echo("numport stack: stopping everything it started")
    echo("numport stack: stopped")


def ready_text(stack: LocalStack) -> str:
    database = stack.infra.database_url
    return (f"numport is running. In another terminal:\n"
            f"  export NUMPORT_API_URL={stack.api_url} NUMPORT_API_KEY={stack.api_key}\n"
            f"  .venv/bin/numport migrate dry-run --phone '+55 11 98765-4321' --business-id 100000000000001 "
            f"--destination-waba-id 200000000000002 --source-waba-id 200000000000001 --admin-access\n"
            f"Database: {database}\n"
            f"  more partners: NUMPORT_DATABASE_URL='{database}' .venv/bin/numport partner create ID --name NAME\n"
            f"Sandbox (Graph + /_sandbox admin): {stack.sandbox_url}\n"
            f"Service logs (JSON lines, one file per service): {stack.log_folder}; "
            f"`numport logs <migration id>` tells one story.\n"
            f"Ctrl-C or SIGTERM stops everything.")
