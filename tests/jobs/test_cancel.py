"""Cancelling jobs (JobRunner.cancel) and a member's recent jobs, against real SQLite."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from common.failures import Failure, FailureCode
from common.states import JobState, LedgerKind
from db.database import Database
from db.models import Job, LedgerEntry
from db.repositories.jobs import JobRepository
from jobs.quota import QuotaDefaults
from jobs.runner import CancelOutcome
from jobs.views import load_view, recent_views
from model.contract import Done, Failed, Progress
from tests.jobs.conftest import (
    GUILD_ID,
    Jobs,
    ManualClock,
    RecordingObserver,
    credits_left,
    make_service,
    settle,
    video_request,
)
from tests.jobs.scripted_backend import ScriptedBackend
from tests.jobs.test_durable import CRASHED, finished_clip, killed, left_running
from tests.jobs.test_service import result_for

CANCELLED = Failure(FailureCode.CANCELLED)


async def refunds(database: Database, job_id: int) -> int:
    async with database.transaction() as session:
        query = select(func.count()).where(LedgerEntry.job_id == job_id, LedgerEntry.kind == LedgerKind.REFUND)
        return int(await session.scalar(query) or 0)


async def test_a_queued_job_is_cancelled_and_refunded_once_and_never_rendered(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    backend = ScriptedBackend(capacity=1)
    service = make_service(database, backend, clock, data_dir=tmp_path)
    await service.start(observer)
    try:
        first = await service.submit(service.validate(video_request()))
        waiting = await service.submit(service.validate(video_request()))
        await backend.wait_submitted(1)  # the first holds the only slot; the second waits in the queue

        assert await service.runner.cancel(waiting.job.id) is CancelOutcome.CANCELLED
        assert await service.runner.cancel(waiting.job.id) is CancelOutcome.FINISHED

        view = await load_view(database, waiting.job.id)
        assert view is not None and view.state is JobState.CANCELLED and view.failure == CANCELLED
        assert await refunds(database, waiting.job.id) == 1
        assert [(job.id, refunded) for job, refunded in observer.failed] == [(waiting.job.id, waiting.job.cost)]
        assert await credits_left(service) == 5 - first.job.cost
        # The slot frees up: the cancelled job is not handed to the backend.
        backend.emit(Done(first.job.id, result_for(tmp_path, first.job.id)))
        await observer.wait(lambda: observer.confirmed)
        await settle(service, backend)
        assert [spec.job_id for spec in backend.submitted] == [first.job.id]
        assert backend.cancelled == []
    finally:
        await service.close()


async def test_a_running_job_is_stopped_by_the_backend_and_refunded_once(
    service: Jobs, backend: ScriptedBackend, database: Database, observer: RecordingObserver
) -> None:
    ticket = await service.submit(service.validate(video_request()))
    await backend.wait_submitted(1)
    job_id = ticket.job.id

    assert await service.runner.cancel(job_id) is CancelOutcome.STOPPING
    assert backend.cancelled == [job_id]
    view = await load_view(database, job_id)
    assert view is not None and view.state is JobState.RUNNING  # until the backend says it stopped
    assert await refunds(database, job_id) == 0

    backend.emit(Progress(job_id, 3, 50, 1.0))
    backend.emit(Failed(job_id, CANCELLED))
    await observer.wait(lambda: observer.failed)
    await settle(service, backend)
    view = await load_view(database, job_id)
    assert view is not None and view.state is JobState.CANCELLED
    assert await refunds(database, job_id) == 1
    assert await credits_left(service) == 5

    # A second cancel (a second click) does nothing, and refunds nothing.
    assert await service.runner.cancel(job_id) is CancelOutcome.FINISHED
    backend.emit(Failed(job_id, CANCELLED))  # nor does a late duplicate event
    await settle(service, backend)
    assert backend.cancelled == [job_id]
    assert await refunds(database, job_id) == 1
    assert len(observer.failed) == 1


async def test_a_job_being_cancelled_whose_worker_dies_is_cancelled_not_queued_again(
    service: Jobs, backend: ScriptedBackend, database: Database, observer: RecordingObserver
) -> None:
    ticket = await service.submit(service.validate(video_request()))
    await backend.wait_submitted(1)
    assert await service.runner.cancel(ticket.job.id) is CancelOutcome.STOPPING

    backend.emit(Failed(ticket.job.id, Failure(FailureCode.WORKER_CRASHED, {"exit_code": -9})))
    await observer.wait(lambda: observer.failed)
    await settle(service, backend)

    view = await load_view(database, ticket.job.id)
    assert view is not None and view.state is JobState.CANCELLED
    assert len(backend.submitted) == 1 and await refunds(database, ticket.job.id) == 1


async def test_a_cancel_on_record_keeps_a_crashed_job_from_being_tried_again(
    service: Jobs, backend: ScriptedBackend, database: Database, observer: RecordingObserver, clock: ManualClock
) -> None:
    """The request is on the row, though not in this process's memory (its worker's crash was handled while the
    request was being written): the crash refunds the job, it does not queue it again."""
    ticket = await service.submit(service.validate(video_request()))
    await backend.wait_submitted(1)
    async with database.transaction() as session:
        await JobRepository(session).move(
            ticket.job.id, from_states=(JobState.RUNNING,), to=JobState.RUNNING, cancel_requested_at=clock.now()
        )

    backend.emit(Failed(ticket.job.id, CRASHED))
    await observer.wait(lambda: observer.failed)
    await settle(service, backend)

    view = await load_view(database, ticket.job.id)
    assert view is not None and view.state is JobState.CANCELLED and view.failure == CANCELLED
    assert len(backend.submitted) == 1 and await refunds(database, ticket.job.id) == 1
    assert await credits_left(service) == 5


async def test_a_delivered_job_cannot_be_cancelled(
    service: Jobs, backend: ScriptedBackend, database: Database, observer: RecordingObserver, tmp_path: Path
) -> None:
    ticket = await service.submit(service.validate(video_request()))
    await backend.wait_submitted(1)
    backend.emit(Done(ticket.job.id, result_for(tmp_path, ticket.job.id)))
    await observer.wait(lambda: observer.confirmed)
    await settle(service, backend)

    assert await service.runner.cancel(ticket.job.id) is CancelOutcome.FINISHED
    assert await service.runner.cancel(ticket.job.id + 1000) is CancelOutcome.NOT_FOUND
    view = await load_view(database, ticket.job.id)
    assert view is not None and view.state is JobState.DELIVERED
    assert backend.cancelled == [] and await refunds(database, ticket.job.id) == 0


async def test_recent_jobs_are_the_members_last_ten_in_the_server_newest_first(
    database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    # Not started: the jobs stay queued, and nothing reaches a backend.
    defaults = QuotaDefaults(credits=100, max_active_jobs=1000)
    service = make_service(database, ScriptedBackend(), clock, defaults=defaults, data_dir=tmp_path)
    mine = [(await service.submit(service.validate(video_request(prompt=f"take {n}")))).job.id for n in range(12)]
    await service.submit(service.validate(video_request(user_id=2)))

    recent = await recent_views(database, GUILD_ID, 1)
    assert [view.id for view in recent] == mine[::-1][:10]
    assert recent[0].clip.prompt == "take 11"
    assert await recent_views(database, GUILD_ID + 1, 1) == []


async def cancel_requested_at(database: Database, job_id: int) -> datetime | None:
    async with database.transaction() as session:
        return await session.scalar(select(Job.cancel_requested_at).where(Job.id == job_id))


async def restarted(
    database: Database, clock: ManualClock, tmp_path: Path, backend: ScriptedBackend | None = None
) -> tuple[Jobs, ScriptedBackend, RecordingObserver]:
    backend, observer = backend or ScriptedBackend(), RecordingObserver()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    await service.start(observer)
    return service, backend, observer


async def test_a_cancel_asked_before_the_bot_died_cancels_and_refunds_the_job_once_on_the_next_start(
    database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    backend = ScriptedBackend()
    before = make_service(database, backend, clock, data_dir=tmp_path)
    await before.start(RecordingObserver())
    ticket = await before.submit(before.validate(video_request()))
    await backend.wait_submitted(1)
    assert await before.runner.cancel(ticket.job.id) is CancelOutcome.STOPPING
    assert await cancel_requested_at(database, ticket.job.id) == clock.now()
    await killed(before)  # before the worker stopped the render

    after, backend, observer = await restarted(database, clock, tmp_path)
    try:
        await observer.wait(lambda: observer.failed)
        await settle(after, backend)
    finally:
        await after.close()
    assert [(job.id, job.state, refunded) for job, refunded in observer.failed] == [
        (ticket.job.id, JobState.CANCELLED, ticket.job.cost)
    ]
    assert backend.submitted == [] and observer.delivered == []

    again, backend, observer = await restarted(database, clock, tmp_path)  # and only on that start
    try:
        await settle(again, backend)
    finally:
        await again.close()
    assert backend.submitted == [] and observer.failed == [] and observer.delivered == []
    view = await load_view(database, ticket.job.id)
    assert view is not None and view.state is JobState.CANCELLED and view.failure == CANCELLED
    assert await refunds(database, ticket.job.id) == 1
    assert await credits_left(after) == 5


async def test_a_clip_finished_before_the_bot_died_is_posted_though_a_cancel_was_asked(
    database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    """As a job already encoding when it is cancelled ends in Done and is posted."""
    job_id = await left_running(database, clock, tmp_path, attempts=1, cancel_requested=True)
    finished_clip(tmp_path, job_id)

    service, backend, observer = await restarted(database, clock, tmp_path)
    try:
        await observer.wait(lambda: observer.confirmed)
        await settle(service, backend)
    finally:
        await service.close()
    assert backend.submitted == [] and observer.failed == []
    view = await load_view(database, job_id)
    assert view is not None and view.state is JobState.DELIVERED
    assert await refunds(database, job_id) == 0


@pytest.mark.parametrize("ending", [CANCELLED, CRASHED])
async def test_a_job_the_backend_still_has_is_asked_to_stop_again_on_start(
    database: Database, clock: ManualClock, tmp_path: Path, ending: Failure
) -> None:
    """Remote workers render on through a restart (resume keeps their jobs): the request lost with the last
    process's memory is sent again, and however the job then ends, it is cancelled and refunded, not retried."""
    asked = await left_running(database, clock, tmp_path, attempts=1, cancel_requested=True)
    other = await left_running(database, clock, tmp_path, attempts=1)
    backend = ScriptedBackend()
    backend.resumable = frozenset({asked, other})

    service, backend, observer = await restarted(database, clock, tmp_path, backend)
    try:
        assert backend.cancelled == [asked]
        backend.emit(Failed(asked, ending))
        await observer.wait(lambda: observer.failed)
        await settle(service, backend)
    finally:
        await killed(service)
    assert [(job.id, job.state, job.failure) for job, _ in observer.failed] == [(asked, JobState.CANCELLED, CANCELLED)]
    assert backend.submitted == [] and await refunds(database, asked) == 1
    view = await load_view(database, other)
    assert view is not None and view.state is JobState.RUNNING  # still with its worker, untouched


async def test_a_job_queued_again_with_a_cancel_on_record_is_cancelled_on_start(
    database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    """Asked to stop between its claim and its hand-over, which failed and queued it again, then the bot died."""
    job_id = await left_running(database, clock, tmp_path, attempts=1, cancel_requested=True)
    async with database.transaction() as session:
        await JobRepository(session).move(
            job_id, from_states=(JobState.RUNNING,), to=JobState.QUEUED, attempts=0, render_started_at=None
        )

    service, backend, observer = await restarted(database, clock, tmp_path)
    try:
        await observer.wait(lambda: observer.failed)
        await settle(service, backend)
    finally:
        await service.close()
    assert backend.submitted == [] and await refunds(database, job_id) == 1
    [(job, _)] = observer.failed
    assert job.state is JobState.CANCELLED
