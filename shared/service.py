"""The process every numport service runs in: pool, producer, subscribers, outbox relay, probes, graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import signal
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError
from faststream.kafka import KafkaBroker
from faststream.middlewares import AckPolicy

from shared import db, http, tracing
from shared.clock import Clock, SystemClock
from shared.clock import from_environment as clock_from_environment
from shared.consumer import BatchHandler, Consumer, EventHandler, Subscription
from shared.kafka import Producer, Record, ensure_dead_letter_topics
from shared.kafka_connection import KafkaConnection
from shared.logging import configure
from shared.metrics import CONSUMER_LAG
from shared.offsets import Offsets
from shared.outbox import Relay
from shared.polling import Poller, Routes
from shared.request_log import RequestLog
from shared.settings import ServiceSettings, kafka_connection
from shared.stuck import StuckPartitions

log = logging.getLogger("numport.service")
Handlers = dict[str, EventHandler | BatchHandler]
# A poll waits up to this long for records; any that arrive end the wait at once. FastStream's own batch poll also
# pauses as long after an empty poll (a record arriving then waited for the pause), which idle cost every member
# ten wake-ups a second: `_long_poll` replaces it.
EVENT_POLL_MS = 2000
# aiokafka's fetch loop wakes every `consumer_timeout_ms` (200 by default) even with nothing to do, though
# consumption, seeks and rebalances wake it anyway. (A longer broker-side fetch wait, fetch_max_wait_ms, would save a
# little more idle but cost billing a fifth of its rate: 33.6k against 41.5k events/s at 1M.)
FETCHER_WAKE_MS = 2000
# A batch subscription's fetch per partition (aiokafka's default is 1 MiB). With 1 MiB a backlog's next fetch had
# not arrived when the handler asked for it: billing waited 17 s of a 29 s million-event run for records, and ran at
# 35k events/s; with 4 MiB a poll leaves records behind to start the next one, and it ran at 43k.
BATCH_FETCH_BYTES = 4 << 20


@dataclass
class Runtime:
    """Process-wide resources handed to a service's composition root."""

    settings: ServiceSettings
    pool: asyncpg.Pool
    producer: Producer
    clock: Clock = field(default_factory=SystemClock)


@dataclass
class Wired:
    """What a composition root hands back: a handler per subscription and, for the gateway, an HTTP API."""

    handlers: Handlers
    api: Any = None  # an ASGI app served next to the probes
    background: tuple[Callable[[], Coroutine[Any, Any, None]], ...] = ()  # long-running loops (a scheduler)
    scrape: tuple[Callable[[], Coroutine[Any, Any, None]], ...] = ()  # refresh read-model metrics before /metrics


@dataclass
class ServiceSpec:
    """What a service is: its name, its subscriptions, its SQL, and how to wire handlers to resources."""

    name: str
    description: str
    subscriptions: tuple[Subscription, ...]
    wire: Callable[[Runtime], contextlib.AbstractAsyncContextManager[Wired]]
    migrations: Path | None = None
    settings_model: type[ServiceSettings] = ServiceSettings


def _record(raw: Any) -> Record:
    return Record(raw.topic, raw.partition, raw.offset, raw.key, raw.value or b"", tuple(raw.headers or ()))


def subscribe(broker: KafkaBroker, spec: ServiceSpec, poller: Poller, handlers: Handlers,
              max_records: int) -> list[Offsets]:
    """One group member per service (and per delivery mode) over all its topics, so start-up joins the group once.

    Both modes read whole polls: records are handled in order, and a poll's positions are committed (within a
    second, see shared/offsets.py) only after its effects committed and its dead letters were acknowledged.
    """
    members: list[Offsets] = []
    for batch in (False, True):
        routes = {sub.topic.name: (sub, handlers[sub.name]) for sub in spec.subscriptions if sub.batch is batch}
        if not routes:
            continue
        if len(routes) < sum(sub.batch is batch for sub in spec.subscriptions):
            raise ValueError(f"{spec.name}: one subscription per topic and delivery mode")
        members.append(offsets := Offsets())
        options: dict[str, Any] = dict(
            group_id=poller.consumer.group, ack_policy=AckPolicy.MANUAL, auto_offset_reset="earliest",
            title=f"{spec.name}.{'batch' if batch else 'events'}", decoder=_raw_body, listener=offsets,
            description="; ".join(sub.description for sub, _ in routes.values()),
            consumer_timeout_ms=FETCHER_WAKE_MS)
        if batch:
            options["max_partition_fetch_bytes"] = BATCH_FETCH_BYTES
        subscriber = broker.subscriber(*routes, batch=True, max_records=max_records, **options)
        subscriber(_poll_callback(poller, routes, offsets))
        _long_poll(subscriber, max_records)
    return members


def _long_poll(subscriber: Any, max_records: int) -> None:
    """Poll without FastStream's pause after an empty poll: the wait for records ends when they arrive, so a long
    wait costs nothing in latency and lets an idle member sleep (stopping cancels the wait)."""

    if not callable(getattr(subscriber, "get_msg", None)):  # a FastStream that polls otherwise: look again here
        raise RuntimeError(f"{type(subscriber).__name__} has no get_msg to replace; see shared/service.py")

    async def get_msg(consumer: Any) -> tuple[Any, ...]:
        found = await consumer.getmany(timeout_ms=EVENT_POLL_MS, max_records=max_records)
        return tuple(itertools.chain.from_iterable(found.values()))

    subscriber.get_msg = get_msg


class Poll(NamedTuple):
    """What a poll's callback needs of FastStream's message: its records and the member that fetched them."""

    raw_message: Any
    consumer: Any


