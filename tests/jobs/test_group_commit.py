from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from jobs.group_commit import GroupCommit


class Recorder:
    def __init__(self, fail_batch: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.fail_batch = fail_batch

    async def run(self, batch: Sequence[int]) -> list[int | Exception]:
        self.batches.append(list(batch))
        await asyncio.sleep(0.01)
        if self.fail_batch:
            raise RuntimeError("database is gone")
        return [ValueError(item) if item < 0 else item * 10 for item in batch]


async def test_calls_that_arrive_while_a_batch_runs_form_the_next_batch() -> None:
    recorder = Recorder()
    commit: GroupCommit[int, int] = GroupCommit(recorder.run)
    first = asyncio.create_task(commit.submit(1))
    await asyncio.sleep(0)  # the first batch starts with the one call
    rest = [asyncio.create_task(commit.submit(n)) for n in (2, -3, 4)]

    outcomes = await asyncio.gather(first, *rest, return_exceptions=True)

    assert recorder.batches == [[1], [2, -3, 4]]
    assert outcomes[:2] == [10, 20] and outcomes[3] == 40
    assert isinstance(outcomes[2], ValueError)  # only its own caller sees it


async def test_a_failed_batch_fails_each_of_its_callers_with_its_own_exception() -> None:
    commit: GroupCommit[int, int] = GroupCommit(Recorder(fail_batch=True).run)
    outcomes = await asyncio.gather(commit.submit(1), commit.submit(2), return_exceptions=True)
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
    assert outcomes[0] is not outcomes[1]


async def test_a_batch_that_fails_as_a_whole_is_run_again_item_by_item() -> None:
    batches: list[list[int]] = []

    async def run(batch: Sequence[int]) -> list[int | Exception]:
        batches.append(list(batch))
        if 13 in batch:
            raise RuntimeError("the database rejected item 13")
        return [item * 10 for item in batch]

    commit: GroupCommit[int, int] = GroupCommit(run)
    outcomes = await asyncio.gather(*(commit.submit(n) for n in (1, 13, 2)), return_exceptions=True)

    assert batches == [[1, 13, 2], [1], [13], [2]]
    assert outcomes[0] == 10 and outcomes[2] == 20
    assert isinstance(outcomes[1], RuntimeError)


async def test_a_caller_that_gave_up_before_its_batch_is_left_out() -> None:
    recorder = Recorder()
    commit: GroupCommit[int, int] = GroupCommit(recorder.run)
    first = asyncio.create_task(commit.submit(1))
    await asyncio.sleep(0)
    abandoned = asyncio.create_task(commit.submit(2))
    kept = asyncio.create_task(commit.submit(3))
    await asyncio.sleep(0)
    abandoned.cancel()
    assert await first == 10 and await kept == 30
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    assert recorder.batches == [[1], [3]]
