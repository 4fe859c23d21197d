"""Consumption runtime: parse, deduplicate, run the handler with bounded retry, dead-letter what cannot be processed.

A poll is acknowledged only when its effects are committed and its dead letters acknowledged by the broker. Outages
of PostgreSQL are not the record's fault: those re-raise so the record is redelivered instead of dead-lettered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from pydantic import ValidationError

from shared import consumed, outbox
from shared.dead_letters import DeadLetters
from shared.errors import DuplicateEvent, PermanentError, TransientError
from shared.events import Event, parse_event
from shared.kafka import Record
from shared.metrics import CONSUMED, HANDLER_SECONDS
from shared.topics import Topic

log = logging.getLogger("numport.consumer")
UNDECODABLE = (ValidationError, ValueError, TypeError, UnicodeError)  # a record no retry will make readable
INFRA_ERRORS = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError)


@dataclass
class Tx:
    """An open transaction: save state through `conn`, queue events with `emit`; both commit together."""

    conn: asyncpg.Connection

    async def emit(self, *events: Event) -> None:
        await outbox.append(self.conn, events)


@dataclass
class Unit:
    """Handed to a single-event handler: do outside reads first, then save and emit in `transaction()`."""

    pool: asyncpg.Pool
    consumer: str
    event: Event

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self.pool.acquire() as conn, conn.transaction():
            if not await outbox.claim(conn, self.consumer, [self.event.event_id]):
                raise DuplicateEvent(str(self.event.event_id))
            yield Tx(conn)


    async def once(self, write: str, args: Sequence[Any] = (), events: Sequence[Event] = ()) -> None:
        """The event's whole effect as ONE statement, which commits on its own (no BEGIN/COMMIT round trips): the
        inbox claim, `write`, and `events` for the relay. `write` is one data-modifying statement over `$1..$n`
        (`args`) that acts only where `ONLY_IF_NEW` holds, so a duplicate changes nothing and emits nothing."""
        n = len(args)
        queued, queued_args = outbox.queued(list(events), first=n + 3, only_if=ONLY_IF_NEW)
        if not await self.pool.fetchval(
                f"WITH fresh AS (INSERT INTO inbox (consumer, event_id) VALUES (${n + 1}, ${n + 2}) "
                f"ON CONFLICT DO NOTHING RETURNING 1), written AS ({write}), {queued} "
                "SELECT EXISTS (SELECT FROM fresh) FROM (SELECT count(*) FROM notified) woken",
                *args, self.consumer, self.event.event_id, *queued_args):
            raise DuplicateEvent(str(self.event.event_id))


ONLY_IF_NEW = "EXISTS (SELECT FROM fresh)"  # in a `Unit.once` write: the event was not handled before
EventHandler = Callable[[Event, Unit], Awaitable[None]]
BatchHandler = Callable[[list[Event], Tx], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """A handler's place in the pipes: which topic, which of its event types, one event or batches."""

    name: str
    topic: Topic
    events: tuple[type[Event], ...]
    description: str
    batch: bool = False
    # Raw topics bring their own record model (with an event_id); a decoder returns None for a record it ignores.
    decode: Callable[[bytes], Any] = parse_event
    # False: the batch handler is idempotent by itself (it merges state), so no inbox row is kept per record.
    inbox: bool = True
    # False: the batch handler keeps each write to one statement and knows what it already did (no inbox either),
    # so no BEGIN and COMMIT are wrapped around it: the gateway's read model, two statements a poll.
    transaction: bool = True

    def __post_init__(self) -> None:
        if not self.transaction and (self.inbox or not self.batch):
            raise ValueError(f"{self.name}: only a batch subscription without an inbox may run outside a transaction")


