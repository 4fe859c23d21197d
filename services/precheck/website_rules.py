"""Which website URLs and addresses the website check may contact: a partner's URL must never reach our network."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

USUAL_PORTS = {"http": 80, "https": 443}
# Cloud metadata services answer with credentials; named apart so operators see why a URL was refused.
METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "169.254.169.253", "100.100.100.200", "192.0.0.192", "fd00:ec2::254"))
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT; not global, yet not `is_private` in Python
IETF = ipaddress.ip_network("192.0.0.0/24")  # protocol assignments; Python 3.11 calls parts of it global
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def embedded_v4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries to the same host (mapped, 6to4, NAT64), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None or address.sixtofour is not None:
        return address.ipv4_mapped or address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_class(address: Address) -> str | None:
    """Why this address is off limits ("loopback", "private", ...), or None for a public address."""
    judged = embedded_v4(address) or address
    if judged in METADATA or address in METADATA:
        return "metadata"
    for name, hit in (("loopback", judged.is_loopback), ("unspecified", judged.is_unspecified),
                      ("link-local", judged.is_link_local), ("multicast", judged.is_multicast),
                      ("shared", judged in SHARED), ("reserved", judged.is_reserved or judged in IETF),
                      ("private", judged.is_private or _site_local(judged))):
        if hit:
            return name
    return None if judged.is_global else "not global"


def _site_local(address: Address) -> bool:
    return isinstance(address, ipaddress.IPv6Address) and address.is_site_local


def url_refusal(scheme: str, has_credentials: bool, host: str) -> str | None:
    """What is wrong with the URL itself, so a bad one is refused before its name is even resolved."""
    if scheme not in USUAL_PORTS:
        return f"scheme {scheme or 'none'} is not http or https"
    if has_credentials:
        return "credentials in the URL"
    return None if host else "no host"


def address_refusal(scheme: str, port: int | None, addresses: Iterable[str], allow_loopback: bool) -> str | None:
    """Why the resolved addresses may not be contacted: any one off limits refuses them all, then the port.

    The port is judged after the addresses so the log names the address class even on a test port.
    """
    found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
    if not found:
        return "the name resolves to no address"
    for address in found:
        kind = address_class(address)
        if kind and not (kind == "loopback" and allow_loopback):
            return f"resolves to a {kind} address ({address})"
    if allow_loopback and all(address_class(a) == "loopback" for a in found):
        return None  # the unsafe local allowance: test sites listen on any loopback port
    return None if port in (None, USUAL_PORTS[scheme]) else f"port {port} is not the usual port of {scheme}"
