"""Moderators' queue control: a paused server refuses /video and charges nothing, its waiting jobs wait (others'
servers go on) and resuming serves them; role weights reach the jobs admitted after them; every change is audited."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

import pytest
from sqlalchemy import select

from common.failures import Failure, FailureCode
from common.states import AuditAction, JobState
from db.database import Database
from db.models import AuditEntry, Job, MemberQuota
from db.repositories.jobs import JobRepository
from jobs.errors import InvalidAmount, QueueAlreadyPaused, QueueNotPaused, QueuePaused
from jobs.moderation import Moderator
from jobs.queue_control import MAX_WEIGHT, QUEUE_PAGE_SIZE, QueueControl
from jobs.requests import VideoRequest
from jobs.views import Ticket
from model.contract import Failed
from tests.jobs.conftest import GUILD_ID, Jobs, ManualClock, credits_left, make_service, settle, video_request
from tests.jobs.scripted_backend import ScriptedBackend

MODERATOR = Moderator(GUILD_ID, 999)
OTHER_GUILD_ID = 333
A, B, C = 1, 2, 3
HEAVY, HEAVIER = 501, 502
OUT_OF_MEMORY = Failure(FailureCode.OUT_OF_MEMORY)


@dataclasses.dataclass
class Wakes:
    count: int = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
def wakes() -> Wakes:
    return Wakes()


@pytest.fixture
def control(database: Database, clock: ManualClock, wakes: Wakes) -> QueueControl:
    return QueueControl(database=database, clock=clock, on_resumed=wakes)


def elsewhere(request: VideoRequest) -> VideoRequest:
    return dataclasses.replace(request, guild_id=OTHER_GUILD_ID)


async def submit(service: Jobs, request: VideoRequest) -> Ticket:
    return await service.submit(service.validate(request))


async def audit(database: Database) -> list[tuple[AuditAction, int | None, str | None, str | None]]:
    async with database.transaction() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
        return [(row.action, row.target_id, row.before, row.after) for row in rows]


async def jobs_of(database: Database) -> Sequence[Job]:
    async with database.transaction() as session:
        return (await session.scalars(select(Job).order_by(Job.id))).all()


async def test_a_paused_server_refuses_video_and_charges_nothing_while_others_are_served(
    service: Jobs, control: QueueControl, database: Database, backend: ScriptedBackend
) -> None:
    await control.pause(MODERATOR)

    # One batch: the paused server's request is refused, the other server's admitted in the same transaction.
    refused, admitted = await asyncio.gather(
        submit(service, video_request(A)), submit(service, elsewhere(video_request(A))), return_exceptions=True
    )

    assert isinstance(refused, QueuePaused)
    assert isinstance(admitted, Ticket) and admitted.job.guild_id == OTHER_GUILD_ID
    assert [job.guild_id for job in await jobs_of(database)] == [OTHER_GUILD_ID]
    assert await credits_left(service, A) == 5
    async with database.transaction() as session:  # not even the cooldown's last submission was recorded
        assert await session.get(MemberQuota, (GUILD_ID, A)) is None

    await control.resume(MODERATOR)
    ticket = await submit(service, video_request(A))
    assert ticket.job.guild_id == GUILD_ID
    assert await credits_left(service, A) == 4
    assert [spec.job_id for spec in await backend.wait_submitted(2)] == [admitted.job.id, ticket.job.id]


async def test_a_paused_servers_jobs_wait_in_their_places_until_resume_and_renders_finish(
    service: Jobs, control: QueueControl, database: Database, backend: ScriptedBackend, wakes: Wakes
) -> None:
    a1 = await submit(service, video_request(A))
    b1 = await submit(service, video_request(B))
    assert [spec.job_id for spec in await backend.wait_submitted(2)] == [a1.job.id, b1.job.id]  # the backend is full
    a2 = await submit(service, video_request(A))
    c1 = await submit(service, video_request(C))
    assert c1.position == 3  # ahead of the older A2: A has a job running, C none

    await control.pause(MODERATOR)
    backend.emit(Failed(a1.job.id, OUT_OF_MEMORY))  # a slot frees, and A2 is back in round 1, but paused
    await settle(service, backend)
    x1 = await submit(service, elsewhere(video_request(A)))
    assert (await backend.wait_submitted(3))[2].job_id == x1.job.id  # another server's job takes the slot
    assert x1.position == 2  # behind B1, which renders on: the paused server's jobs do not count ahead of it
    page = await control.page(GUILD_ID)
    assert page.paused
    assert [(entry.job_id, entry.state, entry.position) for entry in page.entries] == [
        (b1.job.id, JobState.RUNNING, 1),
        (a2.job.id, JobState.QUEUED, 3),  # where it stands if resumed now: behind B1 and X1
        (c1.job.id, JobState.QUEUED, 4),
    ]

    backend.emit(Failed(b1.job.id, OUT_OF_MEMORY))  # the render in progress ended as renders do
    await settle(service, backend)
    await asyncio.sleep(0.1)
    assert len(backend.submitted) == 3  # a slot is free, and still no job of the paused server is handed out
    assert [job.state for job in await jobs_of(database)] == [
        JobState.FAILED,
        JobState.FAILED,
        JobState.QUEUED,
        JobState.QUEUED,
        JobState.RUNNING,
    ]

    await control.resume(MODERATOR)
    assert wakes.count == 1
    service.runner.wake()  # as the bot wires it (on_resumed=runner.wake); the test's own callable only counts
    assert (await backend.wait_submitted(4))[3].job_id == a2.job.id


async def test_pausing_and_resuming_are_audited_once_and_refused_when_nothing_would_change(
    control: QueueControl, database: Database, wakes: Wakes
) -> None:
    with pytest.raises(QueueNotPaused):
        await control.resume(MODERATOR)
    await control.pause(MODERATOR)
    with pytest.raises(QueueAlreadyPaused):
        await control.pause(MODERATOR)
    resumed = await control.resume(MODERATOR)

    assert (resumed.action, resumed.actor_id) == (AuditAction.QUEUE_RESUME, MODERATOR.user_id)
    assert await audit(database) == [
        (AuditAction.QUEUE_PAUSE, None, None, None),
        (AuditAction.QUEUE_RESUME, None, None, None),
    ]
    assert wakes.count == 1  # a refused resume wakes nothing
    assert not (await control.page(GUILD_ID)).paused


async def test_a_roles_weight_goes_on_the_jobs_admitted_after_it_and_is_audited(
    service: Jobs, control: QueueControl, database: Database
) -> None:
    await control.set_priority(MODERATOR, HEAVY, 2)
    await control.set_priority(MODERATOR, HEAVIER, 3)
    both = await submit(service, video_request(A, frozenset({HEAVY, HEAVIER})))
    heavy = await submit(service, video_request(B, frozenset({HEAVY, 777})))
    plain = await submit(service, video_request(C, frozenset({777})))
    other_server = await submit(service, elsewhere(video_request(A, frozenset({HEAVIER}))))  # weights are per server
    await control.set_priority(MODERATOR, HEAVIER, 1)  # weight 1 removes the priority
    later = await submit(service, video_request(A, frozenset({HEAVY, HEAVIER})))

    weights = {job.id: job.priority_weight for job in await jobs_of(database)}
    tickets = (both, heavy, plain, other_server, later)
    assert [weights[ticket.job.id] for ticket in tickets] == [3, 2, 1, 1, 2]  # the first job keeps its weight
    assert await audit(database) == [
        (AuditAction.QUEUE_PRIORITY, HEAVY, "1", "2"),
        (AuditAction.QUEUE_PRIORITY, HEAVIER, "1", "3"),
        (AuditAction.QUEUE_PRIORITY, HEAVIER, "3", "1"),
    ]


@pytest.mark.parametrize("weight", [0, MAX_WEIGHT + 1, -2, True, 2.5, "lots"])
async def test_a_weight_out_of_range_is_refused_and_changes_nothing(
    control: QueueControl, database: Database, weight: object
) -> None:
    with pytest.raises(InvalidAmount) as refusal:
        await control.set_priority(MODERATOR, HEAVY, weight)
    assert refusal.value == InvalidAmount("weight", 1, MAX_WEIGHT)
    assert await audit(database) == []


async def test_the_queue_pages_list_running_then_waiting_jobs_in_the_order_they_are_served(
    database: Database, clock: ManualClock, control: QueueControl
) -> None:
    service = make_service(database, ScriptedBackend(), clock)  # not started: the test starts the jobs itself
    user_ids = [A] * 5 + [B] * 5 + [C] * 2
    tickets = await asyncio.gather(*(submit(service, video_request(user_id)) for user_id in user_ids))
    await submit(service, elsewhere(video_request(C)))  # another server's job: in the line, not on these pages
    async with database.transaction() as session:
        for ticket in (tickets[0], tickets[5]):  # A's first and B's first
            assert await JobRepository(session).mark_started(ticket.job.id, clock.now())

    first = await control.page(GUILD_ID)
    second = await control.page(GUILD_ID, 1)
    past_the_end = await control.page(GUILD_ID, 7)

    assert (first.page, first.pages, first.total, len(first.entries)) == (0, 2, 12, QUEUE_PAGE_SIZE)
    line = first.entries + second.entries
    assert [entry.state for entry in line] == [JobState.RUNNING] * 2 + [JobState.QUEUED] * 10
    assert [entry.position for entry in line] == [1, 2, 3, *range(5, 14)]  # 4th: the other server's first job
    # Running A1 and B1 are their turns taken: C's first comes next, then everyone's second, and so on.
    assert [entry.user_name for entry in line[2:7]] == ["member3", "member1", "member2", "member3", "member1"]
    assert {entry.job_id for entry in line} == {ticket.job.id for ticket in tickets}
    assert past_the_end == second and second.page == 1
    assert (await control.page(OTHER_GUILD_ID)).total == 1