@dataclass
class Consumer:
    service: str
    pool: asyncpg.Pool
    max_attempts: int
    backoff: float
    group_prefix: str = "numport"
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)

    @property
    def group(self) -> str:
        return f"{self.group_prefix}.{self.service}"

    def _parse(self, sub: Subscription, record: Record) -> Event | None:
        event = sub.decode(record.value)
        if event is None or (isinstance(event, Event) and type(event) not in sub.events):
            CONSUMED.labels(self.service, record.topic, "ignored").inc()
            return None
        return event

    async def _attempts(self, record: Record, run: Callable[[], Awaitable[None]], letters: DeadLetters) -> str:
        """Run with bounded retry; dead-letter permanent or exhausted failures; re-raise infrastructure outages."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                await run()
                return "processed"
            except DuplicateEvent:
                CONSUMED.labels(self.service, record.topic, "duplicate").inc()
                return "duplicate"
            except (PermanentError, ValidationError) as error:
                await letters.add(record, f"permanent failure: {error}", error)
                return "dead_lettered"
            except Exception as error:
                if attempt == self.max_attempts:
                    if isinstance(error, INFRA_ERRORS):
                        raise  # not the record's fault: leave it unacknowledged and have it redelivered
                    await letters.add(record, f"gave up after {attempt} attempts: {error!r}", error)
                    return "dead_lettered"
                log.warning("handler failed, retrying", extra={"attempt": attempt, "error": repr(error)})
                await self.sleep(self._delay(attempt, error))
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, error: Exception) -> float:
        if isinstance(error, TransientError) and error.retry_after is not None:
            return error.retry_after
        return random.uniform(0, self.backoff * 2 ** (attempt - 1))

    async def handle(self, sub: Subscription, handler: EventHandler, record: Record, letters: DeadLetters) -> None:
        with consumed.record(record) as seen:
            seen.outcome = await self._handle(sub, handler, record, letters, seen)

    async def _handle(self, sub: Subscription, handler: EventHandler, record: Record, letters: DeadLetters,
                      seen: consumed.Seen) -> str:
        try:
            event = self._parse(sub, record)
        except UNDECODABLE as error:
            await letters.add(record, f"malformed event: {_summary(error)}", error)
            return "dead_lettered"
        if event is None:
            return "ignored"
        seen.about(event)  # a duplicate is found by the claim inside the handler's transaction: one round trip less
        started = time.perf_counter()
        outcome = await self._attempts(record, lambda: handler(event, Unit(self.pool, self.group, event)), letters)
        HANDLER_SECONDS.labels(self.service, record.topic).observe(time.perf_counter() - started)
        if outcome == "processed":
            CONSUMED.labels(self.service, record.topic, "processed").inc()
        return outcome

    async def handle_batch(self, sub: Subscription, handler: BatchHandler, records: list[Record],
                           letters: DeadLetters) -> None:
        """One transaction for the whole batch; a failing batch is halved until the poison record stands alone."""
        with consumed.batch(sub.topic.name, records) as counts:
            parsed: list[tuple[Record, Event]] = []
            for record in records:
                try:
                    if (event := self._parse(sub, record)) is not None:
                        parsed.append((record, event))
                except UNDECODABLE as error:
                    counts.malformed += 1
                    await letters.add(record, f"malformed event: {_summary(error)}", error)
            counts.events = len(parsed)
            if not parsed:
                return
            started = time.perf_counter()
            await self._bisect(sub, handler, parsed, letters)
            HANDLER_SECONDS.labels(self.service, sub.topic.name).observe(time.perf_counter() - started)
            CONSUMED.labels(self.service, sub.topic.name, "processed").inc(len(parsed))

    async def _bisect(self, sub: Subscription, handler: BatchHandler, items: list[tuple[Record, Event]],
                      letters: DeadLetters) -> None:
        try:
            await self._run_batch(sub, handler, [event for _, event in items])
        except INFRA_ERRORS:
            raise
        except Exception as error:
            if len(items) == 1:
                record, event = items[0]
                await self._attempts(record, lambda: self._run_batch(sub, handler, [event]), letters)
                return
            log.warning("batch failed, splitting it", extra={"size": len(items), "error": repr(error)})
            middle = len(items) // 2
            await self._bisect(sub, handler, items[:middle], letters)
            await self._bisect(sub, handler, items[middle:], letters)

    async def _run_batch(self, sub: Subscription, handler: BatchHandler, events: list[Event]) -> None:
        if not sub.transaction:
            async with self.pool.acquire() as conn:
                await handler(events, Tx(conn))
            return
        async with self.pool.acquire() as conn, conn.transaction():
            if not sub.inbox:
                await handler(events, Tx(conn))
                return
            unique = list({e.event_id: e for e in reversed(events)}.values())[::-1]
            fresh = await outbox.claim(conn, self.group, [e.event_id for e in unique])
            if fresh:
                await handler([e for e in unique if e.event_id in fresh], Tx(conn))


def _summary(error: Exception) -> str:
    if not isinstance(error, ValidationError):  # a raw topic's own decoder: its message is the reason
        return f"{type(error).__name__}: {error}"
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}" for e in error.errors()[:5]]
    return "; ".join(parts)
