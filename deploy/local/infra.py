"""Where Kafka and PostgreSQL come from: given addresses, then testcontainers, then local processes.

Tests, the demo and benchmarks all resolve infrastructure here, in the same order.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("numport.infra")


@dataclass
class Infra:
    kafka_bootstrap: str
    database_url: str
    kafka_source: str
    database_source: str
    startup_seconds: dict[str, float] = field(default_factory=dict)
    _stops: list[Callable[[], None]] = field(default_factory=list, repr=False)
    servers: dict[str, Any] = field(default_factory=dict, repr=False)  # local processes, for outage drills

    def outage(self, name: str) -> contextlib.AbstractContextManager[None]:
        """Halt the local `postgres` or `kafka` server inside the block and bring it back, same port and data."""
        server = self.servers.get(name)
        if server is None:
            raise RuntimeError(f"{name} is not a local process here ({self.database_source}, {self.kafka_source})")
        return _halted(server)

    def stop(self) -> None:
        while self._stops:
            with contextlib.suppress(Exception):
                self._stops.pop()()


@contextlib.contextmanager
def _halted(server: Any) -> Iterator[None]:
    server.halt()
    try:
        yield
    finally:
        server.resume()


def docker_answers() -> bool:
    if os.environ.get("NUMPORT_NO_DOCKER"):
        return False
    try:
        import docker  # shipped with testcontainers

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


Started = tuple[str, str, Callable[[], None], Any]  # address, where it came from, how to stop it, local server


def _kafka_container() -> Started:
    try:
        from testcontainers.community.kafka import KafkaContainer
    except ImportError:  # testcontainers < 4.14 kept the modules at the top level
        from testcontainers.kafka import KafkaContainer
    container = KafkaContainer("apache/kafka:3.9.1").with_kraft()
    container.start()
    return container.get_bootstrap_server(), "testcontainers", container.stop, None


def _kafka_local() -> Started:
    from deploy.local import kafka

    broker = kafka.start()
    return broker.bootstrap, f"local java (Kafka {kafka.KAFKA_VERSION})", broker.stop, broker


def _postgres_container() -> Started:
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        from testcontainers.postgres import PostgresContainer
    container = PostgresContainer("postgres:16-alpine", driver=None)
    container.start()
    return container.get_connection_url(), "testcontainers", container.stop, None


def _postgres_local() -> Started:
    from deploy.local import postgres

    server = postgres.start()
    return server.url, f"local pg_ctl ({server.bindir.parent.name})", server.stop, server


def _resolve(name: str, variable: str, container: Callable[[], Started], local: Callable[[], Started],
             stops: list[Callable[[], None]], timings: dict[str, float], servers: dict[str, Any]) -> tuple[str, str]:
    """Given address first, then a container when Docker answers, else a local process."""
    if address := os.environ.get(variable):
        return address, "environment"
    began = time.monotonic()
    address, source, stop, server = container() if docker_answers() else local()
    stops.append(stop)
    if server is not None:
        servers[name] = server
    timings[name] = round(time.monotonic() - began, 2)
    return address, source


def start() -> Infra:
    stops: list[Callable[[], None]] = []
    timings: dict[str, float] = {}
    servers: dict[str, Any] = {}
    try:
        database_url, database_source = _resolve("postgres", "NUMPORT_DATABASE_URL", _postgres_container,
                                                 _postgres_local, stops, timings, servers)
        kafka_bootstrap, kafka_source = _resolve("kafka", "NUMPORT_KAFKA_BOOTSTRAP", _kafka_container,
                                                 _kafka_local, stops, timings, servers)
    except BaseException:
        for stop in reversed(stops):
            with contextlib.suppress(Exception):
                stop()
        raise
    return Infra(kafka_bootstrap, database_url, kafka_source, database_source, timings, stops, servers)


@contextlib.contextmanager
def running() -> Iterator[Infra]:
    infra = start()
    try:
        yield infra
    finally:
        infra.stop()
