"""The queue is fair: members take turns (oldest first in each round), and a running job is a turn taken.
A member whose role a moderator weighed w gets w turns per round, and a paused server's jobs wait in their places.

First come, first served would fail each of these: every order asserted here differs from the jobs' id order,
and each weighted one from the order the same jobs would have without weights.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from common.failures import Failure, FailureCode
from db.database import Database
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.jobs import JobRepository
from jobs.moderation import Moderator
from jobs.queue_control import QueueControl
from jobs.quota import QuotaDefaults
from jobs.views import Ticket
from model.contract import Failed
from tests.jobs.conftest import GUILD_ID, Jobs, ManualClock, RecordingObserver, make_service, video_request
from tests.jobs.scripted_backend import ScriptedBackend

OUT_OF_MEMORY = Failure(FailureCode.OUT_OF_MEMORY)
A, B, C = 1, 2, 3  # members, by user id
HEAVY, HEAVIER = 501, 502  # roles the weighted tests give weights 2 and 3
OTHER_GUILD_ID = 333


async def submit_together(
    service: Jobs, user_ids: Sequence[int], roles: Mapping[int, frozenset[int]] | None = None, guild_id: int = GUILD_ID
) -> list[Ticket]:
    """Submissions that arrive together: one admission batch, ids ascending in the order given. `roles` are the
    members' roles (none unless given)."""
    requests = [
        dataclasses.replace(video_request(user_id, (roles or {}).get(user_id, frozenset())), guild_id=guild_id)
        for user_id in user_ids
    ]
    return list(await asyncio.gather(*(service.submit(service.validate(request)) for request in requests)))


async def weigh(database: Database, clock: ManualClock, weights: Mapping[int, int], guild_id: int = GUILD_ID) -> None:
    """A moderator gives each role its weight."""
    control = QueueControl(database=database, clock=clock, on_resumed=lambda: None)
    for role_id, weight in weights.items():
        await control.set_priority(Moderator(guild_id, 999), role_id, weight)


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


async def test_a_heavier_member_takes_as_many_turns_per_round_as_their_weight(
    database: Database, clock: ManualClock
) -> None:
    service = make_service(database, ScriptedBackend(), clock)  # not started: the test hands the jobs out itself
    await weigh(database, clock, {HEAVY: 2})
    b1, a1, a2, a3, c1, b2 = await submit_together(service, [B, A, A, A, C, B], roles={A: frozenset({HEAVY})})
    fair = ids([b1, a1, a2, c1, a3, b2])  # A's two turns of round 1 in id order among the others', then round 2
    assert fair != ids([b1, a1, c1, a2, b2, a3])  # the order without weights

    async with database.transaction() as session:
        jobs = JobRepository(session)
        assert await jobs.positions(fair) == {job_id: place for place, job_id in enumerate(fair, start=1)}
        handed: list[int] = []
        while (job := await jobs.next_queued(exclude=handed)) is not None:
            handed.append(job.id)
        assert handed == fair
        assert await jobs.mark_started(b1.job.id, clock.now())
        assert await jobs.positions(fair) == {job_id: place for place, job_id in enumerate(fair, start=1)}


