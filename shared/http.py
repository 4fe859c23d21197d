"""Liveness, readiness and Prometheus metrics over HTTP, and a small helper to serve an ASGI app in-process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger("numport.http")


class Probes:
    def __init__(self, service: str, pool: asyncpg.Pool, broker: Any, relay: Any,
                 stuck: Callable[[], list[dict[str, Any]]] = list,
                 scrape: Sequence[Callable[[], Awaitable[None]]] = ()) -> None:
        self.service, self.pool, self.broker, self.relay, self.stuck = service, pool, broker, relay, stuck
        self.scrape = scrape  # metrics read from the service's own tables, refreshed for each scrape

    async def ready(self) -> dict[str, bool]:
        checks = {"database": False, "kafka": False}
        with contextlib.suppress(Exception):
            checks["database"] = await asyncio.wait_for(self.pool.fetchval("SELECT true"), 2.0)
        with contextlib.suppress(Exception):
            checks["kafka"] = bool(await asyncio.wait_for(self.broker.ping(timeout=2.0), 3.0))
        return checks

    def app(self) -> FastAPI:
        # numport's request log makes the one span per API request; FastAPI's own telemetry would add a second one,
        # and one for every probe. Excluding every request here keeps the mounted APIs from adding theirs too.
        app = FastAPI(title=f"numport {self.service} probes", docs_url=None, redoc_url=None, openapi_url=None,
                      telemetry={"exclude": lambda scope: True})

        @app.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok", "service": self.service}

        @app.get("/readyz")
        async def readyz(response: Response) -> dict[str, Any]:
            checks, stuck = await self.ready(), self.stuck()  # stuck: partitions failing on one offset too long
            ready = all(checks.values()) and not stuck
            response.status_code = 200 if ready else 503
            return {"ready": ready, "service": self.service, "checks": checks, **({"stuck": stuck} if stuck else {})}

        @app.get("/metrics")
        async def metrics() -> Response:
            for refresh in self.scrape:
                try:
                    await asyncio.wait_for(refresh(), 5.0)
                except Exception as error:  # a database away must not hide every other metric
                    log.warning("metrics from the service's tables not refreshed", extra={"error": repr(error)})
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

        return app


class _QuietServer(uvicorn.Server):
    """Leaves SIGTERM/SIGINT to the service, which shuts everything down in order, and ticks once a second.

    uvicorn's own loop wakes ten times a second to refresh the Date header (once a second) and see whether to stop;
    an idle service paid those wake-ups all day. Stopping wakes it at once instead."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stopping = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def main_loop(self) -> None:
        ticks = 0
        while not await self.on_tick(ticks):  # a multiple of 10: the tick that refreshes the Date header
            ticks += 10
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), 1.0)


@contextlib.asynccontextmanager
async def serve(app: Any, host: str, port: int) -> AsyncIterator[int]:
    """Run uvicorn inside the current loop; yields the bound port (useful when port=0)."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off")
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(), name="http")
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield bound
    finally:
        server.should_exit = True
        server.stopping.set()
        await task
