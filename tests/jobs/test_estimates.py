"""Start and finish estimates on real SQLite: from the median of a preset's recent renders, over the fair order and
the renders that run in parallel, and "estimating" (None) whenever a preset in the way has no recent renders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from common.failures import Failure, FailureCode
from common.states import JobState
from db.database import Database
from db.repositories.jobs import JobRepository
from jobs.estimates import RECENT_RENDERS, Estimate, JobEstimates
from jobs.quota import QuotaDefaults
from jobs.views import Ticket
from model.contract import Failed
from tests.jobs.conftest import Jobs, ManualClock, RecordingObserver, make_service, video_request
from tests.jobs.scripted_backend import ScriptedBackend

OTHER_PRESET = "ltx"  # served beside tiny in these tests; it never has recent renders
PLENTY = QuotaDefaults(credits=10_000, max_active_jobs=10_000)


@pytest.fixture
def backend() -> ScriptedBackend:
    return ScriptedBackend(serves=frozenset({"tiny", OTHER_PRESET}), capacity=1)


@pytest.fixture
def service(database: Database, backend: ScriptedBackend, clock: ManualClock, tmp_path: Path) -> Jobs:
    """Not started: the tests start it once the history they need is in place."""
    return make_service(database, backend, clock, defaults=PLENTY, data_dir=tmp_path)


@pytest.fixture
async def running(service: Jobs, observer: RecordingObserver) -> AsyncIterator[Jobs]:
    yield service
    await service.close()


async def submit(service: Jobs, user_id: int, preset_id: str = "tiny") -> Ticket:
    return await service.submit(service.validate(video_request(user_id, preset=preset_id)))


async def delivered_history(database: Database, service: Jobs, seconds: Sequence[float], preset: str = "tiny") -> None:
    """Delivered jobs of `preset`, oldest first, that took `seconds` each (render plus a tenth of it encoding)."""
    tickets = [await submit(service, user_id=500 + n, preset_id=preset) for n in range(len(seconds))]
    async with database.transaction() as session:
        for ticket, took in zip(tickets, seconds, strict=True):
            await JobRepository(session).move(
                ticket.job.id,
                from_states=(JobState.QUEUED,),
                to=JobState.DELIVERED,
                render_seconds=took * 0.9,
                encode_seconds=took * 0.1,
            )


async def started(service: Jobs, observer: RecordingObserver, backend: ScriptedBackend, count: int) -> None:
    await service.start(observer)
    await backend.wait_submitted(count)


def at(clock: ManualClock, seconds: float) -> datetime:
    return clock.now() + timedelta(seconds=seconds)


async def test_without_recent_renders_every_queued_job_is_estimating_with_its_position(
    database: Database, service: Jobs, clock: ManualClock
) -> None:
    first, second = await submit(service, 1), await submit(service, 2)

    estimates = await JobEstimates(database, clock).of_waiting([first.job.id, second.job.id])

    assert estimates == {first.job.id: Estimate(1, None, None), second.job.id: Estimate(2, None, None)}


async def test_the_typical_duration_is_the_median_of_the_last_renders_of_the_preset(
    database: Database, service: Jobs, clock: ManualClock
) -> None:
    # Older renders were slow; of the last RECENT_RENDERS, most are fast and a few very slow. The mean of
    # either, or the median of all of them, would say something else than 100 s.
    await delivered_history(database, service, [1000.0] * (RECENT_RENDERS + 1))
    await delivered_history(database, service, [90.0] * 8 + [100.0] * 4 + [110.0] * 3 + [5000.0] * 5)
    waiting = await submit(service, 1)

    estimate = (await JobEstimates(database, clock).of_waiting([waiting.job.id]))[waiting.job.id]

    assert estimate == Estimate(1, clock.now(), at(clock, 100.0))


async def test_an_even_count_of_renders_takes_the_mean_of_the_middle_two(
    database: Database, service: Jobs, clock: ManualClock
) -> None:
    await delivered_history(database, service, [100.0, 400.0, 120.0, 10.0])
    waiting = await submit(service, 1)

    estimate = (await JobEstimates(database, clock).of_waiting([waiting.job.id]))[waiting.job.id]

    assert estimate.finishes_at == at(clock, 110.0)


async def test_estimates_follow_the_line_and_move_up_when_the_job_ahead_finishes(
    database: Database,
    running: Jobs,
    backend: ScriptedBackend,
    clock: ManualClock,
    observer: RecordingObserver,
) -> None:
    await delivered_history(database, running, [120.0])
    first, second, third = await submit(running, 1), await submit(running, 2), await submit(running, 3)
    started_at = clock.now()
    await started(running, observer, backend, 1)  # one render at a time: the first job renders
    clock.advance(seconds=30)
    estimates = JobEstimates(database, clock)

    assert await estimates.of_waiting([first.job.id, second.job.id, third.job.id]) == {
        second.job.id: Estimate(2, started_at + timedelta(seconds=120), started_at + timedelta(seconds=240)),
        third.job.id: Estimate(3, started_at + timedelta(seconds=240), started_at + timedelta(seconds=360)),
    }

    clock.advance(seconds=30)  # the first job fails early: the second starts now, the third moves up
    backend.emit(Failed(first.job.id, Failure(FailureCode.RENDER_ERROR)))
    await backend.wait_submitted(2)
    await observer.wait(lambda: observer.failed)  # its failure is recorded apart from the next hand-over

    assert await estimates.of_waiting([second.job.id, third.job.id]) == {
        third.job.id: Estimate(2, at(clock, 120.0), at(clock, 240.0)),
    }


async def test_renders_in_parallel_share_the_wait(
    database: Database, running: Jobs, backend: ScriptedBackend, clock: ManualClock, observer: RecordingObserver
) -> None:
    await delivered_history(database, running, [100.0])
    backend.capacity = 2  # two jobs handed over: rendering side by side, or one waiting in the worker
    await submit(running, 1), await submit(running, 2)
    third, fourth = await submit(running, 3), await submit(running, 4)
    await started(running, observer, backend, 2)
    workers = 1
    estimates = JobEstimates(database, clock, parallel_renders=lambda: workers)

    # One render at a time: the second running job waits for the first, so the third starts after 200 s.
    assert (await estimates.of_waiting([third.job.id]))[third.job.id] == Estimate(3, at(clock, 200), at(clock, 300))

    workers = 2
    assert await estimates.of_waiting([third.job.id, fourth.job.id]) == {
        third.job.id: Estimate(3, at(clock, 100), at(clock, 200)),
        fourth.job.id: Estimate(4, at(clock, 100), at(clock, 200)),
    }

    workers = 0  # no worker alive: nothing starts, so nothing can be estimated
    assert (await estimates.of_waiting([third.job.id]))[third.job.id] == Estimate(3, None, None)


async def test_a_render_past_its_typical_time_may_end_any_moment(
    database: Database, running: Jobs, backend: ScriptedBackend, clock: ManualClock, observer: RecordingObserver
) -> None:
    await delivered_history(database, running, [60.0])
    backend.capacity = 2  # the second job waits in the worker for the first, which overruns
    await submit(running, 1), await submit(running, 2)
    waiting = await submit(running, 3)
    await started(running, observer, backend, 2)
    clock.advance(seconds=90)

    estimate = (await JobEstimates(database, clock).of_waiting([waiting.job.id]))[waiting.job.id]

    assert estimate == Estimate(3, at(clock, 60), at(clock, 120))


async def test_a_queued_job_of_a_preset_without_recent_renders_makes_the_jobs_behind_it_estimating(
    database: Database, running: Jobs, backend: ScriptedBackend, clock: ManualClock, observer: RecordingObserver
) -> None:
    await delivered_history(database, running, [60.0])
    await submit(running, 1)
    unknown = await submit(running, 2, preset_id=OTHER_PRESET)
    behind = await submit(running, 3)
    await started(running, observer, backend, 1)

    assert await JobEstimates(database, clock).of_waiting([unknown.job.id, behind.job.id]) == {
        unknown.job.id: Estimate(2, None, None),
        behind.job.id: Estimate(3, None, None),
    }


async def test_a_running_job_of_a_preset_without_recent_renders_makes_every_queued_job_estimating(
    database: Database, running: Jobs, backend: ScriptedBackend, clock: ManualClock, observer: RecordingObserver
) -> None:
    await delivered_history(database, running, [60.0])
    await submit(running, 1, preset_id=OTHER_PRESET)
    behind = await submit(running, 2)
    await started(running, observer, backend, 1)

    assert await JobEstimates(database, clock).of_waiting([behind.job.id]) == {behind.job.id: Estimate(2, None, None)}


async def test_only_queued_jobs_get_an_estimate(
    database: Database, running: Jobs, backend: ScriptedBackend, clock: ManualClock, observer: RecordingObserver
) -> None:
    await delivered_history(database, running, [60.0])
    rendering = await submit(running, 1)
    await started(running, observer, backend, 1)

    assert await JobEstimates(database, clock).of_waiting([rendering.job.id, 999_999]) == {}
    assert await JobEstimates(database, clock).of_waiting([]) == {}
