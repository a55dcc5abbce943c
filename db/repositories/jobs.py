"""Reads and state changes on the jobs table. Every state change is conditional, so it happens once.

The queue is fair: each member's queued jobs take turns, oldest first, and a member's running jobs
count as turns already taken. Jobs are served by (turn, id), so every member's first waiting job
comes before anyone's second, and each round goes oldest first.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, tuple_, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.states import ACTIVE_STATES, UNFINISHED_STATES, JobState
from db.models import Job


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_all(self, jobs: Sequence[Job]) -> None:
        """Insert the jobs in order (their ids ascend with it), in one round trip."""
        self.session.add_all(jobs)
        await self.session.flush()

    async def get(self, job_id: int) -> Job | None:
        return await self.session.get(Job, job_id)

    async def move(self, job_id: int, *, from_states: Iterable[JobState], to: JobState, **values: Any) -> bool:
        """Move a job to `to` only if it is in one of `from_states`; True if this call moved it."""
        result = await self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state.in_(tuple(from_states)))
            .values(state=to, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def next_queued(self, exclude: Iterable[int] = ()) -> Job | None:
        """The queued job to serve next in the fair order; `exclude` (jobs already handed to the backend)
        are left out of it and count as their members' turns taken, like running jobs."""
        queue = _fair_queue(tuple(exclude)).subquery("queue")
        query = select(Job).join(queue, queue.c.job_id == Job.id).order_by(queue.c.turn, queue.c.job_id).limit(1)
        return (await self.session.scalars(query)).first()

    async def positions(self, job_ids: Collection[int]) -> Mapping[int, int]:
        """Each queued or running job's place in line, in one query; other jobs are left out.

        The line is the running jobs, oldest first (1 to R: they are being served now), then the queued
        jobs in the fair order `next_queued` serves them: a queued job's position is 1 + R + the number
        of queued jobs before it. It holds until the line changes: a later member's first job comes before
        anyone's second, and a member's job that finishes moves their next job up a round.
        """
        if not job_ids:
            return {}
        running = select(Job.id.label("job_id"), func.row_number().over(order_by=Job.id).label("place")).where(
            Job.state == JobState.RUNNING
        )
        running_count = select(func.count()).where(Job.state == JobState.RUNNING).scalar_subquery()
        queue = _fair_queue(()).subquery("queue")
        waiting = select(
            queue.c.job_id,
            (running_count + func.row_number().over(order_by=(queue.c.turn, queue.c.job_id))).label("place"),
        )
        line = union_all(running, waiting).subquery("line")
        rows = await self.session.execute(select(line.c.job_id, line.c.place).where(line.c.job_id.in_(tuple(job_ids))))
        return {int(job_id): int(place) for job_id, place in rows.all()}

    async def in_states(self, states: Iterable[JobState]) -> Sequence[Job]:
        return (await self.session.scalars(select(Job).where(Job.state.in_(tuple(states))).order_by(Job.id))).all()

    async def recent_of(self, guild_id: int, user_id: int, limit: int) -> Sequence[Job]:
        """The member's last `limit` jobs in the server, newest first."""
        query = select(Job).where(Job.guild_id == guild_id, Job.user_id == user_id).order_by(Job.id.desc()).limit(limit)
        return (await self.session.scalars(query)).all()

    async def unfinished(self) -> Sequence[Job]:
        return await self.in_states(UNFINISHED_STATES)

    async def count_active(self, members: Collection[tuple[int, int]]) -> dict[tuple[int, int], int]:
        """Queued or running jobs per (guild_id, user_id); members with none are left out."""
        query = (
            select(Job.guild_id, Job.user_id, func.count())
            .where(
                tuple_(Job.guild_id, Job.user_id).in_(tuple(members)),
                Job.state.in_(ACTIVE_STATES),
            )
            .group_by(Job.guild_id, Job.user_id)
        )
        return {(guild_id, user_id): count for guild_id, user_id, count in (await self.session.execute(query)).all()}

    async def mark_started(self, job_id: int, at: datetime) -> bool:
        return await self.move(job_id, from_states=(JobState.QUEUED,), to=JobState.RUNNING, started_at=at)


def _fair_queue(exclude: tuple[int, ...]) -> Select[tuple[int, int]]:
    """Every queued job but `exclude`, with its turn: its member's turns taken (running jobs, and queued
    ones in `exclude`) plus its rank among that member's other queued jobs, oldest first."""
    member = (Job.guild_id, Job.user_id)
    taken_when = Job.state == JobState.RUNNING
    waiting_when = Job.state == JobState.QUEUED
    if exclude:
        taken_when = or_(taken_when, and_(waiting_when, Job.id.in_(exclude)))
        waiting_when = and_(waiting_when, Job.id.not_in(exclude))
    taken = select(*member, func.count().label("turns")).where(taken_when).group_by(*member).subquery("taken")
    rank = func.row_number().over(partition_by=member, order_by=Job.id)
    return (
        select(Job.id.label("job_id"), (func.coalesce(taken.c.turns, 0) + rank).label("turn"))
        .outerjoin(taken, and_(taken.c.guild_id == Job.guild_id, taken.c.user_id == Job.user_id))
        .where(waiting_when)
    )
