"""AsyncAPI 3.0 documents generated from a service's subscriptions, the topic map and the event models."""

from __future__ import annotations

import inspect
from typing import Any

import yaml

from shared import topics
from shared.events import Event

DLQ_HEADERS = {
    "type": "object",
    "description": "Original headers plus why the record could not be processed. A record too large for any "
                   "copy is shortened: its first 1 KiB, its SHA-256 and length, and x-numport-dlq-shortened.",
    "properties": {name: {"type": "string"} for name in (
        "x-numport-dlq-reason", "x-numport-dlq-error-type", "x-numport-dlq-consumer",
        "x-numport-original-topic", "x-numport-original-partition", "x-numport-original-offset",
        "x-numport-dlq-shortened", "x-numport-original-sha256", "x-numport-original-length",
        "x-numport-original-header-count")},
}


KAFKA_BINDING = "0.5.0"
KEY = {"type": "string", "description": "The business number in E.164 (or, for Meta's WABA-level webhooks, the WABA "
                                        "id): one number's records share a partition and stay in order."}


def explained(model: type[Any]) -> tuple[str, str]:
    """(summary, description) from the class docstring, which every message must have."""
    doc = inspect.getdoc(model) if model.__doc__ else None
    if not doc:
        raise ValueError(f"{model.__name__} has no docstring: every message needs a summary for its subscribers")
    summary, _, rest = doc.partition("\n")
    return summary.strip(), (rest.strip() or summary.strip())


def _message(event: type[Event]) -> dict[str, Any]:
    schema = event.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    summary, description = explained(event)
    return {"name": event.__name__, "title": event.__name__, "summary": summary, "description": description,
            "contentType": "application/json", "payload": schema,
            "bindings": {"kafka": {"key": KEY, "bindingVersion": KAFKA_BINDING}}}


def _channel(topic: topics.Topic, messages: dict[str, Any]) -> dict[str, Any]:
    return {"address": topic.name, "description": topic.description, "messages": messages,
            "bindings": {"kafka": {"topic": topic.name, "partitions": topic.partitions,
                                   "bindingVersion": KAFKA_BINDING}}}


def _schemas(events: set[type[Event]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for event in events:
        found.update(event.model_json_schema(ref_template="#/components/schemas/{model}").get("$defs", {}))
    return found


def document(spec: Any) -> dict[str, Any]:
    consumed = {sub.topic for sub in spec.subscriptions}
    produced = {t for t in topics.ALL if spec.name in t.producers}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    events: set[type[Event]] = set()
    for topic in sorted(consumed | produced, key=lambda t: t.name):
        channels[topic.name] = _channel(topic, {e.__name__: {"$ref": f"#/components/messages/{e.__name__}"}
                                                for e in topic.events})
        events.update(topic.events)
    for sub in spec.subscriptions:
        operations[f"on_{sub.name}"] = {
            "action": "receive", "channel": {"$ref": f"#/channels/{sub.topic.name}"}, "description": sub.description,
            "messages": [{"$ref": f"#/channels/{sub.topic.name}/messages/{e.__name__}"} for e in sub.events],
            "bindings": {"kafka": {"groupId": {"type": "string", "description": "<NUMPORT_CONSUMER_GROUP_PREFIX>."
                                               f"{spec.name} (default numport.{spec.name})"},
                                   "bindingVersion": KAFKA_BINDING}}}
        channels[sub.topic.dlq] = {
            "address": sub.topic.dlq, "description": f"Dead letters of {spec.name}.",
            "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
            "bindings": {"kafka": {"topic": sub.topic.dlq, "partitions": sub.topic.partitions,
                                   "bindingVersion": KAFKA_BINDING}}}
        operations[f"dead_letter_{sub.name}"] = {"action": "send", "channel": {"$ref": f"#/channels/{sub.topic.dlq}"}}
    for topic in sorted(produced, key=lambda t: t.name):
        operations[f"to_{topic.name.split('.', 1)[1].replace('.', '_').replace('-', '_')}"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{topic.name}"},
            "messages": [{"$ref": f"#/channels/{topic.name}/messages/{e.__name__}"} for e in topic.events]}
    messages = {e.__name__: _message(e) for e in sorted(events, key=lambda e: e.__name__)}
    messages["DeadLetter"] = {"name": "DeadLetter", "title": "DeadLetter", "contentType": "application/octet-stream",
                              "summary": "The original record, byte for byte, with the original key.",
                              "description": "Written when a record could not be processed; the headers say why "
                                             "and where it came from.",
                              "headers": DLQ_HEADERS, "payload": {"type": "string", "format": "binary"}}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"numport {spec.name}", "version": "1.0.0", "description": spec.description},
        "defaultContentType": "application/json",
        "channels": channels, "operations": operations,
        "components": {"messages": messages, "schemas": _schemas(events)},
    }


def render(spec: Any) -> str:
    return yaml.safe_dump(document(spec), sort_keys=True, allow_unicode=True, width=120)
