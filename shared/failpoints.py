"""Named crash points for crash-safety tests: NUMPORT_FAILPOINTS=name[,name] makes the process SIGKILL itself there.

A real SIGKILL, not an exception: nothing gets a chance to clean up, exactly as when a node dies.
"""

from __future__ import annotations

import os
import signal


def active() -> frozenset[str]:
    return frozenset(filter(None, os.environ.get("NUMPORT_FAILPOINTS", "").split(",")))


def hit(name: str) -> None:
    if name in active():
        os.kill(os.getpid(), signal.SIGKILL)
