"""Cancelling jobs (JobRunner.cancel) and a member's recent jobs, against real SQLite."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from common.failures import Failure, FailureCode
from common.states import JobState, LedgerKind
from db.database import Database
from db.models import LedgerEntry
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
