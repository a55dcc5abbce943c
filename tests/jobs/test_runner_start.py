"""The runner's start in the background (JobRunner.launch): while the backend starts (a local model loads for
minutes), jobs are admitted and wait in the queue; once it has started, the last run's jobs are recovered and the
queue is dispatched. A backend that cannot start fails and refunds the jobs waiting for it, admission takes no more,
and started() reports it; one closed while it starts is not a failure."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from common.failures import Failure, FailureCode
from common.states import JobState
from db.database import Database
from jobs.errors import ModelUnavailable
from jobs.runner import CancelOutcome
from jobs.views import load_view
from tests.jobs.conftest import Jobs, ManualClock, RecordingObserver, credits_left, make_service, video_request
from tests.jobs.scripted_backend import SlowResumingBackend, SlowStartingBackend
from tests.jobs.test_durable import attempts_of, finished_clip, left_running


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


async def test_a_backend_that_cannot_start_fails_and_refunds_what_waits_for_it_and_takes_no_more(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    """The model cannot load (for good: the backend tries again what may pass), so nothing will render: the jobs
    queued while it loaded and the last run's are failed and refunded, each member told, before started() raises
    (the bot then stops); a clip the last run finished is posted all the same, and admission charges nobody now."""
    finished_before = await left_running(database, clock, tmp_path, attempts=1)
    finished_clip(tmp_path, finished_before)
    cut_off = await left_running(database, clock, tmp_path, attempts=1)  # its render died with the last process
    backend = SlowStartingBackend()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    service.runner.launch(observer)
    try:
        queued = await service.submit(service.validate(video_request(user_id=2)))
        backend.loaded(failure=RuntimeError("the model does not fit"))

        with pytest.raises(RuntimeError, match="the model does not fit"):
            await service.runner.started()

        assert service.runner.start_failed and not service.runner.model_loading
        assert backend.submitted == []
        unavailable = Failure(FailureCode.WORKER_UNAVAILABLE, {"error": "the model does not fit"})
        told = {job.id: (job.state, job.failure, refunded) for job, refunded in observer.failed}
        assert told == {
            cut_off: (JobState.FAILED, unavailable, queued.job.cost),
            queued.job.id: (JobState.FAILED, unavailable, queued.job.cost),
        }
        assert await credits_left(service, user_id=2) == 5
        assert await credits_left(service, user_id=1) == 5 - queued.job.cost  # the finished clip's cost alone
        await observer.wait(lambda: observer.confirmed)
        assert await state_of(database, finished_before) is JobState.DELIVERED

        with pytest.raises(ModelUnavailable):
            await service.admission.screen(video_request(user_id=3))
        with pytest.raises(ModelUnavailable):  # screened before the start failed: still refused, not charged
            await service.submit(service.validate(video_request(user_id=3)))
        assert await credits_left(service, user_id=3) == 5
    finally:
        await service.close()


async def test_jobs_for_remote_workers_wait_for_them_even_when_the_backend_cannot_start(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    """Remote workers (an elastic backend) live apart from the bot and may render the queue yet: nothing is failed."""
    backend = SlowStartingBackend()
    backend.elastic = True
    service = make_service(database, backend, clock, data_dir=tmp_path)
    service.runner.launch(observer)
    try:
        ticket = await service.submit(service.validate(video_request()))
        backend.loaded(failure=RuntimeError("QUEUE_URL is not a Redis URL"))
        with pytest.raises(RuntimeError):
            await service.runner.started()
        assert service.runner.start_failed
        assert observer.failed == []
        assert await state_of(database, ticket.job.id) is JobState.QUEUED
    finally:
        await service.close()


async def test_a_runner_that_stood_down_cuts_its_recovery_short_and_writes_nothing(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    """Another process took the lease while this one recovered the last run's jobs: they are the new holder's, which
    may have claimed them already, so the recovery stops at once instead of queueing them again."""
    left = await left_running(database, clock, tmp_path, attempts=1)
    backend = SlowResumingBackend()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    service.runner.launch(observer)
    await backend.resuming.wait()  # the recovery is under way

    service.runner.stand_down()
    backend.resumed()  # a recovery let run on from here would queue the job again
    await service.close()

    assert backend.resume_cancelled
    assert await state_of(database, left) is JobState.RUNNING
    assert await attempts_of(database, left) == 1
    assert backend.submitted == [] and observer.failed == []


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
