"""Free loopback ports and readiness polling shared by the local launchers."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


def free_port() -> int:
    """Ask the kernel for an unused loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
