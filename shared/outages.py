"""Which exceptions mean PostgreSQL or Kafka is away rather than a bug, so an HTTP API answers 503, not 500."""

from __future__ import annotations

import math
import socket

import asyncpg
from aiokafka.errors import KafkaError

RETRY_SECONDS = 5  # what a caller is told to wait when nothing better is known

BACKEND_AWAY: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, broken pipe: the server is down or restarting
    TimeoutError,
    socket.gaierror,
    asyncpg.PostgresConnectionError,  # the connection broke mid-statement
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up, crash recovery
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk or memory full
    KafkaError,
)


def backend_away(error: BaseException) -> bool:
    """True when waiting and retrying can help; asyncpg reports several failed addresses as a plain OSError."""
    if isinstance(error, BACKEND_AWAY):
        return True
    return type(error) is OSError and "connect" in str(error).lower()


def retry_seconds(retry_after: float | None) -> int:
    """A delay to announce: the one we were given, rounded up and kept within reason, else our default."""
    return min(300, max(1, math.ceil(retry_after))) if retry_after else RETRY_SECONDS
