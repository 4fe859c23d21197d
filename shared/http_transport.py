"""httpx's transport for numport's HTTP clients (Graph API, gateway to services), on asyncio's streams, not anyio's.

Before it hands out a pooled connection, httpcore asks every idle one whether the server closed it. Through anyio that
question is two system calls per connection (`getpeername` to build the socket's attributes, then `poll`), asked on
every request and again when each response is closed: half of the Graph client's CPU, about 0.5 ms a call with 16
pooled connections. On asyncio's streams the event loop already reads every open socket, so a closed one shows as an
ended stream, and the question costs no system call. Everything else (pooling, TLS, timeouts, HTTP/1.1, errors) stays
httpx's and httpcore's: this only supplies the network backend httpcore is built to take.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import urllib.request
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpcore
import httpx

READ_CHUNK = 64 * 1024  # asyncio's stream buffer limit is also 64 KiB
# Every connection opened is kept for the next call (a burst would otherwise open and close connections each time),
# and dropped before the 5 s after which common servers (uvicorn among them) close an idle one: a write sent on a
# connection the server is closing would end with its outcome unknown (see `is_readable`).
KEEPALIVE_SECONDS = 4.0
HAPPY_EYEBALLS_SECONDS = 0.25  # RFC 8305's connection attempt delay: a blackholed IPv6 route costs this, not a timeout


@contextlib.asynccontextmanager
async def _mapped(timeout: float | None, on_timeout: type[Exception], on_error: type[Exception],
                  also: tuple[type[BaseException], ...] = ()) -> AsyncIterator[None]:
    """Run the block within `timeout`; its failures surface as the httpcore errors httpx maps for the caller."""
    try:
        async with asyncio.timeout(timeout):
            yield
    except TimeoutError as exc:
        raise on_timeout(f"no progress within {timeout} s") from exc
    except (OSError, ConnectionError, EOFError, ssl.SSLError, *also) as exc:
        raise on_error(str(exc) or type(exc).__name__) from exc


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection. It reads asyncio's receive buffer (`StreamReader._buffer`, private but unchanged since
    asyncio began) in two places where the public API falls short: to answer whether an idle connection has anything
    to read, and to hand over bytes received before a reset, which `StreamReader.read` would drop for the error."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not isinstance(getattr(reader, "_buffer", None), bytearray):
            writer.transport.abort()
            raise RuntimeError("asyncio's StreamReader no longer keeps a _buffer; shared/http_transport.py needs "
                               "updating for this Python")
        self._reader, self._writer = reader, writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        buffered: bytearray = self._reader._buffer  # type: ignore[attr-defined]
        if buffered and self._reader.exception() is not None:  # the answer arrived whole before the connection broke
            data = bytes(buffered[:min(max_bytes, READ_CHUNK)])
            del buffered[:len(data)]
            return data
        async with _mapped(timeout, httpcore.ReadTimeout, httpcore.ReadError):
            return await self._reader.read(min(max_bytes, READ_CHUNK))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        async with _mapped(timeout, httpcore.WriteTimeout, httpcore.WriteError):
            self._writer.write(buffer)
            await self._writer.drain()

    async def aclose(self) -> None:
        """Drop the connection at once, as anyio's backend does: no TLS close_notify round trip and no wait for
        unsent bytes, either of which a peer that stopped answering would make the caller sit out."""
        self._writer.transport.abort()
        await asyncio.sleep(0)  # connection_lost runs and the socket is closed before this returns

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        async with _mapped(timeout, httpcore.ConnectTimeout, httpcore.ConnectError):
            await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # An idle HTTP/1.1 connection has nothing to read. Whatever the server sent since (a 408, a TLS alert) or
            # its close has already been taken in by the loop: bytes, an end, an error. One residue: a close that
            # lands while this task runs without yielding is seen only by the next request, which then fails as
            # connection trouble; pooled connections expire before their servers' idle limits to keep that rare.
            reader = self._reader
            return (bool(reader._buffer) or reader.at_eof()  # type: ignore[attr-defined]
                    or reader.exception() is not None or self._writer.is_closing())
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        async with _mapped(timeout, httpcore.ConnectTimeout, httpcore.ConnectError, also=(UnicodeError,)):
            reader, writer = await asyncio.open_connection(  # both address families raced, as anyio does
                host, port, local_addr=(local_address, 0) if local_address else None, limit=READ_CHUNK,
                happy_eyeballs_delay=HAPPY_EYEBALLS_SECONDS)
            _apply(writer, socket_options)
        return AsyncioStream(reader, writer)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        async with _mapped(timeout, httpcore.ConnectTimeout, httpcore.ConnectError):
            reader, writer = await asyncio.open_unix_connection(path, limit=READ_CHUNK)
            _apply(writer, socket_options)
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _apply(writer: asyncio.StreamWriter, options: Iterable[Any] | None) -> None:
    """Set the socket options; if one fails, drop the connection (the error surfaces as a connect error)."""
    sock: socket.socket | None = writer.get_extra_info("socket")
    try:
        for option in options or ():
            if sock is not None:
                sock.setsockopt(*option)
    except OSError:
        writer.transport.abort()
        raise


class AsyncioTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport with the asyncio backend in its connection pool."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        pool = getattr(self, "_pool", None)
        if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
            # httpx or httpcore changed how the pool is kept: fail at start-up rather than run on another backend
            raise RuntimeError("httpx's transport no longer keeps an httpcore pool with a network backend; "
                               "shared.http_transport.py needs updating for this httpx version")
        pool._network_backend = AsyncioBackend()


def connections(most: int, idle: int | None = None) -> httpx.Limits:
    """At most `most` connections, `idle` of them (default: all) kept open between calls for KEEPALIVE_SECONDS."""
    return httpx.Limits(max_connections=most, max_keepalive_connections=most if idle is None else idle,
                        keepalive_expiry=KEEPALIVE_SECONDS)


BETWEEN_SERVICES = connections(100, idle=20)  # httpx's default numbers, pooled for less than uvicorn keeps one idle


def transport_for(url: str, **options: Any) -> httpx.AsyncBaseTransport | None:
    """The transport for a client of `url`: ours, unless the environment names a proxy for its scheme. httpx mounts
    proxies from the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, with NO_PROXY) only for a client given no
    transport, so then this returns None and httpx routes as it always did, on its default backend."""
    proxies = urllib.request.getproxies_environment()
    if proxies.get(httpx.URL(url).scheme) or proxies.get("all"):
        return None
    return AsyncioTransport(**options)


def client(base_url: str, limits: httpx.Limits, transport: httpx.AsyncBaseTransport | None = None,
           **options: Any) -> httpx.AsyncClient:
    """An httpx client of `base_url` on `transport_for` it (or on `transport`, in tests), with `limits` on whichever
    transport carries its calls."""
    return httpx.AsyncClient(base_url=base_url, limits=limits,
                             transport=transport or transport_for(base_url, limits=limits), **options)
