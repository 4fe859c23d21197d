"""The sandbox as one ASGI app: Graph routes under /{version}/…, the admin API under /_sandbox, writes logged."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from starlette.types import ASGIApp

from sandbox import admin, departures, graph_numbers, graph_solutions, graph_templates, graph_wabas
from sandbox.faults import Faults
from sandbox.fields import UnknownFields
from sandbox.http import graph_error, unknown_fields
from sandbox.state import World
from sandbox.webhooks import Webhooks
from sandbox.write_layer import WriteLayer, quiet_drops

VERSION = re.compile(r"^/v[0-9]+\.[0-9]+/")


class Sandbox(FastAPI):
    """FastAPI with the write layer outermost, where it can cut a connection instead of answering."""

    def build_middleware_stack(self) -> ASGIApp:
        return WriteLayer(super().build_middleware_stack(), self.state.world, self.state.faults)


def create_app(world: World | None = None, hooks: Webhooks | None = None, faults: Faults | None = None) -> FastAPI:
    world, hooks, faults = world or World(), hooks or Webhooks(), faults or Faults()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with quiet_drops():
            yield
        faults.abandon()
        await hooks.stop()

    app = Sandbox(title="numport Graph API sandbox", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.world, app.state.hooks, app.state.faults = world, hooks, faults
    app.add_exception_handler(UnknownFields, unknown_fields)

    @app.middleware("http")
    async def like_meta(request: Request, call_next: Any) -> Any:
        path = request.url.path
        if path.startswith(admin.PREFIX):
            return await call_next(request)
        if not VERSION.match(path):
            return graph_error(400, 100, "Unknown path components: the API version must look like v23.0")
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return graph_error(401, 104, "An access token is required to request this resource.")
        if (failure := await faults.apply()) is not None:
            world.calls.append((request.method, path, failure.status_code))
            return failure
        response = await call_next(request)
        world.calls.append((request.method, path, response.status_code))
        return response

    app.include_router(admin.router(world, hooks, faults))
    app.include_router(departures.router(world, hooks))
    app.include_router(graph_numbers.router(world, hooks))
    app.include_router(graph_wabas.router(world, hooks))
    app.include_router(graph_templates.router(world, hooks))
    app.include_router(graph_solutions.router(world, hooks))
    return app
