"""A backend serving several presets swaps pipelines rarely, and nobody starves for it.

The runner hands over a job for the preset the backend will have loaded (the last one handed over) ahead of the fair
order's next job when that one is for another preset, at most MAX_AFFINITY_JUMPS in a row; then the fair order's
next job goes, whatever its preset. With one member per job the fair order is the id order, so first come, first
served and an unbounded preference for the loaded preset would each fail the order asserted here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from common.failures import Failure, FailureCode
from db.database import Database
from jobs.runner import MAX_AFFINITY_JUMPS
from model.contract import Failed, Started
from model.presets import PRESETS, TINY_PRESET_ID
from tests.jobs.conftest import Jobs, ManualClock, RecordingObserver, make_service, video_request
from tests.jobs.scripted_backend import ScriptedBackend

TINY_B = dataclasses.replace(PRESETS[TINY_PRESET_ID], id="tiny-b")
CATALOGUE = {**PRESETS, TINY_B.id: TINY_B}
FREED = Failure(FailureCode.OUT_OF_MEMORY)


@dataclass
class StartRecordingObserver(RecordingObserver):
    started: list[tuple[int, float | None]] = field(default_factory=list)

    async def on_started(self, job_id: int, load_seconds: float | None) -> None:
        self.started.append((job_id, load_seconds))
        self.settled.set()


def two_preset_service(
    database: Database, clock: ManualClock, tmp_path: Path, capacity: int
) -> tuple[Jobs, ScriptedBackend]:
    backend = ScriptedBackend(serves=frozenset({"tiny", "tiny-b"}), capacity=capacity)
    return make_service(database, backend, clock, data_dir=tmp_path, presets=CATALOGUE), backend


async def queue(service: Jobs, presets: str) -> list[int]:
    """One job per preset id in `presets` (space-separated), each from a member of its own, in that order."""
    ids = []
    for user_id, preset_id in enumerate(presets.split(), start=1):
        ticket = await service.submit(service.validate(video_request(user_id, preset=preset_id)))
        ids.append(ticket.job.id)
    return ids


async def served_after(backend: ScriptedBackend, freed: int) -> int:
    """Free the backend slot of job `freed` and return the job handed over in its place."""
    count = len(backend.submitted)
    backend.emit(Failed(freed, FREED))
    return (await backend.wait_submitted(count + 1))[count].job_id


async def test_up_to_three_jobs_of_the_loaded_preset_go_ahead_then_the_fair_order_goes_on(
    database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    assert MAX_AFFINITY_JUMPS == 3
    service, backend = two_preset_service(database, clock, tmp_path, capacity=1)
    a, b, c, d, e, f, g, h = await queue(service, "tiny tiny-b tiny tiny tiny tiny tiny-b tiny-b")
    await service.start(StartRecordingObserver())
    try:
        served = [(await backend.wait_submitted(1))[0].job_id]
        while len(served) < 8:
            served.append(await served_after(backend, served[-1]))
    finally:
        await service.close()
    assert served == [
        a,  # the fair order's first; tiny is loaded from now on
        c,
        d,
        e,  # three of tiny's went ahead of b
        b,  # then b, the fair order's next, whatever its preset: tiny-b is loaded from now on
        g,
        h,  # tiny-b's went ahead of f, as many as there were
        f,
    ]


async def test_started_and_its_load_time_reach_the_observer(
    database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    service, backend = two_preset_service(database, clock, tmp_path, capacity=2)
    observer = StartRecordingObserver()
    await service.start(observer)
    try:
        loaded, warm = await queue(service, "tiny-b tiny")
        await backend.wait_submitted(2)
        backend.emit(Started(loaded, 12.5))
        backend.emit(Started(warm))
        await observer.wait(lambda: len(observer.started) == 2)
    finally:
        await service.close()
    assert observer.started == [(loaded, 12.5), (warm, None)]
