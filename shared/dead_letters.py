"""Dead letters of one poll: sent together, awaited together, shortened when a full copy cannot be written."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka.errors import BrokerResponseError

from shared.kafka import Letter, Producer, Record
from shared.logging import log_context, redact_text
from shared.metrics import CONSUMED, DEAD_LETTERED, DEAD_LETTERS_SHORTENED

log = logging.getLogger("numport.consumer")
PREVIEW_BYTES = 1024  # how much of the value (and at most of the key) a shortened dead letter keeps
REASON_BYTES = 4000


def _why(record: Record, consumer: str, reason: str, error_type: str) -> list[tuple[str, bytes]]:
    return [("x-numport-dlq-reason", reason.encode()[:REASON_BYTES]),
            ("x-numport-dlq-error-type", error_type.encode()),
            ("x-numport-dlq-consumer", consumer.encode()),
            ("x-numport-original-topic", record.topic.encode()),
            ("x-numport-original-partition", str(record.partition).encode()),
            ("x-numport-original-offset", str(record.offset).encode())]


def full_copy(record: Record, consumer: str, reason: str, error_type: str) -> Letter:
    """The original key, value and headers, plus why the record could not be processed."""
    return Letter(f"{record.topic}.dlq", record.key, record.value,
                  (*record.headers, *_why(record, consumer, reason, error_type)))


def shortened(record: Record, consumer: str, reason: str, error_type: str, refusal: str) -> Letter:
    """What still identifies a record no dead-letter topic takes whole: its hash, length and first bytes.

    The original headers are left out: they may be what made the copy too large.
    """
    headers = (*_why(record, consumer, reason, error_type),
               ("x-numport-dlq-shortened", refusal.encode()[:REASON_BYTES]),
               ("x-numport-original-sha256", hashlib.sha256(record.value).hexdigest().encode()),
               ("x-numport-original-length", str(len(record.value)).encode()),
               ("x-numport-original-header-count", str(len(record.headers)).encode()))
    key = record.key[:PREVIEW_BYTES] if record.key is not None else None
    return Letter(f"{record.topic}.dlq", key, record.value[:PREVIEW_BYTES], headers)


def refused(error: BaseException) -> bool:
    """The broker (or the producer's own size check) will never take this letter; sending it again cannot help."""
    return isinstance(error, BrokerResponseError) and not error.retriable


@dataclass
class _Sent:
    record: Record
    reason: str
    error_type: str
    outcome: asyncio.Future[Any]
    short: bool = False
    context: Mapping[str, Any] = field(default_factory=dict)  # what was being handled: its correlation id


class DeadLetters:
    """Collects the dead letters of one poll; `settle()` waits for the broker before anything is acknowledged."""

    def __init__(self, producer: Producer, service: str, consumer: str) -> None:
        self.producer, self.service, self.consumer = producer, service, consumer
        self._sent: list[_Sent] = []

    async def add(self, record: Record, reason: str, error: Exception) -> None:
        """Send at once, without waiting for the acknowledgement."""
        sent = await self._send(record, redact_text(reason), type(error).__name__)
        sent.context = log_context.get()
        self._sent.append(sent)

    async def _send(self, record: Record, reason: str, error_type: str, refusal: BaseException | None = None) -> _Sent:
        """A full copy first; a shortened letter once a full copy was refused."""
        if refusal is None:
            letter = full_copy(record, self.consumer, reason, error_type)
        else:
            letter = shortened(record, self.consumer, reason, error_type, f"{type(refusal).__name__}: {refusal}")
        try:
            outcome = await self.producer.send_dead_letter(letter)
        except Exception as failure:
            if refusal is None and refused(failure):
                return await self._send(record, reason, error_type, failure)
            outcome = _failed(failure)
        return _Sent(record, reason, error_type, outcome, short=refusal is not None)

    async def settle(self) -> list[tuple[Record, BaseException]]:
        """Wait for every letter; a refused full copy is sent again shortened. Returns the letters not written."""
        await asyncio.gather(*(s.outcome for s in self._sent), return_exceptions=True)
        for index, sent in enumerate(self._sent):
            if not sent.short and (error := sent.outcome.exception()) is not None and refused(error):
                self._sent[index] = await self._send(sent.record, sent.reason, sent.error_type, error)
                self._sent[index].context = sent.context
        await asyncio.gather(*(s.outcome for s in self._sent), return_exceptions=True)
        unsent = [(s.record, error) for s in self._sent if (error := s.outcome.exception()) is not None]
        for sent in self._sent:
            if sent.outcome.exception() is None:
                self._count(sent)
        self._sent = []
        return unsent

    def _count(self, sent: _Sent) -> None:
        record = sent.record
        DEAD_LETTERED.labels(self.service, record.topic).inc()
        CONSUMED.labels(self.service, record.topic, "dead_lettered").inc()
        if sent.short:
            DEAD_LETTERS_SHORTENED.labels(self.service, record.topic).inc()
        log.error("record dead-lettered" + (" (shortened: no full copy could be written)" if sent.short else ""),
                  extra={**sent.context, "reason": sent.reason, "topic": record.topic,
                         "partition": record.partition, "offset": record.offset})


def _failed(error: BaseException) -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    future.set_exception(error)
    return future
