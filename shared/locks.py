"""Session advisory locks on pools of their own that skip asyncpg's reset: five statements saved per release."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg


@contextlib.asynccontextmanager
async def held(pool: asyncpg.Pool, key: str, wait: bool = True) -> AsyncIterator[bool]:
    """The lock named `key` for the block (False: another holds it and `wait` is off). A connection goes back to the
    pool only when its lock was certainly never taken or certainly released; any other exit (an error or a
    cancellation while locking or unlocking) closes it, and PostgreSQL drops the locks of a closed session."""
    async with pool.acquire() as conn:
        clean = False
        try:
            if wait:
                await conn.execute("SELECT pg_advisory_lock(hashtext($1))", key)
            elif not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", key):
                clean = True
                yield False
                return
            try:
                yield True
            finally:
                await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", key)
                clean = True
        finally:
            if not clean:
                conn.terminate()


async def open_pool(url: str, size: int) -> asyncpg.Pool:
    """A pool for `held` only: a lock holder waits on Meta for seconds, so it must never starve the work pool."""
    return await asyncpg.create_pool(url, min_size=1, max_size=size, reset=no_reset)


async def no_reset(conn: asyncpg.Connection) -> None:
    """The lock pool's reset: none. Its connections run only `held`'s statements, which leave no session state once
    the unlock completed, and `held` closes a connection whose unlock did not."""
