"""The sandbox's outermost layer: every Graph write is named, logged, and put through its injected fault.

It sits outside Starlette's error handling because only there can it cut a connection: uvicorn answers 500 for an
exception raised before a response starts, and closes the connection for one raised after.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import httpx
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.faults import Faults, WriteFault, failure_after_apply
from sandbox.http import params
from sandbox.operations import NEEDS_BODY, operation_of, target_of
from sandbox.request_log import CLIENT_GONE, DROPPED, WriteRecord
from sandbox.state import World


class ConnectionDropped(httpx.RemoteProtocolError):
    """Cut on purpose. A client in-process (httpx.ASGITransport) gets it as is: the error a socket would give."""


class WriteLayer:
    def __init__(self, app: ASGIApp, world: World, faults: Faults) -> None:
        self.app, self.world, self.faults = app, world, faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        named = operation_of(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if named is None:
            return await self.app(scope, receive, send)
        body = await _whole_body(receive)
        if body is None:
            return  # the client left before its request was complete: Meta never received it
        operation, node = named
        fault = self.faults.pick(operation)
        target = target_of(operation, node, await _params(scope, body) if operation in NEEDS_BODY else {}, self.world)
        record = WriteRecord(operation, scope["path"], target, self.world.now(), fault.mode if fault else None)
        self.world.requests.append(record)
        if fault is not None and fault.mode == "reset":
            return await _drop(send, record)
        gone = asyncio.ensure_future(receive())  # after a whole body, the next message is the client leaving
        try:
            await self._apply_and_answer(scope, body, send, record, fault, gone)
        finally:
            gone.cancel()

    async def _apply_and_answer(self, scope: Scope, body: bytes, send: Send, record: WriteRecord,
                                fault: WriteFault | None, gone: asyncio.Future[Message]) -> None:
        mode = fault.mode if fault else None
        applying = self.faults.keep(self._apply(scope, body, record, fault.seconds if mode == "slow_apply" else 0))
        try:
            answer = await asyncio.shield(applying)
        except asyncio.CancelledError:
            if applying.cancelled():  # abandoned by a sandbox reset, not by this request
                return await _drop(send, record)
            raise
        if fault is not None and mode == "lost_answer":
            if not fault.seconds:
                return await _drop(send, record)
            await asyncio.sleep(fault.seconds)
        if fault is not None and mode == "error_after_apply":
            answer = _messages(failure_after_apply(fault.status))
        record.answered = CLIENT_GONE if gone.done() else answer[0]["status"]
        for message in answer:
            await send(message)

    async def _apply(self, scope: Scope, body: bytes, record: WriteRecord, delay: float) -> list[Message]:
        """Meta carries the write out (after `delay`), whether or not anyone is still waiting for the answer."""
        await asyncio.sleep(delay)
        answer: list[Message] = []
        finished = asyncio.Event()

        async def capture(message: Message) -> None:
            answer.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                finished.set()

        await self.app(scope, _replay(body, finished), capture)
        record.outcome = answer[0]["status"]
        if 200 <= record.outcome < 300:
            record.applied_at = self.world.now()
        return answer


async def _whole_body(receive: Receive) -> bytes | None:
    chunks = []
    while (message := await receive())["type"] != "http.disconnect":
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)
    return None


def _replay(body: bytes, finished: asyncio.Event) -> Receive:
    """The request again, for a handler that may run after its client left; then 'disconnect' once answered."""
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    return receive


async def _params(scope: Scope, body: bytes) -> dict[str, Any]:
    try:
        return await params(Request(scope, _replay(body, asyncio.Event())))
    except ValueError:
        return {}  # unreadable parameters: the handler answers that; the target falls back to the path


def _messages(response: Any) -> list[Message]:
    return [{"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers},
            {"type": "http.response.body", "body": response.body}]


async def _drop(send: Send, record: WriteRecord) -> None:
    record.answered = DROPPED
    # A status line promising a body that never comes, then the exception: the server closes the connection.
    await send({"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"1")]})
    raise ConnectionDropped(f"{record.operation} on {record.target}: connection cut by an injected fault")


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


@contextlib.contextmanager
def quiet_drops() -> Iterator[None]:
    """Keep uvicorn from logging each injected drop as a crash of the application."""
    quiet, server_log = _QuietDrops(), logging.getLogger("uvicorn.error")
    server_log.addFilter(quiet)
    try:
        yield
    finally:
        server_log.removeFilter(quiet)
