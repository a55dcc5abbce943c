"""The job lifecycle against a real SQLite file (WAL) and the real engine."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from common.failures import Failure, FailureCode
from common.states import JobState
from db.database import Database
from db.models import Job, LedgerEntry
from db.repositories.jobs import JobRepository
from jobs.errors import PresetUnavailable, PromptRejected, QuotaExhausted, SeedOutOfRange
from jobs.records import video_columns
from jobs.requests import ValidRequest
from jobs.views import load_view
from model.contract import Done, Failed, Preview, Progress, RenderResult, RenderSpec, VideoFile
from model.presets import PRESETS
from tests.jobs.conftest import (
    ClipOptions,
    Jobs,
    ManualClock,
    RecordingObserver,
    credits_left,
    make_service,
    settle,
    video_request,
)
from tests.jobs.scripted_backend import ScriptedBackend

OUT_OF_MEMORY = Failure(FailureCode.OUT_OF_MEMORY)
CANCELLED = Failure(FailureCode.CANCELLED)


def result_for(data_dir: Path, job_id: int) -> RenderResult:
    """A rendered clip of job_id as the worker leaves it: its file under data_dir/media, known by key."""
    key = f"media/{job_id}.mp4"
    (data_dir / "media").mkdir(exist_ok=True)
    (data_dir / key).write_bytes(b"not really an mp4")
    video = VideoFile(key=key, bytes=17, width=48, height=48, frames=9, fps=8)
    return RenderResult(video=video, poster_key=f"media/{job_id}.jpg", render_seconds=1.5, encode_seconds=0.1)


async def job_count(database: Database) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Job)) or 0)


async def test_submit_reserves_credit_and_queues_the_job(service: Jobs, backend: ScriptedBackend) -> None:
    ticket = await service.submit(service.validate(video_request(prompt="  a fox  ", seed=7)))

    assert ticket.job.state is JobState.QUEUED
    assert ticket.job.clip.prompt == "a fox"
    assert ticket.job.clip.seed == 7
    assert ticket.position == 1
    assert ticket.credits_left == 5 - ticket.job.cost
    assert await credits_left(service, 1) == ticket.credits_left
    [spec] = await backend.wait_submitted(1)
    assert spec.job_id == ticket.job.id
    assert spec.credit.requester_id == 1 and spec.clip == ticket.job.clip


async def test_quota_exhausted_refuses_and_creates_no_job(service: Jobs, database: Database) -> None:
    for _ in range(5):
        await service.submit(service.validate(video_request()))

    with pytest.raises(QuotaExhausted) as refusal:
        await service.submit(service.validate(video_request()))

    assert refusal.value.credits_left == 0
    assert refusal.value.resets_at.hour == 0 and refusal.value.resets_at.day == 26
    assert await job_count(database) == 5
    # Another member's allowance is their own.
    await service.submit(service.validate(video_request(user_id=2)))


async def test_concurrent_submissions_cannot_overspend(service: Jobs, database: Database) -> None:
    valid = service.validate(video_request())

    outcomes = await asyncio.gather(*(service.submit(valid) for _ in range(40)), return_exceptions=True)

    accepted = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, QuotaExhausted)]
    assert len(accepted) == 5
    assert len(refused) == 35
    assert await job_count(database) == 5
    assert await credits_left(service, 1) == 0


async def test_one_request_the_database_rejects_fails_alone_in_its_batch(service: Jobs, database: Database) -> None:
    batch_sizes: list[int] = []
    run_batch = service.admission._submissions._run_batch

    async def recording(batch: Sequence[ValidRequest]) -> Sequence[object]:
        batch_sizes.append(len(batch))
        return await run_batch(batch)

    service.admission._submissions._run_batch = recording  # type: ignore[assignment]
    good = service.validate(video_request())
    other = service.validate(video_request(user_id=2))
    valid = service.validate(video_request(user_id=3))
    bad = replace(valid, clip=replace(valid.clip, seed=2**70))  # no database stores this integer

    outcomes = await asyncio.gather(
        service.submit(good), service.submit(bad), service.submit(other), service.submit(good), return_exceptions=True
    )

    assert batch_sizes[0] == 4  # they did share a batch
    assert isinstance(outcomes[1], Exception) and not isinstance(outcomes[1], QuotaExhausted)
    assert all(not isinstance(outcome, BaseException) for index, outcome in enumerate(outcomes) if index != 1)
    assert await job_count(database) == 3
    async with database.transaction() as session:
        query = select(LedgerEntry.user_id, func.count(), func.sum(LedgerEntry.delta)).group_by(LedgerEntry.user_id)
        charged = (await session.execute(query)).all()
    assert sorted(charged) == [(1, 2, -2), (2, 1, -1)]  # once per job, nothing for the rejected one
    assert await credits_left(service, 1) == 3
    assert await credits_left(service, 3) == 5


async def test_done_is_delivered_and_recorded(
    service: Jobs, backend: ScriptedBackend, observer: RecordingObserver, tmp_path: Path
) -> None:
    ticket = await service.submit(service.validate(video_request()))
    await backend.wait_submitted(1)
    backend.emit(Progress(ticket.job.id, 1, 2, 0.5))
    backend.emit(Preview(ticket.job.id, 1, b"a jpeg"))
    backend.emit(Done(ticket.job.id, result_for(tmp_path, ticket.job.id)))

    await observer.wait(lambda: observer.delivered)
    await settle(service, backend)
    job = await load_view(service.admission.database, ticket.job.id)

    assert observer.progress == [Progress(ticket.job.id, 1, 2, 0.5)]
    assert observer.previews == [Preview(ticket.job.id, 1, b"a jpeg")]
    assert job is not None and job.state is JobState.DELIVERED
    assert job.message_id == 900_000 + ticket.job.id
    assert job.render_seconds == 1.5
    # What the encoder wrote is on record, as a key under DATA_DIR, not a host path.
    assert job.video == VideoFile(key=f"media/{job.id}.mp4", bytes=17, width=48, height=48, frames=9, fps=8)
    assert await credits_left(service, 1) == 4  # spent, not refunded


async def test_failure_refunds_exactly_once(
    service: Jobs, backend: ScriptedBackend, observer: RecordingObserver, database: Database
) -> None:
    ticket = await service.submit(service.validate(video_request()))
    await backend.wait_submitted(1)

    backend.emit(Failed(ticket.job.id, OUT_OF_MEMORY))
    backend.emit(Failed(ticket.job.id, OUT_OF_MEMORY))  # a duplicate must not pay twice
    await observer.wait(lambda: observer.failed)
    await settle(service, backend)

    [(job, refunded)] = observer.failed
    assert job.state is JobState.FAILED and job.failure == OUT_OF_MEMORY
    assert refunded == ticket.job.cost
    assert await credits_left(service, 1) == 5
    async with database.transaction() as session:
        kinds = (await session.scalars(select(LedgerEntry.kind).where(LedgerEntry.job_id == ticket.job.id))).all()
    assert sorted(kinds) == ["refund", "reserve"]


async def test_cancel_event_marks_cancelled_and_refunds_exactly_once(
    service: Jobs, backend: ScriptedBackend, observer: RecordingObserver
) -> None:
    ticket = await service.submit(service.validate(video_request()))
    await backend.wait_submitted(1)
    backend.emit(Failed(ticket.job.id, CANCELLED))
    backend.emit(Failed(ticket.job.id, CANCELLED))  # a duplicate must not pay twice
    await observer.wait(lambda: observer.failed)
    await settle(service, backend)
    [(job, refunded)] = observer.failed
    assert job.state is JobState.CANCELLED and refunded == ticket.job.cost
    assert await credits_left(service, 1) == 5


async def test_undeliverable_clip_is_failed_and_refunded(
    service: Jobs, backend: ScriptedBackend, observer: RecordingObserver, tmp_path: Path
) -> None:
    observer.refuse_delivery = FailureCode.CHANNEL_UNREACHABLE
    ticket = await service.submit(service.validate(video_request()))
    await backend.wait_submitted(1)
    backend.emit(Done(ticket.job.id, result_for(tmp_path, ticket.job.id)))
    await observer.wait(lambda: observer.failed)
    [(job, refunded)] = observer.failed
    assert job.state is JobState.FAILED and job.failure == Failure(FailureCode.CHANNEL_UNREACHABLE)
    assert refunded == ticket.job.cost


async def test_refund_counts_in_the_window_it_was_charged(
    service: Jobs, backend: ScriptedBackend, observer: RecordingObserver, clock: ManualClock
) -> None:
    ticket = await service.submit(service.validate(video_request()))
    await backend.wait_submitted(1)
    clock.advance(days=1)  # the job fails after the daily reset
    backend.emit(Failed(ticket.job.id, OUT_OF_MEMORY))
    await observer.wait(lambda: observer.failed)
    assert await credits_left(service, 1) == 5  # not 6


async def test_daily_reset_restores_the_allowance(service: Jobs, clock: ManualClock) -> None:
    for _ in range(5):
        await service.submit(service.validate(video_request()))
    clock.advance(hours=12)  # 00:00 UTC the next day
    assert await credits_left(service, 1) == 5


async def test_backend_capacity_bounds_outstanding_jobs(service: Jobs, backend: ScriptedBackend) -> None:
    tickets = [await service.submit(service.validate(video_request(user_id=n))) for n in range(1, 5)]
    await backend.wait_submitted(2)
    await settle(service, backend)
    assert [spec.job_id for spec in backend.submitted] == [tickets[0].job.id, tickets[1].job.id]
    assert tickets[3].position == 4

    backend.emit(Failed(tickets[0].job.id, OUT_OF_MEMORY))
    await backend.wait_submitted(3)
    assert backend.submitted[2].job_id == tickets[2].job.id


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"prompt": "   "}, PromptRejected),
        ({"prompt": "x" * 1001}, PromptRejected),
        ({"prompt": "fox\x00"}, PromptRejected),
        ({"negative_prompt": "blur\u202e"}, PromptRejected),
        ({"seed": -1}, SeedOutOfRange),
        ({"seed": 2**32}, SeedOutOfRange),
        ({"preset": "wan-14b"}, PresetUnavailable),
        ({"preset": "no-such-model"}, PresetUnavailable),
    ],
)
def test_validate_refuses_bad_input(service: Jobs, extra: ClipOptions, error: type[Exception]) -> None:
    with pytest.raises(error):
        service.validate(video_request(**extra))


async def test_the_credit_keeps_the_authors_the_catalogue_named_at_submit_time(
    database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    before = make_service(database, ScriptedBackend(), clock, data_dir=tmp_path)  # not started: the job waits
    ticket = await before.submit(before.validate(video_request()))
    assert ticket.job.authors == PRESETS["tiny"].authors

    # The bot restarts with a catalogue that names other authors for the same preset.
    renamed = {**PRESETS, "tiny": replace(PRESETS["tiny"], authors="Someone Else")}
    backend = ScriptedBackend()
    after = make_service(database, backend, clock, data_dir=tmp_path, presets=renamed)
    await after.start(RecordingObserver())
    try:
        [spec] = await backend.wait_submitted(1)
        newer = await after.submit(after.validate(video_request(user_id=2)))
    finally:
        await after.close()
    stored = await load_view(database, ticket.job.id)

    assert spec.job_id == ticket.job.id and spec.credit.authors == PRESETS["tiny"].authors
    assert stored is not None and stored.authors == PRESETS["tiny"].authors
    assert newer.job.authors == "Someone Else"


async def test_restart_requeues_running_and_redelivers_rendered(
    database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    first_backend, first_observer = ScriptedBackend(), RecordingObserver()
    first = make_service(database, first_backend, clock, data_dir=tmp_path)
    await first.start(first_observer)
    running = await first.submit(first.validate(video_request(user_id=1)))
    rendered = await first.submit(first.validate(video_request(user_id=2)))
    await first_backend.wait_submitted(2)
    # The second job finished rendering, but the process dies before its post.
    async with database.transaction() as session:
        await JobRepository(session).move(
            rendered.job.id,
            from_states=(JobState.RUNNING,),
            to=JobState.RENDERED,
            **video_columns(result_for(tmp_path, rendered.job.id).video),
        )
    await first.close()  # the process dies here

    second_backend, second_observer = ScriptedBackend(), RecordingObserver()
    second = make_service(database, second_backend, clock, data_dir=tmp_path)
    await second.start(second_observer)
    try:
        [respec] = await second_backend.wait_submitted(1)
        await second_observer.wait(lambda: second_observer.delivered)
    finally:
        await second.close()

    assert respec.job_id == running.job.id
    assert [job.id for job in second_observer.delivered] == [rendered.job.id]
    assert second_observer.failed == []


async def test_a_passing_delivery_error_is_retried_and_the_status_follows_the_record(
    service: Jobs, backend: ScriptedBackend, observer: RecordingObserver, tmp_path: Path
) -> None:
    observer.passing_delivery_errors = 2
    ticket = await service.submit(service.validate(video_request()))
    await backend.wait_submitted(1)
    backend.emit(Done(ticket.job.id, result_for(tmp_path, ticket.job.id)))

    await observer.wait(lambda: observer.confirmed)

    [confirmed] = observer.confirmed
    assert confirmed.state is JobState.DELIVERED and confirmed.message_id == 900_000 + ticket.job.id
    assert observer.failed == []


async def test_a_delivery_that_keeps_failing_is_refunded(
    service: Jobs, backend: ScriptedBackend, observer: RecordingObserver, tmp_path: Path
) -> None:
    observer.passing_delivery_errors = 99
    ticket = await service.submit(service.validate(video_request()))
    await backend.wait_submitted(1)
    backend.emit(Done(ticket.job.id, result_for(tmp_path, ticket.job.id)))

    await observer.wait(lambda: observer.failed)

    [(job, refunded)] = observer.failed
    assert job.state is JobState.FAILED and refunded == ticket.job.cost
    assert observer.confirmed == []


class FlakyBackend(ScriptedBackend):
    """Refuses its first submission, as a backend that lost its worker might."""

    async def submit(self, spec: RenderSpec) -> None:
        if not self.refused:
            self.refused = True
            raise RuntimeError("no worker")
        await super().submit(spec)

    refused = False


async def test_the_queue_survives_a_backend_that_refuses_a_job(
    database: Database, clock: ManualClock, observer: RecordingObserver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jobs.runner.DISPATCH_RETRY_SECONDS", 0.01)
    backend = FlakyBackend()
    service = make_service(database, backend, clock)
    await service.start(observer)
    try:
        ticket = await service.submit(service.validate(video_request()))
        [spec] = await backend.wait_submitted(1)
    finally:
        await service.close()
    assert backend.refused and spec.job_id == ticket.job.id
