"""A poll handed to the runtime must be freed by reference counting alone, as soon as its callback returns.

FastStream caches a message's decoded body on the message. When the body was the message itself, every poll was a
cycle that only a full garbage collection freed; billing raises the collector's thresholds for speed, so a
million-event backlog kept its records in memory (peak RSS 168 -> 460 MiB) and ran a third slower.
"""

from __future__ import annotations

import asyncio
import gc
import weakref

from faststream.kafka.message import KafkaMessage

from shared.service import Poll, _raw_body


def test_a_decoded_poll_does_not_keep_its_message_alive() -> None:
    consumer, records = object(), [object(), object()]
    message = KafkaMessage(body=b"", raw_message=records, consumer=consumer)
    message.set_decoder(_raw_body)
    body = asyncio.run(message.decode())
    assert body == Poll(records, consumer)
    assert asyncio.run(message.decode()) is body  # FastStream's cache holds it, as it does while a poll is handled
    gone = weakref.ref(message)
    gc.disable()
    try:
        del message
        assert gone() is None, "the decoded body refers back to its message: a cycle only the collector frees"
    finally:
        gc.enable()
