"""The saga's lock pool skips asyncpg's reset, so a connection whose unlock did not complete must never go back to
the pool still holding the lock: the next saga on that connection would run while another replica thinks it is
locked out, and that replica could never take the saga again."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from deploy.local.infra import Infra
from shared import locks

KEY = "saga:lock-test"


class FailingUnlock(asyncpg.Connection):
    """Turns the unlock away before PostgreSQL sees it, as a cancellation or a lost socket would."""

    failure: BaseException | None = None

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:
        if FailingUnlock.failure is not None and "pg_advisory_unlock" in query:
            raise FailingUnlock.failure
        return await super().execute(query, *args, timeout=timeout)


async def free_elsewhere(url: str) -> bool:
    """Whether another session can take the lock now."""
    conn = await asyncpg.connect(url)
    try:
        return bool(await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", KEY))
    finally:
        await conn.close()


@pytest.mark.parametrize("failure", [asyncio.CancelledError(), ConnectionResetError("the socket went away")])
async def test_a_connection_whose_unlock_failed_is_closed_not_reused(infra: Infra, failure: BaseException,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    pool = await asyncpg.create_pool(infra.database_url, min_size=1, max_size=1, reset=locks.no_reset,
                                     connection_class=FailingUnlock)
    try:
        with pytest.raises(type(failure)):
            async with locks.held(pool, KEY) as mine:
                assert mine
                monkeypatch.setattr(FailingUnlock, "failure", failure)
        monkeypatch.setattr(FailingUnlock, "failure", None)
        assert await free_elsewhere(infra.database_url)
        async with pool.acquire() as conn:  # the pool's connection now: a new session, holding nothing
            held = await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = "
                                       "pg_backend_pid()")
        assert held == 0
    finally:
        await pool.close()


async def test_a_released_lock_leaves_the_connection_reusable(infra: Infra) -> None:
    pool = await asyncpg.create_pool(infra.database_url, min_size=1, max_size=1, reset=locks.no_reset)
    try:
        for _ in range(2):
            async with locks.held(pool, KEY, wait=False) as mine:
                assert mine
                assert not await free_elsewhere(infra.database_url)
        assert await free_elsewhere(infra.database_url)
    finally:
        await pool.close()
