"""Property, on real Kafka and PostgreSQL: any interleaving of the same statuses and PhoneRegistered events, with
duplicates, and with billing catching up at any point in between, ends in the same ledger."""

from __future__ import annotations

import asyncio
import itertools

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy.local.processes import ServiceProcess
from services.billing.domain import attribute
from services.billing.holders import holder_change
from services.billing.ledger import fold
from services.billing.records import decode_statuses
from shared.events import PhoneRegistered
from tests.integration.billing_support import T0, drained, ledger, produce, registered, status

SEQUENCES = [("sent", "delivered", "read"), ("sent", "failed"), ("delivered", "read"), ("read", "sent"), ("sent",)]
numbers = itertools.count(1)


@st.composite
def histories(draw: st.DrawFn) -> tuple[str, list, set[int]]:
    """One number's statuses and migrations, some repeated, in any order, with the points billing catches up."""
    number = f"+49160{next(numbers):08d}"
    items: list = [registered(number, T0 + 0.5, "business:1", "partner-b", new_id="520")]
    if draw(st.booleans()):
        items.append(registered(number, T0 + 60.25, "partner-b", "partner-c", new_id="530"))
    for index in range(draw(st.integers(2, 5))):
        sent = T0 + draw(st.integers(-90, 90))
        kind = draw(st.sampled_from(["regular", "free_customer_service", None]))
        names = draw(st.sampled_from(SEQUENCES))
        priced = {n for n in names if n == "sent"} | ({next(n for n in names if n != "sent")} - {"failed"}
                                                    if set(names) - {"sent"} else set())
        items += [status(number, f"m{index}", name, sent + 2 * step, kind=kind, priced=name in priced)
                  for step, name in enumerate(names)]
    repeated = draw(st.lists(st.sampled_from(items), max_size=3))
    order = draw(st.permutations(items + repeated))
    return number, order, draw(st.sets(st.integers(1, len(order) - 1), max_size=2))


def expected(order: list) -> dict[str, tuple]:
    """The order-free definition: every status merged, attributed against the whole timeline."""
    timeline = sorted({holder_change(e) for e in order if isinstance(e, PhoneRegistered)})
    merged = fold(((s.phone_number, s.message_id), s) for item in order if not isinstance(item, PhoneRegistered)
                  for s in decode_statuses(item[1]) or ())
    found = {}
    for (_, wamid), state in merged.items():
        if (made := attribute(state, timeline)) is not None:
            found[wamid] = (made.partner, made.rule, made.billable)
    return found


async def replay(env: dict[str, str], group: str, number: str, order: list, pauses: set[int]) -> dict[str, tuple]:
    bootstrap = env["NUMPORT_KAFKA_BOOTSTRAP"]
    for start, end in itertools.pairwise([0, *sorted(pauses), len(order)]):
        await produce(bootstrap, order[start:end])
        await drained(bootstrap, group)
    conn = await asyncpg.connect(env["NUMPORT_DATABASE_URL"])
    try:
        return {k: v[:3] for k, v in (await ledger(conn, number)).items()}
    finally:
        await conn.close()


def test_any_interleaving_with_duplicates_gives_the_same_ledger(service_env):
    service = ServiceProcess("billing", service_env).start()
    group = f"{service_env['NUMPORT_CONSUMER_GROUP_PREFIX']}.billing"
    try:
        service.wait_ready(60)

        @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(histories())
        def same_ledger(history: tuple[str, list, set[int]]) -> None:
            number, order, pauses = history
            assert asyncio.run(replay(service_env, group, number, order, pauses)) == expected(order)

        same_ledger()
    finally:
        assert service.terminate() == 0, service.logs()[-3000:]
