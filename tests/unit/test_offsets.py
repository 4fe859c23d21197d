"""Consumer positions go out once per interval, on revocation and on stop; a failed commit is never fatal."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError

from shared.offsets import Offsets

A, B = TopicPartition("t", 0), TopicPartition("t", 1)


class FakeMember:
    def __init__(self, fail: bool = False) -> None:
        self.assigned, self.commits, self.fail = {A, B}, [], fail

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.fail:
            raise CommitFailedError("rebalanced meanwhile")
        self.commits.append(dict(offsets))


async def test_many_polls_make_one_commit_of_the_latest_positions() -> None:
    member, offsets = FakeMember(), Offsets(every=0.05)
    for end in range(1, 30):
        await offsets.handled(member, {("t", 0): end})
    await offsets.handled(member, {("t", 1): 7})
    assert member.commits == []  # nothing on the poll's path
    await asyncio.sleep(0.15)
    assert member.commits == [{A: 29, B: 7}]


async def test_a_stop_commits_at_once_and_a_revoked_partition_takes_its_position_along() -> None:
    member, offsets = FakeMember(), Offsets(every=60)
    await offsets.handled(member, {("t", 0): 5, ("t", 1): 9})
    await offsets.on_partitions_revoked([B])
    assert member.commits == [{B: 9}]
    await offsets.flush()
    assert member.commits == [{B: 9}, {A: 5}]


async def test_positions_of_partitions_no_longer_ours_are_not_committed() -> None:
    member, offsets = FakeMember(), Offsets(every=60)
    await offsets.handled(member, {("t", 0): 5, ("t", 1): 9})
    member.assigned = {A}
    await offsets.on_partitions_assigned([A])  # A came back: what was remembered for it is stale
    await offsets.flush()
    assert member.commits == []


async def test_a_failed_commit_is_logged_and_its_positions_go_out_with_the_next_one(caplog) -> None:
    member, offsets = FakeMember(fail=True), Offsets(every=60)
    await offsets.handled(member, {("t", 0): 5, ("t", 1): 3})
    await offsets.commit()
    assert "not committed yet" in caplog.text
    member.fail = False
    await offsets.handled(member, {("t", 1): 4})  # a later poll moved on: its position wins
    await offsets.flush()
    assert member.commits == [{A: 5, B: 4}]


async def test_once_stopping_each_poll_is_committed_as_it_ends() -> None:
    member, offsets = FakeMember(), Offsets(every=60)
    await offsets.flush()
    await offsets.handled(member, {("t", 0): 8})
    assert member.commits == [{A: 8}]
