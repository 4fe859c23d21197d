"""The traffic generator's untidy mode: duplicates, out-of-order arrival, free messages, all priced as Meta does."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from tests.contract.test_sandbox_webhooks import signing_sandbox, verify

SHARES = {"duplicates_share": 0.05, "out_of_order_share": 0.2, "free_share": 0.25, "failed_share": 0.1, "seed": 7}


async def test_realistic_traffic_repeats_reorders_and_prices_like_meta():
    async with signing_sandbox("eligible") as (admin, received):
        body = {"phone_number_ids": ["500000000000001"], "rate": 2000, "count": 200, **SHARES}
        run = (await admin.post("/_sandbox/traffic", json=body)).json()["id"]
        for _ in range(200):
            if (await admin.get(f"/_sandbox/traffic/{run}")).json()["done"]:
                break
            await asyncio.sleep(0.05)
    statuses = [s for raw, _ in received for e in json.loads(raw)["entry"] for c in e["changes"]
                for s in c["value"]["statuses"]]
    assert all(verify(raw, header) for raw, header in received)
    seen = Counter((s["id"], s["status"], s["timestamp"]) for s in statuses)
    assert any(n > 1 for n in seen.values()), "no status was delivered twice"
    first = {}
    for s in statuses:
        first.setdefault(s["id"], s["status"])
    assert any(name != "sent" for name in first.values()), "every message arrived with its sent status first"
    priced = [s["pricing"] for s in statuses if "pricing" in s]
    assert {p["type"] for p in priced} >= {"regular", "free_customer_service"}
    assert all(p["billable"] == (p["type"] == "regular") for p in priced)
    assert not any("pricing" in s for s in statuses if s["status"] == "failed")
    unique = {(s["id"], s["status"]): s for s in statuses}
    priced_deliveries = Counter(wamid for (wamid, name), s in unique.items() if name != "sent" and "pricing" in s)
    assert set(priced_deliveries.values()) == {1}  # delivered or read is priced, never both
    assert len({s["id"] for s in statuses}) == 200
