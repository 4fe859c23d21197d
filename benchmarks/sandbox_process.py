"""The Graph sandbox in a process of its own, so its CPU is neither the harness's nor any service's.

Besides the admin API it answers `/_sandbox/bench/codes`: every code 'delivered' so far, in one request, so the harness
plays the customers without asking the gateway (which would add the harness's load to the gateway's bill).
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from deploy.local.ports import free_port, wait_until


def _serve(scenario: dict[str, Any], port: int, webhook_url: str, app_secret: str) -> None:
    import uvicorn

    from sandbox.app import create_app
    from sandbox.faults import Faults
    from sandbox.state import World
    from sandbox.webhooks import Webhooks

    world = World()
    world.load(scenario)
    app = create_app(world, Webhooks(url=webhook_url, app_secret=app_secret), Faults())

    @app.get("/_sandbox/bench/codes")
    async def codes() -> dict[str, str]:
        return {number: code.value for number, code in world.codes.items()}

    @app.get("/_sandbox/bench/calls")
    async def calls() -> dict[str, int]:
        return {"calls": len(world.calls), "gets": sum(1 for method, _, _ in world.calls if method == "GET")}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


class SandboxProcess:
    def __init__(self, scenario: dict[str, Any], webhook_url: str, app_secret: str) -> None:
        self.port = free_port()
        self.process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(scenario, self.port, webhook_url, app_secret), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> SandboxProcess:
        import httpx

        self.process.start()

        def up() -> bool:
            try:
                return httpx.get(f"{self.url}/_sandbox/bench/calls", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, 60.0, "sandbox process")
        return self

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.join(10)
