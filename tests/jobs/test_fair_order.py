"""The queue is fair: members take turns (oldest first in each round), and a running job is a turn taken.

First come, first served would fail each of these: every order asserted here differs from the jobs' id order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from common.failures import Failure, FailureCode
from db.database import Database
from db.repositories.jobs import JobRepository
from jobs.views import Ticket
from model.contract import Failed
from tests.jobs.conftest import Jobs, ManualClock, RecordingObserver, make_service, video_request
from tests.jobs.scripted_backend import ScriptedBackend

OUT_OF_MEMORY = Failure(FailureCode.OUT_OF_MEMORY)
A, B, C = 1, 2, 3  # members, by user id


async def submit_together(service: Jobs, user_ids: Sequence[int]) -> list[Ticket]:
    """Submissions that arrive together: one admission batch, ids ascending in the order given."""
    return list(
        await asyncio.gather(*(service.submit(service.validate(video_request(user_id))) for user_id in user_ids))
    )


def ids(tickets: Sequence[Ticket]) -> list[int]:
    return [ticket.job.id for ticket in tickets]


def by_position(tickets: Sequence[Ticket]) -> list[int]:
    return ids(sorted(tickets, key=lambda ticket: ticket.position))


async def served_after(backend: ScriptedBackend, freed: int) -> int:
    """Free the backend slot of job `freed` and return the job handed over in its place."""
    count = len(backend.submitted)
    backend.emit(Failed(freed, OUT_OF_MEMORY))
    return (await backend.wait_submitted(count + 1))[count].job_id


async def test_one_members_burst_waits_behind_the_others_first_jobs(
    database: Database, backend: ScriptedBackend, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    service = make_service(database, backend, clock, data_dir=tmp_path)  # not started: everything waits
    a1, a2, a3, a4, b1, c1 = tickets = await submit_together(service, [A, A, A, A, B, C])

    # Every member's first job, oldest first, then A's others; the tickets said so at submit time.
    fair = ids([a1, b1, c1, a2, a3, a4])
    assert [ticket.position for ticket in tickets] == [1, 4, 5, 6, 2, 3]
    assert by_position(tickets) == fair

    await service.start(observer)
    try:
        served = [spec.job_id for spec in await backend.wait_submitted(2)]  # capacity 2
        assert served == ids([a1, b1])  # A's running job puts A2 behind B1 (and C1)
        served.append(await served_after(backend, b1.job.id))
        assert served[-1] == c1.job.id  # not A2: A still has a job on the GPU and C has had none
        served.append(await served_after(backend, a1.job.id))
        served.append(await served_after(backend, c1.job.id))
        served.append(await served_after(backend, a2.job.id))
        assert served == fair
    finally:
        await service.close()


async def test_a_running_job_puts_its_members_next_job_behind_others(
    service: Jobs, backend: ScriptedBackend, database: Database
) -> None:
    a1 = await service.submit(service.validate(video_request(A)))
    c1 = await service.submit(service.validate(video_request(C)))
    assert [spec.job_id for spec in await backend.wait_submitted(2)] == ids([a1, c1])  # the backend is full

    a2 = await service.submit(service.validate(video_request(A)))
    assert a2.position == 3  # two running, then A2
    b1 = await service.submit(service.validate(video_request(B)))
    assert b1.position == 3  # B has nothing running: B1 goes ahead of the older A2
    async with database.transaction() as session:
        assert await JobRepository(session).positions([a1.job.id, c1.job.id, a2.job.id, b1.job.id]) == {
            a1.job.id: 1,
            c1.job.id: 2,
            a2.job.id: 4,
            b1.job.id: 3,
        }

    assert await served_after(backend, c1.job.id) == b1.job.id
    assert await served_after(backend, a1.job.id) == a2.job.id


async def test_rounds_go_oldest_first_and_jobs_handed_out_count_as_turns(
    database: Database, backend: ScriptedBackend, clock: ManualClock
) -> None:
    service = make_service(database, backend, clock)  # not started: the test hands the jobs out itself
    b1, a1, a2, c1, b2 = await submit_together(service, [B, A, A, C, B])
    fair = ids([b1, a1, c1, a2, b2])  # round 1 in id order, then round 2 in id order

    async with database.transaction() as session:
        jobs = JobRepository(session)
        assert fair != sorted(fair)  # not the id order
        assert await jobs.positions(fair) == {job_id: place for place, job_id in enumerate(fair, start=1)}

        # Handed to the backend but still queued (the runner's outstanding jobs): out of the line, a turn taken.
        handed: list[int] = []
        while (job := await jobs.next_queued(exclude=handed)) is not None:
            handed.append(job.id)
        assert handed == fair

        assert await jobs.mark_started(b1.job.id, clock.now())
        assert await jobs.positions(fair) == {job_id: place for place, job_id in enumerate(fair, start=1)}
        assert await jobs.positions([10_000]) == {}  # neither queued nor running: not in line


async def test_a_failed_position_read_still_queues_the_job_and_wakes_the_runner(
    service: Jobs, backend: ScriptedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The position is a courtesy read after the commit: the job is queued and charged whatever it does."""

    async def unreadable(self: object, job_ids: object) -> dict[int, int]:
        raise OSError("disk I/O error")

    monkeypatch.setattr(JobRepository, "positions", unreadable)
    ticket = await service.submit(service.validate(video_request()))
    assert ticket.position == 1
    [spec] = await backend.wait_submitted(1)
    assert spec.job_id == ticket.job.id
