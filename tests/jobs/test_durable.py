"""Attempts and finished clips across crashes and restarts, against a real SQLite file."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from common.failures import Failure, FailureCode
from common.states import JobState
from db.database import Database
from db.models import Job, LedgerEntry
from db.repositories.jobs import JobRepository
from jobs.views import load_view
from model.contract import (
    Failed,
    RenderResult,
    Started,
    VideoFile,
    manifest_key,
    result_from_manifest,
    result_to_manifest,
    write_manifest,
)
from tests.jobs.conftest import (
    Jobs,
    ManualClock,
    RecordingObserver,
    credits_left,
    make_service,
    settle,
    video_request,
)
from tests.jobs.scripted_backend import ScriptedBackend

CRASHED = Failure(FailureCode.WORKER_CRASHED, {"exit_code": -9})


async def attempts_of(database: Database, job_id: int) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(select(Job.attempts).where(Job.id == job_id)) or 0)


async def left_running(
    database: Database, clock: ManualClock, tmp_path: Path, attempts: int, *, cancel_requested: bool = False
) -> int:
    """A job the last process had handed to its worker `attempts` times when it died (killed: no close()), its
    render under way (Started); with `cancel_requested`, the member had asked to stop it."""
    before = make_service(database, ScriptedBackend(), clock, data_dir=tmp_path)  # never started
    ticket = await before.submit(before.validate(video_request()))
    async with database.transaction() as session:
        await JobRepository(session).move(
            ticket.job.id,
            from_states=(JobState.QUEUED,),
            to=JobState.RUNNING,
            started_at=clock.now(),
            attempts=attempts,
            render_started_at=clock.now(),
            cancel_requested_at=clock.now() if cancel_requested else None,
        )
    return ticket.job.id


async def killed(service: Jobs) -> None:
    """Stop a started service as SIGKILL would: its loops end, and nothing more is written to the database."""
    service.runner.stand_down()
    await service.close()


async def render_started_of(database: Database, job_id: int) -> datetime | None:
    async with database.transaction() as session:
        return await session.scalar(select(Job.render_started_at).where(Job.id == job_id))


async def until(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def finished_clip(data_dir: Path, job_id: int) -> RenderResult:
    """What the worker leaves for a clip it finished: the MP4, the poster and, last, the manifest."""
    (data_dir / "media").mkdir(exist_ok=True)
    (data_dir / f"media/{job_id}.mp4").write_bytes(b"not really an mp4")
    (data_dir / f"media/{job_id}.jpg").write_bytes(b"\xff\xd8")
    video = VideoFile(key=f"media/{job_id}.mp4", bytes=17, width=48, height=48, frames=9, fps=8)
    result = RenderResult(video=video, poster_key=f"media/{job_id}.jpg", render_seconds=2.5, encode_seconds=0.25)
    write_manifest(result, data_dir / manifest_key(job_id))
    return result


async def test_each_hand_over_counts_an_attempt(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    backend = ScriptedBackend()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    await service.start(observer)
    try:
        ticket = await service.submit(service.validate(video_request()))
        await backend.wait_submitted(1)
        assert await attempts_of(database, ticket.job.id) == 1
        backend.emit(Started(ticket.job.id))
        await until(lambda: observer.started)
    finally:
        await service.close()
    # A clean shutdown is not the render's fault: the attempt is given back, the job waits as 'running'.
    job = await load_view(database, ticket.job.id)
    assert job is not None and job.state is JobState.RUNNING
    assert await attempts_of(database, ticket.job.id) == 0


async def test_a_render_that_kills_its_worker_is_tried_again_then_failed_and_refunded(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    backend = ScriptedBackend()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    await service.start(observer)
    try:
        ticket = await service.submit(service.validate(video_request()))
        await backend.wait_submitted(1)
        backend.emit(Failed(ticket.job.id, CRASHED))
        [first, again] = await backend.wait_submitted(2)
        assert first.job_id == again.job_id == ticket.job.id
        assert observer.failed == []
        backend.emit(Failed(ticket.job.id, CRASHED))
        await observer.wait(lambda: observer.failed)
        await settle(service, backend)
    finally:
        await service.close()

    [(job, refunded)] = observer.failed
    assert job.state is JobState.FAILED
    assert job.failure == Failure(FailureCode.TOO_MANY_ATTEMPTS, {"attempts": 2})
    assert refunded == ticket.job.cost and await credits_left(service, 1) == 5
    assert len(backend.submitted) == 2  # never a third time


async def test_queue_max_attempts_of_one_fails_the_first_crash(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    backend = ScriptedBackend()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    service.runner.max_attempts = 1
    await service.start(observer)
    try:
        ticket = await service.submit(service.validate(video_request()))
        await backend.wait_submitted(1)
        backend.emit(Failed(ticket.job.id, CRASHED))
        await observer.wait(lambda: observer.failed)
    finally:
        await service.close()
    [(job, _)] = observer.failed
    assert job.failure is not None and job.failure.code is FailureCode.TOO_MANY_ATTEMPTS


async def test_other_failures_are_not_tried_again(database: Database, clock: ManualClock, tmp_path: Path) -> None:
    backend, observer = ScriptedBackend(), RecordingObserver()
    jobs = make_service(database, backend, clock, data_dir=tmp_path)
    await jobs.start(observer)
    try:
        ticket = await jobs.submit(jobs.validate(video_request()))
        await backend.wait_submitted(1)
        backend.emit(Failed(ticket.job.id, Failure(FailureCode.WORKER_STALLED)))
        await observer.wait(lambda: observer.failed)
        await settle(jobs, backend)
    finally:
        await jobs.close()
    [(job, _)] = observer.failed
    assert job.failure == Failure(FailureCode.WORKER_STALLED) and len(backend.submitted) == 1


@pytest.mark.parametrize(("attempts", "retried"), [(1, True), (2, False)])
async def test_a_job_running_when_the_bot_died_is_retried_up_to_the_limit(
    database: Database, clock: ManualClock, tmp_path: Path, attempts: int, retried: bool
) -> None:
    job_id = await left_running(database, clock, tmp_path, attempts)

    backend, observer = ScriptedBackend(), RecordingObserver()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    await service.start(observer)
    try:
        if retried:
            [spec] = await backend.wait_submitted(1)
            assert spec.job_id == job_id
            assert await attempts_of(database, job_id) == attempts + 1
        else:
            await observer.wait(lambda: observer.failed)
            await settle(service, backend)
    finally:
        await service.close()

    if not retried:
        [(job, refunded)] = observer.failed
        assert job.failure == Failure(FailureCode.TOO_MANY_ATTEMPTS, {"attempts": 2})
        assert refunded == job.cost and backend.submitted == []
        async with database.transaction() as session:
            kinds = (await session.scalars(select(LedgerEntry.kind).where(LedgerEntry.job_id == job_id))).all()
        assert sorted(kinds) == ["refund", "reserve"]


@pytest.mark.parametrize("attempts", [1, 2])
async def test_a_clip_finished_before_the_bot_died_is_posted_not_rendered_again(
    database: Database, clock: ManualClock, tmp_path: Path, attempts: int
) -> None:
    job_id = await left_running(database, clock, tmp_path, attempts)  # at the limit too: that attempt succeeded
    result = finished_clip(tmp_path, job_id)

    backend, observer = ScriptedBackend(), RecordingObserver()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    await service.start(observer)
    try:
        await observer.wait(lambda: observer.confirmed)
        await settle(service, backend)
    finally:
        await service.close()

    assert backend.submitted == [] and observer.failed == []
    job = await load_view(database, job_id)
    assert job is not None and job.state is JobState.DELIVERED
    assert job.video == result.video
    assert job.render_seconds == 2.5
    async with database.transaction() as session:
        row = await JobRepository(session).get(job_id)
        assert row is not None
        assert (row.poster_key, row.encode_seconds, row.finished_at) == (result.poster_key, 0.25, clock.now())


@pytest.mark.parametrize(
    "manifest",
    [
        "{not json",
        json.dumps({"video": {"key": "media/1.mp4"}}),
        json.dumps({"video": [], "poster_key": "x"}),
        "BAD-BYTES",
        "NO-VIDEO",
    ],
)
async def test_a_malformed_manifest_is_ignored_and_the_clip_rendered_again(
    database: Database, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture, manifest: str
) -> None:
    job_id = await left_running(database, clock, tmp_path, attempts=1)
    result = finished_clip(tmp_path, job_id)
    path = tmp_path / manifest_key(job_id)
    if manifest == "BAD-BYTES":
        path.write_bytes(b"\xff\xfe\x00")
    elif manifest == "NO-VIDEO":
        (tmp_path / result.video.key).unlink()
    else:
        path.write_text(manifest)

    backend, observer = ScriptedBackend(), RecordingObserver()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="jobs.media"):
        await service.start(observer)
    try:
        [spec] = await backend.wait_submitted(1)
    finally:
        await service.close()
    assert spec.job_id == job_id and observer.delivered == []
    assert f"ignoring the manifest media/{job_id}.json" in caplog.text


def test_a_manifest_holds_the_render_result_exactly(tmp_path: Path) -> None:
    result = finished_clip(tmp_path, 7)
    text = (tmp_path / "media/7.json").read_text()
    assert result_from_manifest(json.loads(text)) == result
    assert result_from_manifest(result_to_manifest(result)) == result
    assert [path.name for path in (tmp_path / "media").iterdir() if path.suffix == ".json"] == ["7.json"]
    with pytest.raises(ValueError, match="no 'fps'"):
        data = result_to_manifest(result)
        del data["video"]["fps"]
        result_from_manifest(data)
    with pytest.raises(ValueError):
        result_from_manifest({**result_to_manifest(result), "render_seconds": "fast"})


async def test_closing_twice_gives_an_attempt_back_once(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    """A second SIGTERM (or one plus a lost lease) closes again: it must not hand out extra retries."""
    backend = ScriptedBackend()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    await service.start(observer)
    ticket = await service.submit(service.validate(video_request()))
    await backend.wait_submitted(1)
    assert await attempts_of(database, ticket.job.id) == 1
    backend.emit(Started(ticket.job.id))
    await until(lambda: observer.started)
    await service.close()
    await service.close()
    assert await attempts_of(database, ticket.job.id) == 0


async def test_a_runner_that_stood_down_leaves_the_database_to_the_new_holder(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    """Once another process holds the lease, the jobs are its: closing here changes none of them."""
    backend = ScriptedBackend()
    service = make_service(database, backend, clock, data_dir=tmp_path)
    await service.start(observer)
    ticket = await service.submit(service.validate(video_request()))
    await backend.wait_submitted(1)
    await service.runner.cancel(ticket.job.id)  # asked to stop, so a normal close would record it cancelled
    service.runner.stand_down()
    await service.close()
    job = await load_view(database, ticket.job.id)
    assert job is not None and job.state is JobState.RUNNING
    assert await attempts_of(database, ticket.job.id) == 1
    assert await credits_left(service) == 5 - ticket.job.cost


async def test_only_a_job_whose_render_began_is_charged_an_attempt_for_a_crash_of_the_bot(
    database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    """With capacity 2 the job waiting behind the rendering one is 'running' too; the bot dying is not its fault."""
    backend = ScriptedBackend(capacity=2)
    before = make_service(database, backend, clock, data_dir=tmp_path)
    before.runner.max_attempts = 1
    observer = RecordingObserver()
    await before.start(observer)
    rendering = await before.submit(before.validate(video_request()))
    waiting = await before.submit(before.validate(video_request(user_id=2)))
    await backend.wait_submitted(2)
    backend.emit(Started(rendering.job.id))
    await until(lambda: observer.started)
    assert await render_started_of(database, rendering.job.id) == clock.now()
    assert await render_started_of(database, waiting.job.id) is None
    await killed(before)
    assert [await attempts_of(database, ticket.job.id) for ticket in (rendering, waiting)] == [1, 1]

    backend, observer = ScriptedBackend(capacity=2), RecordingObserver()
    after = make_service(database, backend, clock, data_dir=tmp_path)
    after.runner.max_attempts = 1
    await after.start(observer)
    try:
        await observer.wait(lambda: observer.failed)
        [spec] = await backend.wait_submitted(1)
        await settle(after, backend)
    finally:
        await killed(after)

    [(failed, refunded)] = observer.failed  # the render that was under way had its one attempt
    assert failed.id == rendering.job.id and refunded == rendering.job.cost
    assert failed.failure == Failure(FailureCode.TOO_MANY_ATTEMPTS, {"attempts": 1})
    assert spec.job_id == waiting.job.id and spec.attempt == 1  # the waiting one got its attempt back, and went again
    assert await attempts_of(database, waiting.job.id) == 1
    assert await credits_left(after, 2) == 5 - waiting.job.cost


async def test_a_retried_job_forgets_its_render_start(database: Database, clock: ManualClock, tmp_path: Path) -> None:
    """Queued again after a crash, a job waits for its next render: its last one's start must not count it twice."""
    backend, observer = ScriptedBackend(), RecordingObserver()
    before = make_service(database, backend, clock, data_dir=tmp_path)
    await before.start(observer)
    ticket = await before.submit(before.validate(video_request()))
    await backend.wait_submitted(1)
    backend.emit(Started(ticket.job.id))
    backend.emit(Failed(ticket.job.id, CRASHED))
    await backend.wait_submitted(2)  # attempt 2, not started when the bot dies
    await settle(before, backend)
    assert await render_started_of(database, ticket.job.id) is None
    await killed(before)
    assert await attempts_of(database, ticket.job.id) == 2

    backend, observer = ScriptedBackend(), RecordingObserver()
    after = make_service(database, backend, clock, data_dir=tmp_path)
    await after.start(observer)
    try:
        [spec] = await backend.wait_submitted(1)
    finally:
        await killed(after)
    assert observer.failed == []
    assert spec.job_id == ticket.job.id and spec.attempt == 2  # one crash counted, the bot's death not


async def test_a_clean_stop_and_a_restart_give_a_waiting_job_its_attempt_back_once(
    database: Database, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> None:
    backend = ScriptedBackend()
    before = make_service(database, backend, clock, data_dir=tmp_path)
    await before.start(observer)
    ticket = await before.submit(before.validate(video_request()))
    await backend.wait_submitted(1)
    await before.close()  # leaves its attempt for the next start to give back: its render never started
    assert await attempts_of(database, ticket.job.id) == 1

    backend = ScriptedBackend()
    after = make_service(database, backend, clock, data_dir=tmp_path)
    await after.start(RecordingObserver())
    try:
        [spec] = await backend.wait_submitted(1)
    finally:
        await killed(after)
    assert spec.attempt == 1 and await attempts_of(database, ticket.job.id) == 1  # counted once
