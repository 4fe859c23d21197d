"""The demo's last act: the migrated number leaves us again for another BSP (a port-out), end to end.

Our WABA holds the number for the customer, so numport opens a "2FA disable request" ticket; our operations team
switches two-step verification off (here: the sandbox), Meta's security webhook closes the ticket, the new BSP takes
the number, and numport records the instant it left, after which the number's messages are no longer billed to us.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable

import httpx
from rich.console import Console

from deploy.local import stack
from deploy.local.processes import NUMPORT

NEW_BSP_WABA = "200000000000077"


def port_out_cli(local: stack.LocalStack, console: Console, *args: str,
                 show: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NUMPORT_API_URL": local.api_url, "NUMPORT_API_KEY": local.api_key}
    console.print(f"[dim]$ numport port-out {' '.join(args)}[/]")
    done = subprocess.run([NUMPORT, "port-out", *args], env=env, text=True, capture_output=True, check=False)
    if show or done.returncode != 0:
        console.print(done.stdout if done.returncode == 0 else f"[red]{done.stderr}[/]")
    return done


def wait_until(local: stack.LocalStack, port_out_id: str, state: str, timeout: float = 60) -> dict:
    deadline, current = time.monotonic() + timeout, {}
    while time.monotonic() < deadline and current.get("state") != state:
        current = httpx.get(f"{local.api_url}/v1/port-outs/{port_out_id}",
                            headers={"Authorization": f"Bearer {local.api_key}"}).json()
        time.sleep(0.2)
    return current


def run(local: stack.LocalStack, console: Console, step: Callable[[str], None], phone: str, number_id: str) -> bool:
    step(f"9. The customer leaves us for another BSP: a port-out of {phone}")
    started = port_out_cli(local, console, "start", "--phone", phone, "--json", show=False)
    if started.returncode != 0:
        return False
    port_out_id = json.loads(started.stdout)["id"]
    wait_until(local, port_out_id, "awaiting_two_step_off")
    port_out_cli(local, console, "status", port_out_id)
    step("10. Our operations team switches two-step verification off in WhatsApp Manager (here: the sandbox)")
    httpx.post(f"{local.sandbox_url}/_sandbox/numbers/{number_id}/two-step/disable")
    wait_until(local, port_out_id, "awaiting_departure")
    port_out_cli(local, console, "status", port_out_id)
    step("11. The new BSP registers the number on its WABA: numport sees it leave and stops billing it")
    httpx.post(f"{local.sandbox_url}/_sandbox/numbers/{number_id}/leave", json={"waba_id": NEW_BSP_WABA})
    left = wait_until(local, port_out_id, "departed")
    port_out_cli(local, console, "status", port_out_id)
    return left.get("state") == "departed"
