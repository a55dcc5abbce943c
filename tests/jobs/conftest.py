from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from db.database import Database
from jobs.observer import DeliveryFailed
from jobs.quota import DailyQuota
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
    refuse_delivery: str | None = None
    settled: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_progress(self, job_id: int, progress: Progress) -> None:
        self.progress.append(progress)

    async def deliver(self, job: JobView) -> int:
        if self.refuse_delivery is not None:
            raise DeliveryFailed(self.refuse_delivery)
        self.delivered.append(job)
        self.settled.set()
        return 900_000 + job.id

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


def make_service(database: Database, backend: ScriptedBackend, clock: ManualClock, credits: int = 5) -> VideoService:
    return VideoService(
        database=database,
        backend=backend,
        quota=DailyQuota(credits),
        clock=clock,
        presets=PRESETS,
        default_preset_id="tiny",
    )


@pytest.fixture
async def service(
    database: Database, backend: ScriptedBackend, clock: ManualClock, observer: RecordingObserver
) -> AsyncIterator[VideoService]:
    service = make_service(database, backend, clock)
    await service.start(observer)
    yield service
    await service.close()
