"""The Graph client's transport on asyncio streams, against a real local HTTP/1.1 server: connections are reused,
one the server closed is not, failures map to httpx's errors, and TLS works."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import socket
import ssl
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.http_transport import AsyncioStream, AsyncioTransport, connections, transport_for

BODY = b'{"id": "1"}'


class Server:
    """Answers every request with BODY, keeping the connection open unless told to close it or to stall."""

    def __init__(self) -> None:
        self.connections = 0
        self.close_after_answer = False
        self.stall = False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                if self.stall:
                    await asyncio.sleep(5)
                writer.write(answer(BODY))
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def served() -> AsyncIterator[tuple[Server, str]]:
    server = Server()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        listening.close()


def client(url: str, timeout: float = 5.0, **options: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, timeout=timeout,
                             transport=AsyncioTransport(limits=connections(4), **options))  # type: ignore[arg-type]


async def test_requests_reuse_one_connection_and_use_the_asyncio_stream(served: tuple[Server, str]) -> None:
    server, url = served
    async with client(url) as http:
        for _ in range(3):
            response = await http.get("/x")
            assert response.json() == {"id": "1"}
        assert isinstance(response.extensions["network_stream"], AsyncioStream)
    assert server.connections == 1


async def test_a_connection_the_server_closed_is_not_reused(served: tuple[Server, str]) -> None:
    server, url = served
    server.close_after_answer = True  # no "Connection: close": the client learns it only from the socket
    async with client(url) as http:
        for _ in range(3):
            assert (await http.get("/x")).status_code == 200
            await asyncio.sleep(0.05)  # the close reaches the client's loop, as an idle timeout would long before
    assert server.connections == 3


async def test_a_stalled_answer_is_a_read_timeout(served: tuple[Server, str]) -> None:
    server, url = served
    server.stall = True
    async with client(url, timeout=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/x")


async def test_a_refused_connection_is_a_connect_error(unused_tcp_port: int) -> None:
    async with client(f"http://127.0.0.1:{unused_tcp_port}") as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/x")


async def test_tls_is_negotiated_and_verified(served: tuple[Server, str], tmp_path: Path) -> None:
    server, _ = served
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=context)
    url = f"https://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
    try:
        async with client(url, verify=ssl.create_default_context(cafile=str(cert))) as http:
            response = await http.get("/x")
            assert response.json() == {"id": "1"}
            assert response.extensions["network_stream"].get_extra_info("ssl_object") is not None
        async with client(url) as untrusting:  # the system's CAs do not know this certificate
            with pytest.raises(httpx.ConnectError):
                await untrusting.get("/x")
    finally:
        listening.close()


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=1))
                   .not_valid_after(now + datetime.timedelta(hours=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def test_an_idle_connection_with_unasked_bytes_is_not_reused() -> None:
    """A server that sent something on an idle connection (here a 408, connection kept open) has made it unusable:
    the next request must not read that as its answer."""
    opened = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal opened
        opened += 1
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer(b"fresh"))
            await writer.drain()
            if opened == 1:
                await asyncio.sleep(0.05)  # once the client holds the connection idle
                writer.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 5\r\n\r\nstale")
                await writer.drain()
            await reader.readuntil(b"\r\n\r\n")  # a second request would be answered by the 408 above
            writer.write(answer(b"fresh"))
            await writer.drain()
            await asyncio.sleep(1)

    listening = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        async with client(f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}") as http:
            assert (await http.get("/x")).content == b"fresh"
            await asyncio.sleep(0.2)
            second = await http.post("/x", content=b"write")
            assert (second.status_code, second.content, opened) == (200, b"fresh", 2)
    finally:
        listening.close()


async def test_an_answer_received_whole_survives_a_reset_after_it() -> None:
    body = b"b" * (1 << 20)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer(body))
        await writer.drain()
        await asyncio.sleep(0.05)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        writer.transport.abort()

    listening = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        async with client(f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}") as http:
            got = b""
            async with http.stream("GET", "/x") as response:
                async for chunk in response.aiter_raw():
                    got += chunk
                    await asyncio.sleep(0.01)  # read slower than it arrives: the reset lands mid-read
            assert got == body
    finally:
        listening.close()


async def test_closing_a_connection_does_not_wait_on_a_silent_peer(tmp_path: Path) -> None:
    """An expired pooled connection is closed on the next request's path; a peer that stopped reading must not make
    that request wait (for TLS close_notify or for unsent bytes)."""
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(answer(BODY))
                await writer.drain()
                writer.transport.pause_reading()  # from now on it hears nothing this connection says

    listening = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    url = f"https://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
    try:
        trusting = ssl.create_default_context(cafile=str(cert))
        transport = AsyncioTransport(limits=httpx.Limits(keepalive_expiry=0.1), verify=trusting)
        async with httpx.AsyncClient(base_url=url, transport=transport) as http:
            await http.get("/x")
            await asyncio.sleep(0.3)  # the connection has expired; the next request closes it first
            started = time.monotonic()
            assert (await http.get("/x")).status_code == 200
            assert time.monotonic() - started < 0.5
    finally:
        listening.close()


def test_a_proxy_named_in_the_environment_leaves_routing_to_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(transport_for("https://graph.facebook.com"), AsyncioTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert transport_for("https://graph.facebook.com") is None  # httpx mounts the proxy itself
    assert isinstance(transport_for("http://registration:8080"), AsyncioTransport)
    monkeypatch.setenv("ALL_PROXY", "http://proxy.internal:3128")
    assert transport_for("http://registration:8080") is None


async def test_a_host_name_that_is_not_a_name_is_a_connect_error() -> None:
    async with client(f"http://{'a' * 64}.example") as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/x")


def answer(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