async def _raw_body(message: Any) -> Poll:
    """Leave decoding to the runtime, so a malformed body is dead-lettered instead of failing inside FastStream.

    The poll itself is the "body": a handler asking for FastStream's `KafkaMessage` from its context would have
    that resolved in a worker thread for every poll. Not the message itself: FastStream caches the decoded body on
    the message, and a message holding itself is a cycle only the garbage collector frees, so every poll's records
    stayed in memory until a full collection (billing's RSS 168 -> 460 MiB and a third of its rate)."""
    return Poll(message.raw_message, message.consumer)


def _poll_callback(poller: Poller, routes: Routes, offsets: Offsets) -> Callable[..., Any]:
    async def on_poll(message: Any) -> None:  # a Poll; `Any` so FastStream does not validate it
        records = [_record(r) for r in message.raw_message]
        try:
            resume = await poller.consume(routes, records)
        except BaseException:
            resume = {(r.topic, r.partition): r.offset for r in reversed(records)}  # each partition's first
            _seek(message.consumer, resume)
            raise
        _seek(message.consumer, resume)  # read these again, from here
        positions = {(r.topic, r.partition): r.offset + 1 for r in records} | resume
        await offsets.handled(message.consumer, positions)
        _report_lag(message.consumer, poller.consumer.service, positions)

    return on_poll


def _seek(consumer: Any, resume: dict[tuple[str, int], int]) -> None:
    for (topic, partition), offset in resume.items():
        with contextlib.suppress(IllegalStateError):  # revoked meanwhile: its next owner starts from the commit
            consumer.seek(TopicPartition(topic, partition), offset)


def _report_lag(consumer: Any, service: str, positions: dict[tuple[str, int], int]) -> None:
    """Per partition of the poll: its end as the last fetch saw it, less where this member goes on from."""
    for (topic, partition), position in positions.items():
        end = getattr(consumer, "highwater", lambda _: None)(TopicPartition(topic, partition))
        if end is not None:
            CONSUMER_LAG.labels(service, topic, str(partition)).set(max(0, end - position))


async def _prepare_dead_letter_topics(connection: KafkaConnection, spec: ServiceSpec) -> None:
    """Without the rights to create or alter topics the service still runs: oversized dead letters get shortened."""
    try:
        await ensure_dead_letter_topics(connection, [sub.topic.name for sub in spec.subscriptions])
    except Exception as error:
        log.error("dead-letter topics not prepared; dead letters that do not fit will be shortened",
                  extra={"error": repr(error)})


@contextlib.asynccontextmanager
async def running(spec: ServiceSpec, settings: ServiceSettings, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    """Start everything in dependency order; on exit stop consuming, drain the outbox, then close resources."""
    pool = await db.open_pool(settings.database_url, spec.name, spec.migrations, settings.db_pool_max)
    connection = kafka_connection(settings)
    producer = Producer(connection, client_id=f"numport-{spec.name}")
    await producer.start()
    runtime = Runtime(settings, pool, producer, clock or clock_from_environment())
    relay = Relay(pool, producer, spec.name, settings.relay_batch_size, settings.relay_idle_seconds,
                  settings.database_url, settings.relay_listening_seconds, settings.retention_hours)
    broker = KafkaBroker(connection.bootstrap, client_id=f"numport-{spec.name}",
                         security=connection.faststream_security(), logger=logging.getLogger("faststream"))
    consumer = Consumer(spec.name, pool, settings.consumer_max_attempts, settings.consumer_backoff_seconds,
                        settings.consumer_group_prefix)
    poller = Poller(consumer, producer, StuckPartitions(spec.name, settings.consumer_stuck_seconds))
    relaying: list[asyncio.Task[Any]] = []
    try:
        async with spec.wire(runtime) as wired:
            loops: list[asyncio.Task[Any]] = []
            try:  # the loops stop before `wire` is left: closing a pool waits for every connection a loop holds
                await _prepare_dead_letter_topics(connection, spec)
                members = subscribe(broker, spec, poller, wired.handlers, settings.batch_max_records)
                relaying.append(asyncio.create_task(relay.run(), name="outbox-relay"))
                loops += [asyncio.create_task(loop(), name=loop.__name__) for loop in wired.background]
                await broker.start()
                app = http.Probes(spec.name, pool, broker, relay, poller.stuck.stuck, wired.scrape).app()
                if wired.api is not None:  # every path the probes do not serve, whatever it holds (a mount's
                    app.router.default = RequestLog(wired.api, spec.name)  # pattern stops at a newline: bare 404)
                async with http.serve(app, settings.http_host, settings.http_port) as port:
                    log.info("service started", extra={"http_port": port, "subscriptions": len(spec.subscriptions)})
                    yield runtime
                for member in members:
                    await member.flush()
                await broker.stop()
            finally:
                await _cancel(loops)
            await relay.drain()
    finally:
        await _cancel(relaying)
        await broker.stop()
        await producer.stop()
        await pool.close()


async def _cancel(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def serve_forever(spec: ServiceSpec, settings: ServiceSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running(spec, settings):
        await stop.wait()
        log.info("shutting down on signal")
    log.info("service stopped")


def main(spec: ServiceSpec) -> None:
    from shared.settings import load

    settings = load(spec.settings_model)
    configure(spec.name, settings.log_level)
    traces = tracing.configure(spec.name, settings.traces_endpoint, settings.traces_file)
    try:
        asyncio.run(serve_forever(spec, settings))
    finally:
        if traces is not None:
            traces.shutdown()  # sends the spans still batched
