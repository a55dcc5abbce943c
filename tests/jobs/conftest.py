from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from db.database import Database
from jobs.observer import DeliveryFailed
from jobs.quota import QuotaDefaults
from jobs.quota_policy import MemberRef, QuotaPolicy
from jobs.requests import VideoRequest
from jobs.service import VideoService
from jobs.views import JobView
from model.contract import Progress
from model.presets import PRESETS
from tests.jobs.scripted_backend import ScriptedBackend

GUILD_ID = 111
CHANNEL_ID = 222


@dataclass
class ManualClock:
    current: datetime = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@dataclass
class RecordingObserver:
    progress: list[Progress] = field(default_factory=list)
    delivered: list[JobView] = field(default_factory=list)
    failed: list[tuple[JobView, int]] = field(default_factory=list)
    confirmed: list[JobView] = field(default_factory=list)
    refuse_delivery: str | None = None
    passing_delivery_errors: int = 0  # how many posts fail with a connection error before one succeeds
    settled: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_progress(self, job_id: int, progress: Progress) -> None:
        self.progress.append(progress)

    async def deliver(self, job: JobView) -> int:
        if self.refuse_delivery is not None:
            raise DeliveryFailed(self.refuse_delivery)
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


def video_request(user_id: int = 1, prompt: str = "a fox running through snow", **extra: object) -> VideoRequest:
    return VideoRequest(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user_id=user_id,
        user_name=f"member{user_id}",
        prompt=prompt,
        preset_id="tiny",
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await database.migrate()
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
    database: Database, backend: ScriptedBackend, clock: ManualClock, defaults: QuotaDefaults | None = None
) -> VideoService:
    """Members get 5 credits a day and no practical limit on waiting jobs, unless `defaults` say otherwise."""
    defaults = defaults or QuotaDefaults(credits=5, max_active_jobs=1000)
    return VideoService(
        database=database,
        backend=backend,
        quota=QuotaPolicy(database=database, defaults=defaults, clock=clock),
        clock=clock,
        presets=PRESETS,
        default_preset_id="tiny",
        delivery_retry_delays=(0.01, 0.01),
    )


@pytest.fixture
async def service(
    database: Database, backend: ScriptedBackend, clock: ManualClock, observer: RecordingObserver
) -> AsyncIterator[VideoService]:
    service = make_service(database, backend, clock)
    await service.start(observer)
    yield service
    await service.close()


async def credits_left(service: VideoService, user_id: int = 1, role_ids: frozenset[int] = frozenset()) -> int | None:
    return (await service.quota.standing(MemberRef(GUILD_ID, user_id, role_ids))).credits_left


async def settle(service: VideoService, backend: ScriptedBackend, timeout: float = 5.0) -> None:
    """Wait until every emitted event has been handled and its follow-up work has finished."""
    async with asyncio.timeout(timeout):
        while not backend.drained or service.busy:
            await asyncio.sleep(0.01)