async def test_a_heavier_members_running_jobs_count_against_their_turns(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    backend = ScriptedBackend(capacity=3)
    service = make_service(database, backend, clock, data_dir=tmp_path)
    await weigh(database, clock, {HEAVY: 2})
    b1, a1, a2, a3, c1 = tickets = await submit_together(service, [B, A, A, A, C], roles={A: frozenset({HEAVY})})
    fair = ids([b1, a1, a2, c1, a3])
    assert by_position(tickets) == fair

    await service.start(observer)
    try:
        served = [spec.job_id for spec in await backend.wait_submitted(3)]
        assert served == ids([b1, a1, a2])  # without weights, C1 would go before A2
        served.append(await served_after(backend, b1.job.id))
        assert served[-1] == c1.job.id  # A's two running jobs are both of A's turns this round
        served.append(await served_after(backend, c1.job.id))
        assert served == fair
    finally:
        await service.close()


async def test_positions_agree_with_the_dispatch_order_under_weights_and_a_pause(
    database: Database, clock: ManualClock
) -> None:
    """Random members, weights, servers and running jobs: the line positions() tells is the order next_queued()
    serves; a paused server's jobs are left out of it, and resuming puts them where positions() said."""
    shuffle = random.Random(11)
    service = make_service(
        database, ScriptedBackend(), clock, defaults=QuotaDefaults(credits=1000, max_active_jobs=1000)
    )
    roles = {
        user_id: frozenset(shuffle.sample([HEAVY, HEAVIER, 503], shuffle.randint(0, 2))) for user_id in range(1, 9)
    }
    for guild_id in (GUILD_ID, OTHER_GUILD_ID):
        await weigh(database, clock, {HEAVY: 2, HEAVIER: 3}, guild_id)
    tickets = []
    for _ in range(6):
        batch = [shuffle.randint(1, 8) for _ in range(5)]
        tickets += await submit_together(service, batch, roles, guild_id=shuffle.choice((GUILD_ID, OTHER_GUILD_ID)))
    paused_ids = [ticket.job.id for ticket in tickets if ticket.job.guild_id == OTHER_GUILD_ID]
    assert 5 <= len(paused_ids) <= 25  # both servers have jobs
    async with database.transaction() as session:
        jobs = JobRepository(session)
        for ticket in shuffle.sample(tickets, 6):
            assert await jobs.mark_started(ticket.job.id, clock.now())
        await GuildSettingsRepository(session).set_paused(OTHER_GUILD_ID, paused=True)

    async def line_and_dispatch() -> tuple[dict[int, int], list[int]]:
        async with database.transaction() as session:
            jobs = JobRepository(session)
            positions = dict(await jobs.positions(ids(tickets)))
            handed: list[int] = []
            while (job := await jobs.next_queued(exclude=handed)) is not None:
                handed.append(job.id)
            return positions, handed

    positions, handed = await line_and_dispatch()
    assert not set(handed) & set(paused_ids)
    assert sorted(positions[job_id] for job_id in handed) == list(range(7, 7 + len(handed)))  # after 6 running
    assert handed == sorted(handed, key=positions.__getitem__)
    paused_places = [positions[job_id] for job_id in paused_ids if job_id in positions]
    assert len(set(paused_places)) == len(paused_places)  # the paused server's jobs keep distinct places

    async with database.transaction() as session:
        assert await GuildSettingsRepository(session).set_paused(OTHER_GUILD_ID, paused=False)
    resumed, handed = await line_and_dispatch()
    assert handed == sorted(handed, key=resumed.__getitem__)
    assert [resumed[job_id] for job_id in paused_ids if job_id in resumed] == paused_places
    assert handed != sorted(handed)  # not the id order


async def test_a_member_whose_job_finished_does_not_go_ahead_of_one_who_waited_all_along(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    backend = ScriptedBackend(capacity=2)
    service = make_service(database, backend, clock, data_dir=tmp_path)
    a1, a2, _, b1, b2, c1 = await submit_together(service, [A, A, A, B, B, C])  # oldest first: A's, B's, C's
    clock.advance(seconds=1)  # each job starts after the queue began to wait
    await service.start(observer)
    assert [spec.job_id for spec in await backend.wait_submitted(2)] == ids([a1, b1])

    # A's first job ends: counted only by what is running now, A would be back in round 1 and its older A2 would
    # beat C1. But A1 started while C1 waited, so A has had its turn of this round.
    clock.advance(seconds=1)
    assert await served_after(backend, a1.job.id) == c1.job.id
    clock.advance(seconds=1)
    assert await served_after(backend, b1.job.id) == a2.job.id  # round 2, oldest first
    clock.advance(seconds=1)
    assert await served_after(backend, c1.job.id) == b2.job.id
    await service.close()
