"""Billing behind the gateway: only signed webhooks are billed, and each partner's report and chart show only the
traffic billed to it."""

from __future__ import annotations

import json
import os
import subprocess

from deploy.local.processes import NUMPORT
from deploy.local.stack import APP_SECRET
from sandbox.webhooks import signature
from services.billing.reports import number_traffic
from tests.integration.billing_support import T0, billing, drained, ledger, produce, registered, status

N1, N2 = "+4915100000001", "+4915100000002"


def webhook(number: str, wamid: str, at: int) -> bytes:
    value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": number[1:],
                                                           "phone_number_id": "510"},
             "statuses": [{"id": wamid, "status": "sent", "timestamp": str(at), "pricing": {
                 "billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [
        {"id": "210", "time": at, "changes": [{"field": "messages", "value": value}]}]}).encode()


async def test_signed_webhooks_are_billed_and_forged_ones_never(gateway_stack, service_env, db):
    signed, forged = webhook(N1, "m.signed", T0), webhook(N1, "m.forged", T0)
    bootstrap = service_env["NUMPORT_KAFKA_BOOTSTRAP"]
    async with billing(bootstrap, service_env["NUMPORT_DATABASE_URL"]) as group, gateway_stack.client() as api:
        headers = {"Content-Type": "application/json"}
        refused = await api.post("/webhooks/meta", content=forged,
                                 headers={**headers, "X-Hub-Signature-256": signature("not-our-secret", forged)})
        accepted = await api.post("/webhooks/meta", content=signed,
                                  headers={**headers, "X-Hub-Signature-256": signature(APP_SECRET, signed)})
        await drained(service_env["NUMPORT_KAFKA_BOOTSTRAP"], group)
        assert (refused.status_code, accepted.status_code) == (401, 200)
        assert set(await ledger(db, N1)) == {"m.signed"}


async def test_each_partner_sees_only_its_own_numbers_traffic(gateway_stack, service_env, db, tmp_path):
    items = [registered(N1, T0, "business:1", "partner-a"), registered(N2, T0, "business:2", "partner-b"),
             *(status(N1, f"a{i}", "sent", T0 + i) for i in range(3)),
             *(status(N2, f"b{i}", "sent", T0 + i, category="utility") for i in range(2)),
             status(N2, "b.old", "sent", T0 - 60, category="utility")]
    async with billing(service_env["NUMPORT_KAFKA_BOOTSTRAP"], service_env["NUMPORT_DATABASE_URL"]) as group:
        await produce(service_env["NUMPORT_KAFKA_BOOTSTRAP"], items)
        await drained(service_env["NUMPORT_KAFKA_BOOTSTRAP"], group)
    day = "2025-11-24"
    async with gateway_stack.client(gateway_stack.key_a) as a, gateway_stack.client(gateway_stack.key_b) as b:
        mine = (await a.get("/v1/billing/report", params={"from": day, "to": day})).json()
        theirs = (await b.get("/v1/billing/report", params={"from": day, "to": day})).json()
        backwards = await a.get("/v1/billing/report", params={"from": day, "to": "2025-11-01"})
    assert (mine["partner_id"], mine["messages"], mine["days"][0]["pricing_category"]) == ("partner-a", 3, "marketing")
    assert (theirs["partner_id"], theirs["messages"], theirs["billable"]) == ("partner-b", 2, 2)  # b.old: business:2
    assert backwards.status_code == 422
    assert not (await number_traffic(db, N1, "partner-b")).buckets  # partner-b never held N1
    shown = await number_traffic(db, N2, "partner-b")
    assert {p for _, p, _ in shown.buckets} == {"partner-b"} and sum(n for *_, n in shown.buckets) == 2
    env = {**os.environ, "NUMPORT_DATABASE_URL": service_env["NUMPORT_DATABASE_URL"]}
    drawn = subprocess.run([NUMPORT, "billing", "chart", "--phone", N2, "--out", str(tmp_path / "n2.png")], env=env,
                           capture_output=True, text=True, timeout=120)
    report = subprocess.run([NUMPORT, "billing", "report", "--partner", "partner-b", "--from", day, "--to", day,
                             "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert drawn.returncode == 0, drawn.stderr
    assert (tmp_path / "n2.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(report.stdout)["days"] == [{"day": day, "pricing_category": "utility", "messages": 2,
                                                  "billable": 2}]

