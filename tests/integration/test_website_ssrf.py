"""The website check on real sockets: a listener on loopback counts connections the check must never make."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import logging
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.precheck.website import WebsiteProbe, resolve


class Listener:
    """A tiny HTTP server on a loopback address: counts every connection, answers by path."""

    def __init__(self, host: str, tls: ssl.SSLContext | None = None) -> None:
        self.host, self.tls, self.hits, self.hosts_asked = host, tls, 0, []
        self.redirects: dict[str, str] = {}

    async def __aenter__(self) -> Listener:
        self.server = await asyncio.start_server(self._serve, self.host, 0, ssl=self.tls)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    def url(self, path: str = "/", name: str | None = None) -> str:
        shown = name or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"http://{shown}:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.hits += 1
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        path = head[0].split(" ")[1]
        self.hosts_asked += [line.split(":", 1)[1].strip() for line in head if line.lower().startswith("host:")]
        status = f"302 Found\r\nLocation: {self.redirects[path]}" if path in self.redirects else "200 OK"
        writer.write(f"HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode())
        await writer.drain()
        writer.close()


class LoopbackOnly(httpx.AsyncBaseTransport):
    """Real sockets for loopback; anything else is answered here and recorded, so no test traffic leaves the host.

    `fake` answers the in-memory "allowed" site used as the first hop of a redirect into loopback.
    """

    def __init__(self, fake: dict[str, httpx.Response] | None = None) -> None:
        self.real, self.fake, self.elsewhere = httpx.AsyncHTTPTransport(), fake or {}, []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        address = ipaddress.ip_address(request.url.host)
        if (getattr(address, "ipv4_mapped", None) or address).is_loopback:
            return await self.real.handle_async_request(request)
        self.elsewhere.append(str(request.url))
        page = self.fake.get(request.headers["host"], httpx.Response(200))
        return httpx.Response(page.status_code, headers=page.headers, stream=httpx.ByteStream(b"ok"))

    async def aclose(self) -> None:
        await self.real.aclose()


async def shop_is_public(host: str, port: int) -> list[str]:
    """Real resolution, except the partner's shop, which 'resolves' to a public address served by LoopbackOnly."""
    return ["93.184.216.34"] if host == "shop.example" else await resolve(host, port)


@pytest.fixture
async def v4() -> AsyncIterator[Listener]:
    async with Listener("127.0.0.1") as listener:
        yield listener


@pytest.fixture
async def v6() -> AsyncIterator[Listener]:
    async with Listener("::1") as listener:
        yield listener


def probe(allow_loopback: bool = False, fake: dict[str, httpx.Response] | None = None) -> WebsiteProbe:
    return WebsiteProbe(2.0, allow_loopback, shop_is_public, LoopbackOnly(fake))


@pytest.mark.parametrize("host, name", [("127.0.0.1", None), ("127.0.0.1", "localhost"), ("127.0.0.1", "2130706433"),
                                        ("127.0.0.1", "127.1"), ("127.0.0.1", "[::ffff:127.0.0.1]"), ("::1", None)])
async def test_loopback_is_refused_without_a_connection_unless_the_unsafe_allowance_is_on(host, name, caplog):
    caplog.set_level(logging.INFO, "numport.precheck.website")
    async with Listener(host) as listener:
        assert not await probe().reachable(listener.url(name=name))
        assert listener.hits == 0 and "loopback address" in caplog.text  # refused for being loopback, not the port
        assert await probe(allow_loopback=True).reachable(listener.url(name=name))  # same URL, the allowance on
        assert listener.hits == 1


async def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(v4):
    assert await probe(allow_loopback=True).reachable(v4.url(name="localhost"))
    assert v4.hosts_asked == [f"localhost:{v4.port}"]


@pytest.mark.parametrize("target", ["v4", "localhost", "v6"])
async def test_a_public_site_redirecting_into_loopback_is_refused_with_zero_hits(v4, v6, target, caplog):
    caplog.set_level(logging.INFO, "numport.precheck.website")
    into = {"v4": v4.url("/admin"), "localhost": v4.url("/admin", "localhost"), "v6": v6.url("/admin")}[target]
    fake = {"shop.example": httpx.Response(302, headers={"Location": into})}
    assert not await probe(fake=fake).reachable("http://shop.example/")
    assert v4.hits == v6.hits == 0 and "loopback address" in caplog.text
    assert await probe(allow_loopback=True, fake=fake).reachable("http://shop.example/")  # control: it would land
    assert v4.hits + v6.hits == 1


@pytest.mark.parametrize("url", ["http://10.0.0.1/", "http://192.168.1.1/", "http://172.16.5.4/", "http://[fd00::1]/",
                                 "http://169.254.10.10/", "http://[fe80::1]/", "http://169.254.169.254/latest/meta-data/",
                                 "http://[fd00:ec2::254]/", "http://[::ffff:169.254.169.254]/", "http://100.64.0.1/"])
async def test_private_link_local_and_metadata_are_refused_before_any_connection(url):
    transport = LoopbackOnly()
    assert not await WebsiteProbe(2.0, True, resolve, transport).reachable(url)
    assert transport.elsewhere == []  # LoopbackOnly would have answered 200 had the probe tried


@pytest.mark.parametrize("target", ["http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/",
                                    "http://[fd00:ec2::254]/", "http://192.168.0.1/"])
async def test_a_loopback_site_redirecting_to_private_or_metadata_is_refused_even_with_the_allowance(v4, target):
    v4.redirects["/go"] = target
    transport = LoopbackOnly()
    assert not await WebsiteProbe(2.0, True, resolve, transport).reachable(v4.url("/go"))
    assert v4.hits == 1 and transport.elsewhere == []


def certificate_for(name: str, folder: Path) -> Path:
    """A self-signed certificate for `name`, key and certificate in one PEM file."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    pem = folder / f"{name}.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return pem


@pytest.mark.parametrize("served_as, reachable", [("localhost", True), ("other.example", False)])
async def test_https_dials_the_checked_ip_yet_verifies_the_certificate_against_the_name(tmp_path, served_as, reachable):
    pem, trusted = certificate_for(served_as, tmp_path), ssl.create_default_context()
    trusted.load_verify_locations(pem)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(pem)
    async with Listener("127.0.0.1", tls) as listener:
        website = WebsiteProbe(2.0, True, resolve, httpx.AsyncHTTPTransport(verify=trusted))
        assert await website.reachable(f"https://localhost:{listener.port}/") is reachable
        assert listener.hosts_asked == ([f"localhost:{listener.port}"] if reachable else [])
