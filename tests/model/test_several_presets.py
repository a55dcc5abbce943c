"""Several presets on one local worker: one pipeline loaded at a time, swapped when a job needs another.

The second preset is the tiny one under another id (`tiny-b`), built by this module's loader, which the spawned
worker imports by path like tests.model.loaders. What is checked: the real worker renders jobs of both presets and
reports each swap's load time in Started; the runtime holds one pipeline at a time (the ones it let go are
garbage); a failed load fails that job only; and a preset the pipeline refuses stops the start.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import weakref
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import pytest_asyncio
import torch
from diffusers.pipelines.pipeline_utils import DiffusionPipeline

from common.failures import Failure, FailureCode
from model.contract import Done, Failed, Progress, RenderEvent, RenderSpec, Started
from model.local_backend import LocalWorkerBackend, WorkerStartError
from model.pipeline import prepare_pipeline
from model.presets import Preset, get_preset
from model.speed import SpeedOptions
from model.tiny import build_tiny_pipeline
from model.worker.protocol import WorkerConfig
from model.worker.runtime import Rendered, RenderRuntime
from tests.model.specs import TINY, tiny_spec

IN_THE_WORKERS_LOOP = pytest.mark.asyncio(loop_scope="module")  # the module's worker lives in that loop
TINY_B = dataclasses.replace(TINY, id="tiny-b")
LOADER = "tests.model.test_several_presets:load_tiny_for_any_preset"
BLOCK_DIR_ENV = "TESTS_SEVERAL_PRESETS_BLOCK_DIR"
"""While the folder this names holds a file block-<preset id>, loading that preset fails."""
EVENT_TIMEOUT_SECONDS = 120.0  # generous: four renders and three loads on a loaded CI machine
BUILT: list[weakref.ref[DiffusionPipeline]] = []
"""Every pipeline load_tiny_for_any_preset built in this process, to see which are still alive."""
_job_ids = itertools.count(1)


def load_tiny_for_any_preset(
    preset: Preset, device: torch.device, dtype: torch.dtype, speed: SpeedOptions
) -> DiffusionPipeline:
    """The tiny pipeline for a preset built on tiny under any id (load_pipeline builds it for the id `tiny` only)."""
    blocked = os.environ.get(BLOCK_DIR_ENV)
    if blocked and (Path(blocked) / f"block-{preset.id}").exists():
        raise OSError(f"loading {preset.id} is blocked\n(a second line the reason must not carry)")
    pipe = prepare_pipeline(build_tiny_pipeline(), preset, device, speed)
    BUILT.append(weakref.ref(pipe))
    return pipe


def alive() -> int:
    return sum(ref() is not None for ref in BUILT)


def spec_for(preset: Preset, **changes: Any) -> RenderSpec:
    return tiny_spec(next(_job_ids), preset_id=preset.id, **changes)


def block(folder: Path, preset: Preset) -> Path:
    path = folder / f"block-{preset.id}"
    path.touch()
    return path


# -- the runtime, in this process ----------------------------------------------------------------


@pytest.fixture
def block_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(BLOCK_DIR_ENV, str(tmp_path))
    return tmp_path


@pytest.fixture
def runtime(tmp_path: Path, block_dir: Path) -> Iterator[RenderRuntime]:
    BUILT.clear()
    threads = torch.get_num_threads()  # a CPU runtime leaves a core free: give it back to the other tests
    try:
        yield RenderRuntime.load((TINY, TINY_B), data_dir=tmp_path, device="cpu", speed=SpeedOptions(), loader=LOADER)
    finally:
        torch.set_num_threads(threads)
        BUILT.clear()


def render(runtime: RenderRuntime, spec: RenderSpec) -> tuple[list[Started], Rendered | Failed]:
    started: list[Started] = []
    outcome = runtime.render(spec, on_started=started.append, on_step=lambda *_: None, should_stop=lambda: False)
    return started, outcome


def test_the_runtime_holds_one_pipeline_at_a_time(runtime: RenderRuntime) -> None:
    # At start: tiny-b was loaded once to check it and let go; the default is the one held.
    assert runtime.preset_ids == ("tiny", "tiny-b")
    assert runtime.loaded_preset_id == "tiny"
    assert len(BUILT) == 2 and alive() == 1

    b = spec_for(TINY_B)
    started, outcome = render(runtime, b)
    assert isinstance(outcome, Rendered) and outcome.spec == b
    [loaded] = started
    assert loaded.job_id == b.job_id and loaded.load_seconds is not None and loaded.load_seconds > 0
    assert runtime.loaded_preset_id == "tiny-b"
    assert len(BUILT) == 3 and alive() == 1 and BUILT[-1]() is not None  # tiny's pipeline is garbage now

    again = spec_for(TINY_B)
    assert render(runtime, again)[0] == [Started(again.job_id, None)]  # loaded already: no load
    assert len(BUILT) == 3

    back = spec_for(TINY)
    started, outcome = render(runtime, back)
    assert isinstance(outcome, Rendered) and started[0].load_seconds is not None
    assert runtime.loaded_preset_id == "tiny" and len(BUILT) == 4 and alive() == 1


def test_a_failed_load_fails_its_job_and_the_next_job_loads_its_own(runtime: RenderRuntime, block_dir: Path) -> None:
    blocked = block(block_dir, TINY_B)
    doomed = spec_for(TINY_B)
    started, outcome = render(runtime, doomed)
    assert started == []
    assert outcome == Failed(
        doomed.job_id,
        Failure(FailureCode.MODEL_LOAD_FAILED, {"preset_id": "tiny-b", "error": "OSError: loading tiny-b is blocked"}),
    )
    assert (runtime.loaded_preset_id, alive()) == (None, 0)  # tiny's was let go for it

    same_again = spec_for(TINY)
    started, outcome = render(runtime, same_again)
    assert isinstance(outcome, Rendered) and started[0].load_seconds is not None
    assert runtime.loaded_preset_id == "tiny"

    blocked.unlink()
    healthy = spec_for(TINY_B)
    assert isinstance(render(runtime, healthy)[1], Rendered)
    assert runtime.loaded_preset_id == "tiny-b" and alive() == 1


def test_a_job_for_a_preset_not_served_leaves_the_loaded_pipeline_alone(runtime: RenderRuntime) -> None:
    stranger = spec_for(dataclasses.replace(TINY, id="tiny-c"))
    started, outcome = render(runtime, stranger)
    assert (started, outcome) == (
        [],
        Failed(stranger.job_id, Failure(FailureCode.PRESET_NOT_SERVED, {"preset_id": "tiny-c"})),
    )
    assert runtime.loaded_preset_id == "tiny" and alive() == 1


# -- the real worker process ---------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def worker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[LocalWorkerBackend, Path]]:
    """One worker serving tiny (the default) and tiny-b; loading a preset fails while the yielded folder holds
    its block file."""
    data_dir, blocks = tmp_path_factory.mktemp("data"), tmp_path_factory.mktemp("blocks")
    os.environ[BLOCK_DIR_ENV] = str(blocks)  # inherited by the worker spawned next
    backend = LocalWorkerBackend(
        WorkerConfig((TINY, TINY_B), str(data_dir), device="cpu", pipeline_loader=LOADER), capacity=5
    )
    try:
        await backend.start()
        yield backend, blocks
    finally:
        await backend.close()
        del os.environ[BLOCK_DIR_ENV]


async def run(backend: LocalWorkerBackend, *specs: RenderSpec) -> dict[int, list[RenderEvent]]:
    """Submit specs together; every job's events, in order, once each has its Done or Failed."""
    for spec in specs:
        await backend.submit(spec)
    events: dict[int, list[RenderEvent]] = {spec.job_id: [] for spec in specs}
    unfinished = set(events)
    async with asyncio.timeout(EVENT_TIMEOUT_SECONDS):
        async for event in backend.events():
            events[event.job_id].append(event)
            if isinstance(event, Done | Failed):
                unfinished.discard(event.job_id)
            if not unfinished:
                return events
    raise AssertionError(f"the event stream ended with jobs {unfinished} unfinished")


