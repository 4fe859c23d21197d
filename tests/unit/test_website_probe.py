"""The website check's address rules on a table, and its redirects and limits against an in-memory site."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time

import httpx
import pytest

from services.precheck.website import MAX_BYTES, WebsiteProbe
from services.precheck.website_rules import address_class, address_refusal, url_refusal

FORBIDDEN = [
    ("127.0.0.1", "loopback"), ("127.9.9.9", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("2002:7f00:1::", "loopback"), ("64:ff9b::7f00:1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("::ffff:192.168.1.1", "private"),
    ("fd12:3456::1", "private"), ("fec0::1", "private"), ("2001:db8::1", "private"), ("198.18.0.1", "private"),
    ("169.254.1.1", "link-local"), ("fe80::1", "link-local"), ("::ffff:169.254.1.1", "link-local"),
    ("169.254.169.254", "metadata"), ("::ffff:169.254.169.254", "metadata"), ("::ffff:a9fe:a9fe", "metadata"),
    ("64:ff9b::a9fe:a9fe", "metadata"), ("fd00:ec2::254", "metadata"), ("100.100.100.200", "metadata"),
    ("192.0.0.192", "metadata"),
    ("100.64.0.1", "shared"), ("100.127.255.254", "shared"), ("::ffff:100.64.0.1", "shared"),
    ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("::ffff:0.0.0.0", "unspecified"),
    ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"), ("192.0.0.8", "reserved"),
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e",
          "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::"]


@pytest.mark.parametrize("address, kind", FORBIDDEN)
def test_addresses_inside_our_networks_are_named(address, kind):
    assert address_class(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert address_class(ipaddress.ip_address(address)) is None
    assert address_refusal("https", None, [address], allow_loopback=False) is None


@pytest.mark.parametrize("scheme, credentials, host, wrong", [
    ("ftp", False, "shop.example", "scheme"), ("file", False, "", "scheme"), ("", False, "shop.example", "scheme"),
    ("http", True, "shop.example", "credentials"), ("https", False, "", "no host"), ("https", False, "a.example", None),
])
def test_url_rules(scheme, credentials, host, wrong):
    refusal = url_refusal(scheme, credentials, host)
    assert (refusal is None) if wrong is None else (wrong in refusal)


@pytest.mark.parametrize("scheme, port, addresses, allow, wrong", [
    ("https", None, ["8.8.8.8", "10.0.0.1"], False, "private"),  # any bad answer refuses them all
    ("https", None, [], False, "no address"),
    ("http", 8080, ["8.8.8.8"], False, "port 8080"), ("https", 80, ["8.8.8.8"], False, "port 80"),
    ("http", 80, ["8.8.8.8"], False, None), ("https", 443, ["2606:4700:4700::1111"], False, None),
    ("http", 8080, ["127.0.0.1"], False, "loopback"), ("http", 80, ["::1"], False, "loopback"),
    ("http", 8080, ["127.0.0.1", "::1"], True, None),  # the unsafe allowance: loopback on a test port
    ("http", 8080, ["8.8.8.8"], True, "port 8080"),  # ...but not other ports elsewhere
    ("http", None, ["127.0.0.1", "192.168.0.2"], True, "private"),
    ("http", None, ["169.254.169.254"], True, "metadata"), ("http", None, ["fe80::1%eth0"], True, "link-local"),
    ("http", None, ["0.0.0.0"], True, "unspecified"), ("http", None, ["100.64.0.1"], True, "shared"),
])
def test_address_rules(scheme, port, addresses, allow, wrong):
    refusal = address_refusal(scheme, port, addresses, allow)
    assert (refusal is None) if wrong is None else (wrong in refusal)


class FakeDns:
    """Names to answers; each lookup takes the next answer, so a rebinding name can change its mind."""

    def __init__(self, **names: list[list[str]]) -> None:
        self.names, self.lookups = {k.replace("_", "."): list(v) for k, v in names.items()}, []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host in self.names:
            answers = self.names[host]
            return answers.pop(0) if len(answers) > 1 else answers[0]
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "unknown name") from None


class Site:
    """An in-memory web: answers by Host header and remembers every request it was sent."""

    def __init__(self, pages: dict[str, httpx.Response]) -> None:
        self.pages, self.sent = pages, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        page = self.pages.get(request.headers["host"] + request.url.path, httpx.Response(404))
        if not isinstance(page.stream, httpx.ByteStream):
            return page
        # A fresh, unread response each time, as a network transport would hand over.
        return httpx.Response(page.status_code, headers=page.headers, stream=httpx.ByteStream(page.content))

    def probe(self, dns: FakeDns, allow_loopback: bool = False, timeout: float = 2.0) -> WebsiteProbe:
        return WebsiteProbe(timeout, allow_loopback, dns, httpx.MockTransport(self))


def redirect(to: str) -> httpx.Response:
    return httpx.Response(302, headers={"Location": to})


DNS = dict(shop_example=[["93.184.216.34"]], localhost=[["127.0.0.1"]], intranet_example=[["192.168.1.10"]],
           metadata_google_internal=[["169.254.169.254"]])


async def test_connects_to_the_checked_address_with_the_name_as_host_and_sni():
    dns = FakeDns(shop_example=[["93.184.216.34"], ["127.0.0.1"]])  # a second lookup would answer loopback
    site = Site({"shop.example/": httpx.Response(200, text="hello")})
    assert await site.probe(dns).reachable("https://shop.example/")
    (request,) = site.sent
    assert request.url.host == "93.184.216.34" and request.headers["host"] == "shop.example"
    assert request.extensions["sni_hostname"] == "shop.example" and dns.lookups == ["shop.example"]


@pytest.mark.parametrize("target", [
    "http://127.0.0.1/", "http://localhost/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://10.0.0.5/", "http://intranet.example/admin", "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/", "http://[fd00:ec2::254]/", "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/", "http://100.64.0.1/", "http://0.0.0.0/", "ftp://shop.example/x",
    "http://user:pw@shop.example/x", "http://shop.example:8080/x",
])
async def test_a_redirect_into_forbidden_ground_is_refused_before_it_is_followed(target):
    site = Site({"shop.example/": redirect(target), "shop.example/x": httpx.Response(200)})
    assert not await site.probe(FakeDns(**DNS)).reachable("http://shop.example/")
    assert [r.headers["host"] for r in site.sent] == ["shop.example"]


async def test_the_loopback_allowance_never_opens_private_or_metadata_hops():
    site = Site({"localhost/": redirect("http://169.254.169.254/"), "localhost/ok": httpx.Response(200)})
    probe = site.probe(FakeDns(**DNS), allow_loopback=True)
    assert await probe.reachable("http://localhost/ok")
    assert not await probe.reachable("http://localhost/")
    assert [r.url.path for r in site.sent] == ["/ok", "/"]


async def test_three_redirects_are_followed_a_fourth_is_not():
    pages = {f"shop.example/{n}": redirect(f"/{n + 1}") for n in range(5)} | {"shop.example/5": httpx.Response(200)}
    site = Site(pages)
    assert await site.probe(FakeDns(**DNS)).reachable("http://shop.example/2")
    assert not await site.probe(FakeDns(**DNS)).reachable("http://shop.example/1")
    assert [r.url.path for r in site.sent] == ["/2", "/3", "/4", "/5", "/1", "/2", "/3", "/4"]


@pytest.mark.parametrize("status, reachable", [(200, True), (204, True), (404, False), (500, False)])
async def test_an_error_status_is_not_reachable(status, reachable):
    site = Site({"shop.example/": httpx.Response(status)})
    assert await site.probe(FakeDns(**DNS)).reachable("http://shop.example/") is reachable


async def test_reads_at_most_64_kib_of_an_endless_page():
    pulled = 0

    async def endless():
        nonlocal pulled
        while True:
            pulled += 1024
            yield b"x" * 1024

    site = Site({"shop.example/": httpx.Response(200, content=endless())})
    assert await site.probe(FakeDns(**DNS)).reachable("http://shop.example/")
    assert pulled == MAX_BYTES


async def test_a_site_that_never_answers_is_not_reachable_within_the_timeout():
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200)

    started = time.monotonic()
    probe = WebsiteProbe(0.2, resolver=FakeDns(**DNS), transport=httpx.MockTransport(hang))
    assert not await probe.reachable("http://shop.example/")
    assert time.monotonic() - started < 2


async def test_the_real_reason_is_logged_without_the_query_string(caplog):
    caplog.set_level(logging.INFO, "numport.precheck.website")
    site = Site({})
    assert not await site.probe(FakeDns(**DNS)).reachable("http://intranet.example/login?token=abc123&x=1")
    assert "private address (192.168.1.10)" in caplog.text and "http://intranet.example/login" in caplog.text
    assert "abc123" not in caplog.text and "token" not in caplog.text and site.sent == []


@pytest.mark.parametrize("url", ["not a url", "http://", "//shop.example/", "http://[::1/", "javascript:alert(1)"])
async def test_garbage_is_not_reachable(url):
    site = Site({})
    assert not await site.probe(FakeDns(**DNS)).reachable(url)
    assert site.sent == []
