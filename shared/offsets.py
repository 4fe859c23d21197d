"""Consumer positions committed at most once a second per group member, not after every poll.

A commit per poll was a round trip to the broker (and a write to its offsets log) for every handful of records:
about a fifth of a small service's CPU under load. Records handled since the last commit are read again after a
crash, which the runtime already expects after any crash: the inbox recognises them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

log = logging.getLogger("numport.consumer")
Positions = dict[tuple[str, int], int]  # (topic, partition) -> the offset to go on from
COMMIT_EVERY_SECONDS = 1.0


class Offsets(ConsumerRebalanceListener):  # type: ignore[misc]
    """One group member's handled positions; given to its subscriber as the rebalance listener, so a partition
    handed to another member takes its last position along."""

    def __init__(self, every: float = COMMIT_EVERY_SECONDS) -> None:
        self.every = every
        self.consumer: Any = None
        self._pending: Positions = {}
        self._later: asyncio.Task[None] | None = None
        self._closing = False

    async def handled(self, consumer: Any, positions: Positions) -> None:
        """After a poll's effects committed: its positions go out with the next commit, within `every` (at once
        once the member is stopping: a poll that ends after `flush` is committed before the member closes)."""
        self.consumer = consumer
        self._pending.update(positions)
        if self._closing:
            await self.commit()
        elif self._later is None or self._later.done():
            self._later = asyncio.create_task(self._commit_later(), name="offsets-commit")

    async def _commit_later(self) -> None:
        await asyncio.sleep(self.every)
        await self.commit()

    async def commit(self, only: set[TopicPartition] | None = None) -> None:
        """Commit what is pending (of `only`, if given) for the partitions still assigned; a failure is logged and
        the records are read again later (by this member or the next owner), never skipped."""
        if self.consumer is None:
            return
        assigned = self.consumer.assignment()
        chosen = {TopicPartition(*tp): offset for tp, offset in self._pending.items()
                  if TopicPartition(*tp) in assigned and (only is None or TopicPartition(*tp) in only)}
        for tp in chosen:
            self._pending.pop((tp.topic, tp.partition), None)
        if not chosen:
            return
        try:
            await self.consumer.commit(chosen)
        except (KafkaError, asyncio.CancelledError) as error:
            for tp, offset in chosen.items():  # kept for the next commit, unless a later poll moved on meanwhile
                self._pending.setdefault((tp.topic, tp.partition), offset)
            if isinstance(error, asyncio.CancelledError):
                raise
            log.warning("consumer positions not committed yet; tried again with the next commit",
                        extra={"error": repr(error), "partitions": len(chosen)})

    async def flush(self) -> None:
        """Before the member stops: commit everything handled, and from now on each poll as it ends."""
        self._closing = True
        if self._later is not None:
            self._later.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._later
        await self.commit()

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.commit(set(revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        for tp in assigned:  # a position remembered from an earlier ownership is stale now
            self._pending.pop((tp.topic, tp.partition), None)
