"""Meta's webhooks reach Kafka only with a valid signature over the exact bytes Meta sent, one record per change."""

from __future__ import annotations

import json

from deploy.local import kafkaio as kafka
from deploy.local.stack import APP_SECRET, VERIFY_TOKEN
from sandbox.webhooks import signature
from shared import topics
from shared.events import parse_webhook_change

STATUS = {"messaging_product": "whatsapp",
          "metadata": {"display_phone_number": "5511987654321", "phone_number_id": "500000000000001"},
          "statuses": [{"id": "wamid.1", "status": "sent", "timestamp": "1764000000",
                        "pricing": {"billable": True, "pricing_model": "PMP", "category": "utility",
                                    "type": "regular"}}]}
TEMPLATE = {"event": "APPROVED", "message_template_id": 600000000000001, "message_template_name": "order_update",
            "message_template_language": "en_US", "reason": None}
PAYLOAD = {"object": "whatsapp_business_account", "entry": [
    {"id": "200000000000002", "time": 1764000001, "changes": [{"field": "messages", "value": STATUS},
                                                              {"field": "message_template_status_update",
                                                               "value": TEMPLATE}]},
    {"id": "200000000000003", "time": 1764000002,
     "changes": [{"field": "security", "value": {"event": "PIN_CHANGED"}}]},
]}


def post(client, body: bytes, sig: str | None):
    headers = {"Content-Type": "application/json", **({"X-Hub-Signature-256": sig} if sig is not None else {})}
    return client.post("/webhooks/meta", content=body, headers=headers)


async def test_the_verify_token_handshake(gateway_stack):
    async with gateway_stack.client() as api:
        ok = await api.get("/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                                     "hub.challenge": "1158201444"})
        wrong = await api.get("/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": "guess",
                                                        "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444"
    assert wrong.status_code == 403 and "1158201444" not in wrong.text


async def test_only_signed_webhooks_reach_kafka_one_record_per_change(gateway_stack, service_env):
    body = json.dumps(PAYLOAD).encode()
    good = signature(APP_SECRET, body)
    async with gateway_stack.client() as api:
        refused = [await post(api, body, "sha256=" + "0" * 64), await post(api, body, None),
                   await post(api, json.dumps(PAYLOAD, indent=1).encode(), good),  # same JSON, other bytes
                   await post(api, body, signature("another-app-secret", body))]
        garbage = [b"{not json", b'{"object": "page", "entry": []}', b'{"object": "whatsapp_business_account"}']
        malformed = [await post(api, raw, signature(APP_SECRET, raw)) for raw in garbage]
        accepted = [await post(api, body, good), await post(api, body, good)]  # Meta redelivers
    assert [r.status_code for r in refused] == [401] * 4
    assert all(r.json()["error"]["code"] for r in refused)
    assert [r.status_code for r in malformed] == [400] * 3
    assert [r.status_code for r in accepted] == [200, 200] and accepted[0].json() == {"changes": 3}
    records = await kafka.read(service_env["NUMPORT_KAFKA_BOOTSTRAP"], topics.META_WEBHOOKS.name,
                               until=lambda rs: len(rs) >= 6, settle=1.0)
    assert len(records) == 6  # nothing from the refused or malformed deliveries
    changes = [parse_webhook_change(r.value) for r in records]
    assert {(r.key, c.field) for r, c in zip(records, changes, strict=True)} == {
        (b"+5511987654321", "messages"), (b"200000000000002", "message_template_status_update"),
        (b"200000000000003", "security")}
    assert len({c.event_id for c in changes}) == 3  # a redelivery carries the same ids
    status = next(c for c in changes if c.field == "messages")
    assert status.value == STATUS and status.phone_number_id == "500000000000001" and status.entry_time == 1764000001
