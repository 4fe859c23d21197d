"""ASGI stand-in for the Graph API endpoints numport reads, with Meta's error envelope and an admin API."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox.state import PhoneNumber, Waba, World, read_scenario

ADMIN = "/_sandbox"


def graph_error(status: int, code: int, message: str, kind: str = "OAuthException", **extra: Any) -> JSONResponse:
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": "sandbox", **extra}
    return JSONResponse({"error": error}, status_code=status)


def select(node: dict[str, Any], fields: str | None, default: tuple[str, ...]) -> dict[str, Any]:
    wanted = [f.split("{")[0].strip() for f in fields.split(",")] if fields else list(default)
    return {k: node[k] for k in ["id", *wanted] if k in node and node[k] is not None}


def number_node(n: PhoneNumber) -> dict[str, Any]:
    return dataclasses.asdict(n)


def waba_node(w: Waba) -> dict[str, Any]:
    node = dataclasses.asdict(w)
    node["owner_business_info"] = {"id": w.business_id}
    if w.on_behalf_of_business_id:
        node["on_behalf_of_business_info"] = {"id": w.on_behalf_of_business_id}
    return node


def create_app(world: World | None = None) -> FastAPI:
    world = world or World()
    app = FastAPI(title="numport Graph API sandbox", docs_url=None, redoc_url=None)
    app.state.world = world

    @app.middleware("http")
    async def bearer_and_call_log(request: Request, call_next: Any) -> Any:
        if not request.url.path.startswith(ADMIN):
            if not request.headers.get("authorization", "").startswith("Bearer "):
                return graph_error(401, 104, "An access token is required to request this resource.")
            world.calls.append((request.method, request.url.path))
        return await call_next(request)

    @app.get("/{version}/{node_id}")
    async def read_node(version: str, node_id: str, fields: str | None = None) -> Any:
        if node_id in world.numbers:
            return select(number_node(world.numbers[node_id]), fields,
                          ("display_phone_number", "verified_name", "quality_rating"))
        if node_id in world.wabas:
            return select(waba_node(world.wabas[node_id]), fields, ("name",))
        if node_id in world.businesses:
            return select(dataclasses.asdict(world.businesses[node_id]), fields, ("name",))
        return graph_error(404, 803, f"Unknown object {node_id}", "GraphMethodException")

    @app.get("/{version}/{waba_id}/phone_numbers")
    async def list_numbers(version: str, waba_id: str, fields: str | None = None) -> Any:
        if waba_id not in world.wabas:
            return graph_error(404, 803, f"Unknown WABA {waba_id}", "GraphMethodException")
        data = [select(number_node(n), fields, ("display_phone_number", "verified_name", "quality_rating"))
                for n in world.numbers_of(waba_id)]
        return {"data": data, "paging": {"cursors": {"before": "", "after": ""}}}

    @app.get("/{version}/{waba_id}/subscribed_apps")
    async def list_subscribed_apps(version: str, waba_id: str) -> Any:
        if waba_id not in world.wabas:
            return graph_error(404, 803, f"Unknown WABA {waba_id}", "GraphMethodException")
        return {"data": [{"whatsapp_business_api_data": app_} for app_ in world.wabas[waba_id].subscribed_apps]}

    @app.post(f"{ADMIN}/scenario")
    async def load_scenario(request: Request) -> Any:
        body = await request.json()
        world.load(read_scenario(body["name"]) if "name" in body else body)
        return {"loaded": True, "numbers": len(world.numbers)}

    @app.get(f"{ADMIN}/calls")
    async def calls() -> Any:
        return {"calls": [list(c) for c in world.calls], "writes": len(world.writes)}

    return app
