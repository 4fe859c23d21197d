"""Free loopback ports and readiness polling shared by the local launchers."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable

LISTEN_PORTS = range(20000, 32768)  # below the kernel's ephemeral range (32768-60999 on Linux)
# Ports this process handed out: a CI run once gave the gateway and templates of one test the same port, the
# second bind failed, and the gateway answered the templates' readiness probe.
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """An unused loopback port outside the ephemeral range.

    A port the kernel hands out for binding port 0 comes from the range it also uses for outgoing connections,
    so between our check and the service's bind, a Kafka or PostgreSQL client socket could take it.
    """
    for _ in range(200):
        port = random.choice(LISTEN_PORTS)
        if port in _HANDED_OUT:  # two servers started side by side would both find it free until one binds it
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            _HANDED_OUT.add(port)
            if len(_HANDED_OUT) > len(LISTEN_PORTS) // 2:  # a long session: forget the oldest half's worth
                _HANDED_OUT.clear()
            return port
    raise RuntimeError("no free loopback port between 20000 and 32767")


def wait_until(probe: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> float:
    """Poll `probe` until it answers True; returns the seconds it took."""
    started = time.monotonic()
    last_error: Exception | None = None
    while time.monotonic() - started < timeout:
        try:
            if probe():
                return time.monotonic() - started
        except Exception as exc:  # readiness probes fail in many ways until the server is up
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} was not ready after {timeout:.0f}s (last error: {last_error!r})")
