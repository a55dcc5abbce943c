"""Reads and state changes on the jobs table. Every state change is conditional, so it happens once."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_, update
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
        query = select(Job).where(Job.state == JobState.QUEUED).order_by(Job.id).limit(1)
        excluded = tuple(exclude)
        if excluded:
            query = query.where(Job.id.not_in(excluded))
        return (await self.session.scalars(query)).first()

    async def position(self, job_id: int) -> int:
        """1 for the job being served next (or now), 2 for the one after, and so on."""
        ahead = select(func.count()).where(Job.state.in_(ACTIVE_STATES), Job.id <= job_id)
        return int((await self.session.scalar(ahead)) or 0)

    async def in_states(self, states: Iterable[JobState]) -> Sequence[Job]:
        return (await self.session.scalars(select(Job).where(Job.state.in_(tuple(states))).order_by(Job.id))).all()

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
