"""The SQL that starts each WABA's next number (`repository.start_free_wabas`, one statement for every WABA, for
speed) and the domain rule it mirrors (`domain.may_start` and the oldest-first queue) agree on generated cases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from services.registration import domain, repository
from services.registration.main import SPEC
from shared import db

STATES = ["queued", "obo", "awaiting_obo", "awaiting_code", "register", "setting_up", "completed", "failed"]
LIKELY = ["queued"] * 4 + ["completed", "failed"] * 2 + STATES  # free WABAs with several queued numbers are common
T0 = datetime(2026, 11, 24, tzinfo=UTC)
SAGAS = st.lists(st.tuples(st.sampled_from(["waba-1", "waba-2", "waba-3"]), st.sampled_from(LIKELY)),
                 min_size=1, max_size=12)


def expected_starts(sagas: list[tuple[str, str, int]]) -> set[int]:
    """The rule as the domain states it: a WABA with no active saga starts its oldest queued one."""
    started = set()
    for waba in {w for w, _, _ in sagas}:
        mine = [(i, s) for w, s, i in sagas if w == waba]
        queued = [i for i, s in mine if s == "queued"]
        if queued and domain.may_start([s for _, s in mine]):
            started.add(min(queued))
    return started


async def test_start_free_wabas_follows_may_start(clean):
    pool = await db.open_pool(clean.database_url, "registration", SPEC.migrations, 2)
    try:
        await check_many(pool)
    finally:
        await pool.close()


async def check_many(pool: asyncpg.Pool) -> None:
    cases: list[list[tuple[str, str]]] = []

    @settings(max_examples=150, derandomize=True, suppress_health_check=list(HealthCheck), deadline=None)
    @given(SAGAS)
    @example([("waba-1", "completed"), ("waba-1", "queued"), ("waba-1", "queued"), ("waba-2", "queued")])
    def collect(sagas: list[tuple[str, str]]) -> None:
        cases.append(sagas)

    collect()
    for sagas in cases:
        numbered = [(waba, state, i) for i, (waba, state) in enumerate(sagas)]
        ids = {i: uuid.uuid4() for _, _, i in numbered}
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM timers; DELETE FROM step_attempts; DELETE FROM api_keys; DELETE FROM sagas")
            await conn.executemany(
                "INSERT INTO sagas (migration_id, correlation_id, phone_number, partner_id, business_id, "
                "destination_waba_id, flow, source, state, created_at, updated_at) "
                "VALUES ($1, $1, '+4915100000000', 'p', 'b', $2, 'programmatic', 'bsp_cloud_api', $3, $4, $4)",
                [(ids[i], waba, state, T0 + timedelta(seconds=i)) for waba, state, i in numbered])
            await repository.start_free_wabas(conn, T0 + timedelta(hours=1))
            rows = await conn.fetch("SELECT migration_id, state FROM sagas")
        now = {r["migration_id"]: r["state"] for r in rows}
        started = {i for _, state, i in numbered if state == "queued" and now[ids[i]] == "obo"}
        assert started == expected_starts(numbered), sagas
