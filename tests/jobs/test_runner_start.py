"""The runner's start in the background (JobRunner.launch): while the backend starts (a local model loads for
minutes), jobs are admitted and wait in the queue; once it has started, the last run's jobs are recovered and the
queue is dispatched. A backend that cannot start is reported by started(); one closed while it starts is not a
failure."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from common.states import JobState
from db.database import Database
from jobs.runner import CancelOutcome
from jobs.views import load_view
from tests.jobs.conftest import Jobs, ManualClock, RecordingObserver, make_service, video_request
from tests.jobs.scripted_backend import SlowStartingBackend
from tests.jobs.test_durable import left_running


async def state_of(database: Database, job_id: int) -> JobState:
    view = await load_view(database, job_id)
    assert view is not None
    return view.state


def loading(service: Jobs) -> bool:
    return service.runner.model_loading


async def test_jobs_wait_in_the_queue_while_the_backend_starts_then_go_to_it(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    backend = SlowStartingBackend()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    service.runner.launch(observer)
    try:
        ticket = await service.submit(service.validate(video_request()))
        await asyncio.sleep(0.05)  # the runner would have handed it over by now, were the backend started
        assert loading(service)
        assert backend.submitted == []
        assert await state_of(database, ticket.job.id) is JobState.QUEUED

        backend.loaded()
        await service.runner.started()

        assert not loading(service)
        assert [spec.job_id for spec in await backend.wait_submitted(1)] == [ticket.job.id]
    finally:
        await service.close()


async def test_the_last_runs_jobs_are_recovered_once_the_backend_has_started(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    """A job the last process left running stays as it was while the model loads; a member may cancel it meanwhile,
    and it is then cancelled and refunded, never rendered."""
    cancelled = await left_running(database, clock, tmp_path, attempts=1)
    resumed = await left_running(database, clock, tmp_path, attempts=1)
    backend = SlowStartingBackend()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    service.runner.launch(observer)
    try:
        assert await service.runner.cancel(cancelled) is CancelOutcome.STOPPING
        assert await state_of(database, resumed) is JobState.RUNNING

        backend.loaded()
        await service.runner.started()

        assert [spec.job_id for spec in await backend.wait_submitted(1)] == [resumed]
        assert await state_of(database, cancelled) is JobState.CANCELLED
        assert [(job.id, refunded) for job, refunded in observer.failed] == [(cancelled, 1)]
    finally:
        await service.close()


async def test_a_backend_that_cannot_start_is_reported_by_started_and_dispatches_nothing(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    backend = SlowStartingBackend()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    service.runner.launch(observer)
    try:
        ticket = await service.submit(service.validate(video_request()))
        backend.loaded(failure=RuntimeError("the model does not fit"))

        with pytest.raises(RuntimeError, match="the model does not fit"):
            await service.runner.started()

        assert not service.runner.model_loading
        assert backend.submitted == []
        assert await state_of(database, ticket.job.id) is JobState.QUEUED  # kept, charged, for the next start
    finally:
        await service.close()


async def test_closing_while_the_backend_starts_stops_it_and_is_no_failure(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    running = await left_running(database, clock, tmp_path, attempts=1)
    backend = SlowStartingBackend()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    service.runner.launch(observer)
    ticket = await service.submit(service.validate(video_request()))

    await service.close()

    assert backend.closed
    await service.runner.started()  # returns: a start cut short by close() is not a failure to start
    assert backend.submitted == [] and observer.failed == []
    # Nothing was recovered or dispatched: the next start finds both jobs as they were.
    assert await state_of(database, running) is JobState.RUNNING
    assert await state_of(database, ticket.job.id) is JobState.QUEUED


async def test_launching_twice_is_a_mistake(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    backend = SlowStartingBackend()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    service.runner.launch(observer)
    try:
        with pytest.raises(RuntimeError, match="already started"):
            service.runner.launch(observer)
    finally:
        backend.loaded()
        await service.close()
