from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypedDict, Unpack

import pytest

from common.failures import Failure, FailureCode
from db.database import Database
from jobs.admission import JobAdmission
from jobs.media import MediaFiles
from jobs.observer import DeliveryFailed
from jobs.quota import QuotaDefaults
from jobs.quota_policy import MemberRef, QuotaPolicy
from jobs.requests import ValidRequest, VideoRequest
from jobs.runner import JobRunner
from jobs.views import JobView, Ticket
from model.contract import Preview, Progress
from model.presets import PRESETS, Preset
from tests.jobs.scripted_backend import ScriptedBackend
from tests.migrated import TemplateDatabase

GUILD_ID = 111
CHANNEL_ID = 222


@dataclass
class ManualClock:
    current: datetime = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@dataclass
class RecordingObserver:
    started: list[tuple[int, float | None]] = field(default_factory=list)
    progress: list[Progress] = field(default_factory=list)
    previews: list[Preview] = field(default_factory=list)
    delivered: list[JobView] = field(default_factory=list)
    failed: list[tuple[JobView, int]] = field(default_factory=list)
    confirmed: list[JobView] = field(default_factory=list)
    refuse_delivery: FailureCode | None = None
    passing_delivery_errors: int = 0  # how many posts fail with a connection error before one succeeds
    settled: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_started(self, job_id: int, load_seconds: float | None) -> None:
        self.started.append((job_id, load_seconds))

    async def on_progress(self, job_id: int, progress: Progress) -> None:
        self.progress.append(progress)

    async def on_preview(self, job_id: int, preview: Preview) -> None:
        self.previews.append(preview)

    async def deliver(self, job: JobView) -> int:
        if self.refuse_delivery is not None:
            raise DeliveryFailed(Failure(self.refuse_delivery))
        if self.passing_delivery_errors:
            self.passing_delivery_errors -= 1
            raise ConnectionResetError("Discord dropped the connection")
        self.delivered.append(job)
        self.settled.set()
        return 900_000 + job.id

    async def on_delivered(self, job: JobView) -> None:
        self.confirmed.append(job)
        self.settled.set()

    async def on_failed(self, job: JobView, refunded: int) -> None:
        self.failed.append((job, refunded))
        self.settled.set()

    async def wait(self, predicate: object, timeout: float = 5.0) -> None:
        assert callable(predicate)
        async with asyncio.timeout(timeout):
            while not predicate():
                self.settled.clear()
                await self.settled.wait()


class ClipOptions(TypedDict, total=False):
    """Clip options as a member types them (unchecked), by /video option name."""

    prompt: object
    negative_prompt: str
    seed: int
    preset: str
    aspect: str
    duration: int
    steps: int


def video_request(
    user_id: int = 1, role_ids: frozenset[int] = frozenset(), **options: Unpack[ClipOptions]
) -> VideoRequest:
    """A member's request for the tiny preset, for a fox unless `options` name another prompt."""
    return VideoRequest(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=user_id,
        user_name=f"member{user_id}",
        options={"prompt": "a fox running through snow", "preset": "tiny", **options},
        role_ids=role_ids,
    )


@dataclass
class Jobs:
    """The job domain as the bot wires it: admission in front, the runner behind."""

    admission: JobAdmission
    runner: JobRunner

    @property
    def quota(self) -> QuotaPolicy:
        return self.admission.quota

    @property
    def busy(self) -> bool:
        return self.runner.busy

    def validate(self, request: VideoRequest) -> ValidRequest:
        return self.admission.validate(request)

    async def submit(self, valid: ValidRequest) -> Ticket:
        return await self.admission.submit(valid)

    async def start(self, observer: RecordingObserver) -> None:
        await self.runner.start(observer)

    async def close(self) -> None:
        await self.runner.close()


@pytest.fixture
async def database(tmp_path: Path, template_database: TemplateDatabase) -> AsyncIterator[Database]:
    database = await template_database.copy_to(tmp_path / "bot.db")
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture
def observer() -> RecordingObserver:
    return RecordingObserver()


def make_service(
    database: Database,
    backend: ScriptedBackend,
    clock: ManualClock,
    defaults: QuotaDefaults | None = None,
    data_dir: Path = Path("data"),
    presets: Mapping[str, Preset] = PRESETS,
) -> Jobs:
    """Members get 5 credits a day and no practical limit on waiting jobs, unless `defaults` say otherwise;
    the catalogue is the built-in one unless `presets` is another."""
    defaults = defaults or QuotaDefaults(credits=5, max_active_jobs=1000)
    runner = JobRunner(
        database=database,
        backend=backend,
        clock=clock,
        media=MediaFiles(data_dir),
        delivery_retry_delays=(0.01, 0.01),
    )
    admission = JobAdmission(
        database=database,
        quota=QuotaPolicy(database=database, defaults=defaults, clock=clock),
        clock=clock,
        presets=presets,
        served=lambda: backend.serves,
        default_preset_id="tiny",
        on_queued=runner.wake,
        start_failed=lambda: runner.start_failed,
    )
    return Jobs(admission, runner)


@pytest.fixture
async def service(
    database: Database, backend: ScriptedBackend, clock: ManualClock, observer: RecordingObserver, tmp_path: Path
) -> AsyncIterator[Jobs]:
    service = make_service(database, backend, clock, data_dir=tmp_path)
    await service.start(observer)
    yield service
    await service.close()


async def credits_left(service: Jobs, user_id: int = 1, role_ids: frozenset[int] = frozenset()) -> int | None:
    return (await service.quota.standing(MemberRef(GUILD_ID, user_id, role_ids))).credits_left


async def settle(service: Jobs, backend: ScriptedBackend, timeout: float = 5.0) -> None:
    """Wait until every emitted event has been handled and its follow-up work has finished."""
    async with asyncio.timeout(timeout):
        while not backend.drained or service.busy:
            await asyncio.sleep(0.01)
