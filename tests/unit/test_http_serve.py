"""The probes' server answers with a Date header, wakes about once a second when idle, and stops at once."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import FastAPI

from shared import http


async def test_an_idle_server_ticks_once_a_second_and_stops_without_waiting_for_the_tick(monkeypatch) -> None:
    ticks: list[int] = []
    original = http._QuietServer.on_tick

    async def counted(self, counter: int) -> bool:
        ticks.append(counter)
        return await original(self, counter)

    monkeypatch.setattr(http._QuietServer, "on_tick", counted)
    app = FastAPI()
    app.get("/ping")(lambda: {"ok": True})
    async with http.serve(app, "127.0.0.1", 0) as port:
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{port}/ping")
        assert answer.json() == {"ok": True} and answer.headers["date"].endswith("GMT")
        await asyncio.sleep(2.2)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 0.5
    assert 2 <= len(ticks) <= 5, ticks  # uvicorn's own loop ticks ten times a second (22 here)
    assert all(t % 10 == 0 for t in ticks)  # each one refreshes the Date header