def load_seconds(events: list[RenderEvent]) -> float | None:
    started = events[0]
    assert isinstance(started, Started), events
    return started.load_seconds


@IN_THE_WORKERS_LOOP
async def test_one_worker_renders_both_presets_and_reports_each_load(
    worker: tuple[LocalWorkerBackend, Path],
) -> None:
    backend, _ = worker
    assert backend.serves == frozenset({"tiny", "tiny-b"})
    prime = spec_for(TINY)  # its preset may be loaded or not (an earlier test may have left tiny-b)
    a, b, b_again, c = spec_for(TINY), spec_for(TINY_B), spec_for(TINY_B), spec_for(TINY)
    specs = (prime, a, b, b_again, c)
    events = await run(backend, *specs)

    for spec in specs:
        job = events[spec.job_id]
        assert isinstance(job[-1], Done), job
        assert [event.step for event in job if isinstance(event, Progress)] == list(range(1, spec.clip.steps + 1))
    assert load_seconds(events[a.job_id]) is None  # tiny still loaded from the job before
    loads = [load_seconds(events[spec.job_id]) for spec in (b, c)]
    assert all(seconds is not None and seconds > 0 for seconds in loads), loads  # a swap each way
    assert load_seconds(events[b_again.job_id]) is None


@IN_THE_WORKERS_LOOP
async def test_a_failed_load_fails_only_its_job_and_the_worker_serves_on(
    worker: tuple[LocalWorkerBackend, Path],
) -> None:
    backend, blocks = worker
    pid = backend.worker_pid
    blocked = block(blocks, TINY_B)
    doomed, next_one = spec_for(TINY_B), spec_for(TINY)
    try:
        events = await run(backend, doomed, next_one)
    finally:
        blocked.unlink()
    assert events[doomed.job_id] == [
        Failed(
            doomed.job_id,
            Failure(
                FailureCode.MODEL_LOAD_FAILED, {"preset_id": "tiny-b", "error": "OSError: loading tiny-b is blocked"}
            ),
        )
    ]
    assert isinstance(events[next_one.job_id][-1], Done)
    assert load_seconds(events[next_one.job_id]) is not None  # the failed load left nothing loaded

    healthy = spec_for(TINY_B)
    events = await run(backend, healthy)
    assert isinstance(events[healthy.job_id][-1], Done) and load_seconds(events[healthy.job_id]) is not None
    assert backend.worker_pid == pid  # served on, not restarted


