"""Meta's webhooks in: the verify-token handshake, the signature over the exact bytes received, one Kafka record
per change. Meta redelivers anything not answered 200 for days, so the answer waits for the broker's ack."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse

from shared import topics
from shared.events import MetaWebhookChange, derive_id
from shared.phone import to_e164

router = APIRouter(tags=["meta"])
OBJECT = "whatsapp_business_account"


def signed_by(secret: str, body: bytes, header: str | None) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return header is not None and hmac.compare_digest(expected.encode(), header.strip().encode())


def changes_of(payload: Any, received_at: datetime) -> list[MetaWebhookChange]:
    """Every change of every entry; raises ValueError when the body is not a WhatsApp Business webhook."""
    if not isinstance(payload, dict) or payload.get("object") != OBJECT or not isinstance(payload.get("entry"), list):
        raise ValueError(f"expected an object '{OBJECT}' with a list of entries")
    found = []
    for entry in payload["entry"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("changes"), list):
            raise ValueError("every entry needs an id and a list of changes")
        for change in entry["changes"]:
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                raise ValueError("every change needs a field and an object value")
            found.append(_change(str(entry.get("id", "")), entry.get("time"), change, received_at))
    return found


def _change(waba_id: str, time: Any, change: dict[str, Any], received_at: datetime) -> MetaWebhookChange:
    value, field = change["value"], str(change.get("field", ""))
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    try:
        number = to_e164(str(metadata.get("display_phone_number") or ""))
    except ValueError:  # no number, or one we cannot read: the WABA keys the record instead
        number = None
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return MetaWebhookChange(
        event_id=derive_id("webhook", field, waba_id, hashlib.sha256(canonical.encode()).hexdigest()),
        received_at=received_at, field=field, waba_id=waba_id, entry_time=time if isinstance(time, int) else None,
        phone_number=number,
        phone_number_id=metadata.get("phone_number_id"), value=value)


@router.get("/webhooks/meta", response_class=PlainTextResponse, responses={403: {}})
async def verify(request: Request, mode: Annotated[str, Query(alias="hub.mode")] = "",
                 token: Annotated[str, Query(alias="hub.verify_token")] = "",
                 challenge: Annotated[str, Query(alias="hub.challenge", max_length=200)] = "") -> str:
    """Meta's subscription handshake: echo the challenge when the verify token is ours."""
    expected = request.app.state.deps.webhook_verify_token
    if mode != "subscribe" or not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(403, "The verify token does not match this gateway's.")
    return challenge


@router.post("/webhooks/meta", responses={400: {}, 401: {}, 503: {}})
async def receive(request: Request,
                  x_hub_signature_256: Annotated[str | None, Header()] = None) -> dict[str, int]:
    """Check the signature over the raw bytes, then publish each change and answer once the broker has it."""
    deps = request.app.state.deps
    if not deps.app_secret or deps.producer is None:
        raise HTTPException(503, "This gateway has no app secret configured, so it cannot check Meta's signature.")
    body = await request.body()
    if not signed_by(deps.app_secret, body, x_hub_signature_256):
        raise HTTPException(401, "The X-Hub-Signature-256 header does not match the body.")
    try:
        changes = changes_of(json.loads(body), deps.clock.now())
    except ValueError as error:  # json's decode errors are ValueErrors too
        raise HTTPException(400, f"Not a WhatsApp Business webhook: {error}.") from None
    await deps.producer.send_all((topics.META_WEBHOOKS.name, c.key, c.model_dump_json().encode(), {})
                                 for c in changes)
    return {"changes": len(changes)}
