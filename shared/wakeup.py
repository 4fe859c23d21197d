"""Being woken by commits instead of polling: a LISTEN connection of its own, re-opened when lost. A notification
lost meanwhile costs one fallback look, never a row: the look after a (re)connect sees everything committed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

log = logging.getLogger("numport.wakeup")


class Wakeup:
    def __init__(self, url: str | None, channel: str, name: str) -> None:
        self.url, self.channel, self.name = url, channel, name
        self.event = asyncio.Event()
        self._conn: asyncpg.Connection | None = None

    @property
    def listening(self) -> bool:
        """Whether commits wake us now: while they do, a fallback look can be rare."""
        return self._conn is not None and not self._conn.is_closed()

    async def listen(self) -> None:
        """(Re-)open the listening connection when gone; without it the caller's fallback look still runs."""
        if self.url is None or self.listening:
            return
        self._conn = None
        try:
            conn = await asyncpg.connect(self.url, timeout=5.0, server_settings={"application_name": self.name})
            await conn.add_listener(self.channel, lambda *_: self.event.set())
            # Losing the connection wakes the owner at once: it re-opens it, then looks (notifications may be lost).
            conn.add_termination_listener(lambda *_: self.event.set())
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            log.info("not woken by commits for now; falls back to looking every few seconds",
                     extra={"channel": self.channel, "error": repr(error)})
            return
        self._conn = conn

    async def wait(self, timeout: float) -> None:
        """Until a commit wakes us or `timeout` seconds pass."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None


FALLBACK_SECONDS = 5.0  # the look for work when nothing woke the loop: a notification lost while reconnecting


def fallback(clock: object) -> float:
    """How long a woken loop may sleep: with a clock moved from outside (tests, rehearsals), items fall due without
    any commit, so it looks every tick."""
    from shared.clock import SystemClock

    return FALLBACK_SECONDS if isinstance(clock, SystemClock) else 0.0


def until(at: datetime | None, now: datetime) -> float | None:
    """What a `look` returns: the seconds until the next item it knows of falls due (None: none does)."""
    return None if at is None else max(0.0, (at - now).total_seconds())


async def looking(wakeup: Wakeup, look: Callable[[], Awaitable[float | None]], every: float, longest: float,
                  failed: str) -> None:
    """Look for work when a commit may have made some, when the next known item falls due (`look` returns the
    seconds until then), and at the latest every `longest` seconds; never more often than every `every` seconds.
    A failed look (PostgreSQL or Meta away) loses nothing: the next one asks again."""
    try:
        while True:
            wakeup.event.clear()  # cleared before listening: the loss of the connection just opened wakes us too
            await wakeup.listen()
            following: float | None = None
            try:
                following = await look()
            except Exception as error:  # the loop must outlive any one look's trouble
                log.warning(failed, extra={"error": repr(error)})
            await asyncio.sleep(every)
            await wakeup.wait(min(longest, following if following is not None else longest))
    finally:
        wakeup.close()
