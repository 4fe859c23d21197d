"""Probes a partner's business website without letting the partner aim our requests at our own network."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable

import httpx

from services.precheck.website_rules import USUAL_PORTS, address_refusal, url_refusal

log = logging.getLogger("numport.precheck.website")
MAX_REDIRECTS = 3
MAX_BYTES = 64 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})
Resolver = Callable[[str, int], Awaitable[list[str]]]


class Unreachable(Exception):
    """The real reason a site counts as not reachable: logged for operators, never shown to the partner."""


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class WebsiteProbe:
    """GETs a website as a visitor would, but only ever connects to an address that passed the rules.

    Each hop resolves the host once and refuses it if any address is off limits. It then connects to the
    first address: the IP goes in the URL, the name in the Host header and (for https) in SNI, which is also
    the name the certificate is verified against. Nothing looks the name up a second time, so a DNS answer
    that changes between check and connect (rebinding) cannot steer the request. Redirects are followed here,
    every hop checked again; proxies from the environment are ignored so the checked address is the one dialled.
    """

    def __init__(self, timeout: float, allow_loopback: bool = False, resolver: Resolver = resolve,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.timeout, self.allow_loopback = timeout, allow_loopback
        self.resolver, self.transport = resolver, transport

    async def reachable(self, url: str) -> bool:
        """True or False, nothing more: why a site failed goes to the log, without its query string."""
        try:
            async with asyncio.timeout(self.timeout):
                await self._visit(httpx.URL(url))
        except Unreachable as why:
            return _not_reachable(url, str(why))
        except TimeoutError:
            return _not_reachable(url, f"no answer within {self.timeout}s")
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as error:
            return _not_reachable(url, type(error).__name__)
        log.info("website %s is reachable", _for_logs(url))
        return True

    async def _visit(self, url: httpx.URL) -> None:
        async with httpx.AsyncClient(transport=self.transport, trust_env=False, timeout=self.timeout) as http:
            for _ in range(MAX_REDIRECTS + 1):
                status, location = await self._hop(http, url)
                if status not in REDIRECTS or location is None:
                    if status >= 400:
                        raise Unreachable(f"answered HTTP {status}")
                    return
                url = url.join(location)
        raise Unreachable(f"more than {MAX_REDIRECTS} redirects")

    async def _hop(self, http: httpx.AsyncClient, url: httpx.URL) -> tuple[int, str | None]:
        address = await self._checked_address(url)
        request = http.build_request("GET", url.copy_with(host=address), headers={"Host": url.netloc.decode("ascii")},
                                     extensions={"sni_hostname": url.raw_host.decode("ascii")})
        response = await http.send(request, stream=True)
        try:
            await _read_some(response)
        finally:
            await response.aclose()
        return response.status_code, response.headers.get("location")

    async def _checked_address(self, url: httpx.URL) -> str:
        host = url.raw_host.decode("ascii")
        if refusal := url_refusal(url.scheme, bool(url.userinfo), host):
            raise Unreachable(refusal)
        try:
            addresses = await self.resolver(host, url.port or USUAL_PORTS[url.scheme])
        except OSError as error:
            raise Unreachable(f"the name does not resolve ({error})") from None
        if refusal := address_refusal(url.scheme, url.port, addresses, self.allow_loopback):
            raise Unreachable(refusal)
        return addresses[0]


async def _read_some(response: httpx.Response) -> None:
    """At most MAX_BYTES of the raw body, then stop: an endless page or a compression bomb cannot hold us."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read >= MAX_BYTES:
            return


def _not_reachable(url: str, reason: str) -> bool:
    log.info("website %s is not reachable: %s", _for_logs(url), reason)
    return False


def _for_logs(url: str) -> str:
    """Scheme, host, port and path only: query strings and user info may hold secrets."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return "(not a URL)"
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii')}{parsed.path}"
