"""Reads and state changes on the jobs table. Every state change is conditional, so it happens once.

The queue is fair: each member's queued jobs take turns, oldest first. The turns a member has already taken are
their running jobs and the jobs of theirs that started since the longest-waiting job was queued: so a member whose
job just finished does not get their next one ahead of a member who has waited all along. Jobs are served by
(turn, id), so every member's first waiting job comes before anyone's second, and each round goes oldest first.

The rounds are weighted: a member of weight w (the highest `priority_weight` on their queued and running jobs,
which admission takes from their roles) has w turns per round, so their job of rank r among their waiting ones,
with t turns taken, waits for round ceil((t + r) / w). With every weight 1 that is the plain round-robin above.

A server whose queue is paused (`GuildSettings.queue_paused`) keeps its jobs in the order, where they keep their
turns, but none of them is served until it resumes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, false, func, or_, select, tuple_, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.states import ACTIVE_STATES, UNFINISHED_STATES, JobState
from db.models import GuildSettings, Job


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

    async def next_queued(self, exclude: Iterable[int] = (), presets: Collection[str] | None = None) -> Job | None:
        """The queued job to serve next in the fair order; `exclude` (jobs already handed to the backend)
        are left out of it and count as their members' turns taken, like running jobs. With `presets`, the
        first in that order for one of them (the others wait for a worker that serves theirs). Jobs of a paused
        server are passed over: they wait, turns and all, until it resumes."""
        queue = _fair_queue(tuple(exclude)).subquery("queue")
        query = select(Job).join(queue, queue.c.job_id == Job.id).where(~queue.c.paused)
        if presets is not None:
            query = query.where(Job.preset_id.in_(tuple(presets)))
        query = query.order_by(queue.c.turn, queue.c.job_id).limit(1)
        return (await self.session.scalars(query)).first()

    async def positions(self, job_ids: Collection[int]) -> Mapping[int, int]:
        """Each queued or running job's place in line, in one query; other jobs are left out.

        The line is the running jobs, oldest first (1 to R: they are being served now), then the queued
        jobs in the fair order `next_queued` serves them: a queued job's position is 1 + R + the number
        of queued jobs before it. It holds until the line changes: a later member's first job comes before
        anyone's second, and a member's job that finishes moves their next job up a round.

        Paused servers' jobs are not in that line. A paused server's job is placed where it would be if its server
        resumed now: among the served jobs and its own server's, so those keep their order among themselves, and
        the line of everyone else is not lengthened by jobs that do not move.
        """
        if not job_ids:
            return {}
        running = select(Job.id.label("job_id"), func.row_number().over(order_by=Job.id).label("place")).where(
            Job.state == JobState.RUNNING
        )
        running_count = select(func.count()).where(Job.state == JobState.RUNNING).scalar_subquery()
        queue = _fair_queue(()).subquery("queue")
        order = (queue.c.turn, queue.c.job_id)
        served_up_to = func.sum(case((queue.c.paused, 0), else_=1)).over(order_by=order)
        own_server_up_to = func.row_number().over(partition_by=queue.c.guild_id, order_by=order)
        waiting = select(
            queue.c.job_id,
            (running_count + served_up_to + case((queue.c.paused, own_server_up_to), else_=0)).label("place"),
        )
        line = union_all(running, waiting).subquery("line")
        rows = await self.session.execute(select(line.c.job_id, line.c.place).where(line.c.job_id.in_(tuple(job_ids))))
        return {int(job_id): int(place) for job_id, place in rows.all()}

    async def in_states(self, states: Iterable[JobState]) -> Sequence[Job]:
        return (await self.session.scalars(select(Job).where(Job.state.in_(tuple(states))).order_by(Job.id))).all()

    async def active_in(self, guild_id: int) -> Sequence[Job]:
        """The server's queued and running jobs, everyone's."""
        query = select(Job).where(Job.guild_id == guild_id, Job.state.in_(ACTIVE_STATES)).order_by(Job.id)
        return (await self.session.scalars(query)).all()

    async def recent_of(self, guild_id: int, user_id: int, limit: int) -> Sequence[Job]:
        """The member's last `limit` jobs in the server, newest first."""
        query = select(Job).where(Job.guild_id == guild_id, Job.user_id == user_id).order_by(Job.id.desc()).limit(limit)
        return (await self.session.scalars(query)).all()

    async def unfinished(self) -> Sequence[Job]:
        return await self.in_states(UNFINISHED_STATES)

    async def count_all_active(self) -> int:
        """Queued and running jobs, every server's."""
        return int(await self.session.scalar(select(func.count()).where(Job.state.in_(ACTIVE_STATES))) or 0)

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


def _fair_queue(exclude: tuple[int, ...]) -> Select[tuple[int, int, int, bool]]:
    """Every queued job but `exclude`, with its server, its turn and whether its server is paused.

    Its turn is ceil((t + r) / w) for its member's turns taken t (running jobs, queued ones in `exclude`, and
    finished ones started since the longest-waiting job was queued), its
    rank r among that member's other queued jobs, oldest first, and the member's weight w (the module docstring).
    """
    member = (Job.guild_id, Job.user_id)
    taken_when = Job.state == JobState.RUNNING
    waiting_when = Job.state == JobState.QUEUED
    if exclude:
        taken_when = or_(taken_when, and_(waiting_when, Job.id.in_(exclude)))
        waiting_when = and_(waiting_when, Job.id.not_in(exclude))
    longest_waiting_since = select(func.min(Job.created_at)).where(waiting_when).scalar_subquery()
    served_meanwhile = and_(Job.state.not_in(ACTIVE_STATES), Job.started_at > longest_waiting_since)
    active = Job.state.in_(ACTIVE_STATES)
    members = (
        select(
            *member,
            func.sum(case((taken_when, 1), (served_meanwhile, 1), else_=0)).label("taken"),
            func.max(case((active, Job.priority_weight), else_=None)).label("weight"),
        )
        .where(or_(active, served_meanwhile))
        .group_by(*member)
        .subquery("members")
    )
    rank = func.row_number().over(partition_by=member, order_by=Job.id)
    turn = (members.c.taken + rank + members.c.weight - 1) // members.c.weight
    paused = func.coalesce(GuildSettings.queue_paused, false())
    return (
        select(Job.id.label("job_id"), Job.guild_id, turn.label("turn"), paused.label("paused"))
        .join(members, and_(members.c.guild_id == Job.guild_id, members.c.user_id == Job.user_id))
        .outerjoin(GuildSettings, GuildSettings.guild_id == Job.guild_id)
        .where(waiting_when)
    )
