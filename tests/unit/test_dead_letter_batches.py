"""Dead letters of a poll: sent without waiting, shortened when refused, reported when they cannot be written."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError, TopicAuthorizationFailedError

from shared.dead_letters import DeadLetters
from shared.kafka import Letter, Record

LIMIT = 4096


class FakeProducer:
    """Refuses letters over LIMIT as the client would; answers each send with the scripted broker outcome."""

    def __init__(self, broker: dict[int, BaseException] | None = None) -> None:
        self.broker = broker or {}
        self.sent: list[Letter] = []
        self.pending: list[asyncio.Future[Any]] = []

    async def send_dead_letter(self, letter: Letter) -> asyncio.Future[Any]:
        if len(letter.value) + sum(len(k) + len(v) for k, v in letter.headers) > LIMIT:
            raise MessageSizeTooLargeError("over the producer's limit")
        self.sent.append(letter)
        future = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        return future

    def acknowledge(self) -> None:
        """The broker answers every letter sent so far: the scripted error by send number, else success."""
        for index, future in enumerate(self.pending):
            if not future.done():
                future.set_exception(self.broker.pop(index)) if index in self.broker else future.set_result(index)


def record(offset: int, value: bytes) -> Record:
    return Record("numport.migration.requests", 1, offset, b"+5511987654321", value, (("trace", b"abc"),))


def header(letter: Letter, name: str) -> str:
    return dict(letter.headers)[name].decode()


async def settle(letters: DeadLetters, producer: FakeProducer) -> list[tuple[Record, BaseException]]:
    task = asyncio.create_task(letters.settle())
    while not task.done():
        producer.acknowledge()
        await asyncio.sleep(0)
    return task.result()


async def test_letters_are_all_sent_before_any_is_acknowledged():
    producer = FakeProducer()
    letters = DeadLetters(producer, "precheck", "numport.precheck")
    for offset in range(3):
        await letters.add(record(offset, b"{bad"), "malformed event: payload", ValueError("x"))
    assert len(producer.sent) == 3 and not any(f.done() for f in producer.pending)
    assert await settle(letters, producer) == []
    first = producer.sent[0]
    assert (first.topic, first.key, first.value) == ("numport.migration.requests.dlq", b"+5511987654321", b"{bad")
    assert header(first, "trace") == "abc" and header(first, "x-numport-dlq-consumer") == "numport.precheck"


async def test_a_letter_too_large_for_the_producer_is_shortened_at_once():
    producer, value = FakeProducer(), bytes(range(256)) * 40
    letters = DeadLetters(producer, "precheck", "numport.precheck")
    await letters.add(record(7, value), "malformed event: payload", ValueError("x"))
    assert await settle(letters, producer) == []
    [short] = producer.sent
    assert short.value == value[:1024] and short.key == b"+5511987654321"
    assert header(short, "x-numport-original-sha256") == hashlib.sha256(value).hexdigest()
    assert header(short, "x-numport-original-length") == str(len(value))
    assert header(short, "x-numport-original-offset") == "7"
    assert header(short, "x-numport-dlq-shortened").startswith("MessageSizeTooLargeError")
    assert "trace" not in dict(short.headers)


async def test_a_copy_the_broker_refuses_is_replaced_by_a_shortened_one():
    producer = FakeProducer({0: TopicAuthorizationFailedError()})
    letters = DeadLetters(producer, "precheck", "numport.precheck")
    await letters.add(record(3, b"{bad"), "malformed event: payload", ValueError("x"))
    assert await settle(letters, producer) == []
    assert [("x-numport-dlq-shortened" in dict(letter.headers)) for letter in producer.sent] == [False, True]


async def test_a_letter_the_broker_cannot_take_now_is_reported_unsent():
    producer = FakeProducer({1: KafkaConnectionError()})
    letters = DeadLetters(producer, "precheck", "numport.precheck")
    for offset in range(3):
        await letters.add(record(offset, b"{bad"), "malformed event: payload", ValueError("x"))
    [(unsent, outage)] = await settle(letters, producer)
    assert unsent.offset == 1 and isinstance(outage, KafkaConnectionError)
    assert len(producer.sent) == 3, "a retriable failure is not shortened: the record is read again instead"


async def test_secrets_in_the_reason_are_masked():
    producer = FakeProducer()
    letters = DeadLetters(producer, "precheck", "numport.precheck")
    await letters.add(record(0, b"{}"), "permanent failure: access_token=EAAG-very-secret", ValueError("x"))
    await settle(letters, producer)
    assert "EAAG-very-secret" not in header(producer.sent[0], "x-numport-dlq-reason")
