"""A service's background loop: do the work, sleep, again; a failed round is logged and the next one tries again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable


async def every(seconds: float, work: Callable[[], Awaitable[None]], log: logging.Logger, failed: str) -> None:
    """Runs until cancelled. A round fails when PostgreSQL or Meta is away; nothing is lost, the next round retries."""
    while True:
        try:
            await work()
        except Exception as error:  # the loop must outlive any one round's trouble
            log.warning(failed, extra={"error": repr(error)})
        await asyncio.sleep(seconds)