async def start_failure(config: WorkerConfig) -> str:
    backend = LocalWorkerBackend(config)
    try:
        with pytest.raises(WorkerStartError) as raised:
            await backend.start()
    finally:
        await backend.close()
    return raised.value.reason


@IN_THE_WORKERS_LOOP
async def test_a_preset_that_cannot_be_served_stops_the_start_whichever_its_place(tmp_path: Path) -> None:
    """What the pipeline refuses only at load (here call_args the pipeline does not take) is found at start, for
    every preset served, not only the default loaded then."""
    refused = dataclasses.replace(TINY, id="tiny-b", call_args=MappingProxyType({"no_such_argument": 1}))
    reasons = await asyncio.gather(
        *(
            start_failure(WorkerConfig(presets, str(tmp_path), device="cpu", pipeline_loader=LOADER))
            for presets in ((TINY, refused), (refused, TINY))
        )
    )
    assert reasons == ["preset tiny-b: WanPipeline takes no argument 'no_such_argument' (call_args)"] * 2


@IN_THE_WORKERS_LOOP
@pytest.mark.skipif(torch.cuda.is_available(), reason="a real preset's start would load it on this GPU")
async def test_a_device_that_cannot_serve_a_later_preset_stops_the_start_before_any_load(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    reason = await start_failure(WorkerConfig((TINY, get_preset("wan-1.3b")), str(tmp_path), pipeline_loader=LOADER))
    assert reason.startswith("no CUDA GPU found for preset 'wan-1.3b'")
    assert "loading preset" not in capfd.readouterr().err  # not even the default's
