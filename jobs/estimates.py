"""When a queued job should start and finish, from how long this deployment's recent renders of each preset took.

A preset's typical duration is the median of render plus encode seconds of its last RECENT_RENDERS delivered jobs.
The median, not the mean: one render slowed by a cold cache, a busy GPU or a restart would drag a mean for the next
twenty jobs, while the median moves only when most renders do. A preset with no delivered job among the newest
DELIVERIES_SCANNED has no typical duration, and neither has any job behind one of its jobs: their estimate is
unknown (the member reads "estimating"), never a guess.

The line is the fair order of `JobRepository.positions`, served by `parallel_renders()` slots: each job takes the
slot that frees first. A running job holds its slot until `started_at` plus its preset's typical duration (or, if
it overran that, until now); a queued job starts when its slot frees. One call reads the whole line in two
queries, whatever the number of jobs asked about.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Subquery, and_, func, select

from common.states import ACTIVE_STATES, JobState
from db.database import Database
from db.models import Job
from db.repositories.jobs import JobRepository
from jobs.clock import Clock

RECENT_RENDERS = 20
"""How many of a preset's latest delivered jobs its typical duration is the median of."""
DELIVERIES_SCANNED = 1000
"""How many of the newest delivered jobs are looked at: a preset none of them used has no recent renders, and
the read stays the same size however long the deployment has run."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """A queued job's place in line, and when it should start and finish (both None: estimating)."""

    position: int
    starts_at: datetime | None
    finishes_at: datetime | None


@dataclass(frozen=True, slots=True)
class _InLine:
    job_id: int
    state: JobState
    started_at: datetime | None
    typical: timedelta | None


class JobEstimates:
    def __init__(self, database: Database, clock: Clock, parallel_renders: Callable[[], int] = lambda: 1) -> None:
        """`parallel_renders`: how many clips render at once now (1 for the local worker, a worker count for
        remote ones); fewer than 1 means nothing renders, so nothing can be estimated."""
        self.database = database
        self.clock = clock
        self.parallel_renders = parallel_renders

    async def of_waiting(self, job_ids: Collection[int]) -> Mapping[int, Estimate]:
        """The estimates of those of `job_ids` still queued; a job that started or finished is left out."""
        if not job_ids:
            return {}
        typical = _typical_seconds()
        query = (
            select(Job.id, Job.state, Job.started_at, typical.c.seconds)
            .outerjoin(typical, typical.c.preset_id == Job.preset_id)
            .where(Job.state.in_(ACTIVE_STATES))
        )
        async with self.database.snapshot() as session:
            active = (await session.execute(query)).all()
            positions = await JobRepository(session).positions([job_id for job_id, *_ in active])
        line = sorted(
            (
                _InLine(job_id, state, started_at, None if seconds is None else timedelta(seconds=seconds))
                for job_id, state, started_at, seconds in active
                if job_id in positions
            ),
            key=lambda job: positions[job.job_id],
        )
        asked = set(job_ids)
        times = _start_and_finish(line, self.parallel_renders(), self.clock.now())
        estimates: dict[int, Estimate] = {}
        for job in line:
            if job.job_id in asked and job.state is JobState.QUEUED:
                starts_at, finishes_at = times.get(job.job_id, (None, None))
                estimates[job.job_id] = Estimate(positions[job.job_id], starts_at, finishes_at)
        return estimates


def _start_and_finish(line: list[_InLine], slots: int, now: datetime) -> dict[int, tuple[datetime, datetime]]:
    """When each job of the line starts and finishes, up to the first whose preset has no typical duration."""
    if slots < 1:
        return {}
    free_from = [datetime.min.replace(tzinfo=UTC)] * slots  # a heap: when each slot is free
    times: dict[int, tuple[datetime, datetime]] = {}
    for job in line:
        if job.typical is None:
            break
        # A running job renders since it started, unless every slot was taken (it waits in the worker).
        starts = max(heapq.heappop(free_from), job.started_at or now)
        finishes = max(starts + job.typical, now)  # a render past its typical time may end any moment
        heapq.heappush(free_from, finishes)
        times[job.job_id] = (starts, finishes)
    return times


def _typical_seconds() -> Subquery:
    """(preset_id, seconds): the median render plus encode seconds of each preset's last RECENT_RENDERS delivered
    jobs among the newest DELIVERIES_SCANNED. The median is the middle one, or the mean of the middle two."""
    newest = (
        select(Job.id, Job.preset_id, (Job.render_seconds + Job.encode_seconds).label("seconds"))
        .where(Job.state == JobState.DELIVERED, Job.render_seconds.is_not(None), Job.encode_seconds.is_not(None))
        .order_by(Job.id.desc())
        .limit(DELIVERIES_SCANNED)
        .subquery("newest")
    )
    latest = select(
        newest.c.preset_id,
        newest.c.seconds,
        func.row_number().over(partition_by=newest.c.preset_id, order_by=newest.c.id.desc()).label("recency"),
    ).subquery("latest")
    ranked = (
        select(
            latest.c.preset_id,
            latest.c.seconds,
            func.row_number().over(partition_by=latest.c.preset_id, order_by=latest.c.seconds).label("rank"),
            func.count().over(partition_by=latest.c.preset_id).label("count"),
        )
        .where(latest.c.recency <= RECENT_RENDERS)
        .subquery("ranked")
    )
    # Of n ranked durations, the middle ranks r are those with n <= 2r <= n + 2: one when n is odd, two when even.
    middle = and_(2 * ranked.c.rank >= ranked.c.count, 2 * ranked.c.rank <= ranked.c.count + 2)
    return (
        select(ranked.c.preset_id, func.avg(ranked.c.seconds).label("seconds"))
        .where(middle)
        .group_by(ranked.c.preset_id)
        .subquery("typical")
    )
