"""The real spawned render worker, driven through LocalWorkerBackend as the job domain drives it.

One worker serves the whole module (a start costs seconds of imports). It runs the tiny preset
through tests.model.loaders, which slows each denoising step a little (so cancels land mid-render)
and raises on prompts containing FAIL_WORD.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import itertools
import json
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import av
import pytest
import pytest_asyncio

from common.failures import Failure, FailureCode
from model import local_backend
from model.catalogue import load_catalogue
from model.contract import Done, Failed, Preview, Progress, RenderEvent, RenderSpec, Started, result_from_manifest
from model.local_backend import BackendFullError, LocalWorkerBackend, WorkerStartError
from model.presets import PRESETS, get_preset
from model.preview import preview_size
from model.speed import FirstBlockCache, SpeedOptions
from model.worker.protocol import WorkerConfig
from model.worker.runtime import warm_up_clip
from tests.model.loaders import BLOCK_LOAD_ENV, FAIL_WORD, GPU_ERROR_WORD, HANG_WORD, HOLD_LOAD_ENV, NO_ROOM_ENV
from tests.model.specs import REQUESTER_ID, REQUESTER_NAME, SEED, TINY, tiny_spec

pytestmark = pytest.mark.asyncio(loop_scope="module")

LONG_TINY_FRAMES = 41
"""Beyond the built-in tiny's maximum: the module's worker serves a presets file allowing it."""
REPO_ROOT = Path(__file__).resolve().parents[2]
EVENT_TIMEOUT_SECONDS = 60.0  # generous: includes a worker restart on a loaded CI machine
STALL_TIMEOUT_SECONDS = 1.0
_job_ids = itertools.count(1)


def loader(name: str) -> str:
    return f"tests.model.loaders:{name}"


CANCELLED = Failure(FailureCode.CANCELLED)


def presets_file(folder: Path) -> str:
    path = folder / "presets.toml"
    path.write_text(f"[tiny]\nmax_frames = {LONG_TINY_FRAMES}\n\n[my-wan]\nbase = 'wan-1.3b'\n")
    return str(path)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def backend(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalWorkerBackend]:
    data_dir = tmp_path_factory.mktemp("data")
    config = WorkerConfig(
        (load_catalogue(presets_file(data_dir))[TINY.id],),
        str(data_dir),
        device="cpu",
        pipeline_loader=loader("load_slow_and_fragile"),
    )
    backend = LocalWorkerBackend(config)
    try:
        await backend.start()
        yield backend
    finally:
        await backend.close()


def make_spec(**changes: Any) -> RenderSpec:
    return tiny_spec(next(_job_ids), **changes)


async def events_until_finished(
    backend: LocalWorkerBackend,
    *job_ids: int,
    on_event: Callable[[RenderEvent], Awaitable[None]] | None = None,
) -> list[RenderEvent]:
    """Every event, in arrival order, until each job has its Done or Failed."""
    unfinished, seen = set(job_ids), []
    async with asyncio.timeout(EVENT_TIMEOUT_SECONDS):
        async for event in backend.events():
            seen.append(event)
            if on_event is not None:
                await on_event(event)
            if isinstance(event, Done | Failed):
                unfinished.discard(event.job_id)
            if not unfinished:
                return seen
    raise AssertionError(f"the event stream ended with jobs {unfinished} unfinished")


def of_job(events: list[RenderEvent], job_id: int) -> list[RenderEvent]:
    return [event for event in events if event.job_id == job_id]


async def test_the_parent_process_never_imports_torch() -> None:
    heavy = ("torch", "diffusers", "transformers", "av")
    code = f"import sys, model.local_backend; print(*(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


async def test_backend_describes_what_it_serves(backend: LocalWorkerBackend) -> None:
    assert backend.serves == frozenset({TINY.id})
    assert backend.capacity == 2


async def test_the_worker_serves_the_presets_file_too(backend: LocalWorkerBackend) -> None:
    spec = make_spec(frames=LONG_TINY_FRAMES)
    await backend.submit(spec)
    done = (await events_until_finished(backend, spec.job_id))[-1]
    assert isinstance(done, Done) and done.result.video.frames == LONG_TINY_FRAMES


async def test_progress_arrives_in_order_and_precedes_done(backend: LocalWorkerBackend) -> None:
    spec = make_spec()
    await backend.submit(spec)
    events = await events_until_finished(backend, spec.job_id)

    assert events[0] == Started(spec.job_id)
    progress = [event for event in events if isinstance(event, Progress)]
    assert [(p.step, p.total) for p in progress] == [(step, spec.clip.steps) for step in range(1, spec.clip.steps + 1)]
    assert [p.elapsed for p in progress] == sorted(p.elapsed for p in progress)
    assert [event for event in events[1:-1] if not isinstance(event, Preview)] == progress
    assert isinstance(events[-1], Done) and len(events) == len(progress) + 3


async def test_a_render_shows_its_middle_frame_after_its_first_step(backend: LocalWorkerBackend) -> None:
    spec = make_spec()
    await backend.submit(spec)
    events = await events_until_finished(backend, spec.job_id)

    # The tiny clip renders in well under the preview interval: one preview, taken after step 1, before Done.
    [preview] = [event for event in events if isinstance(event, Preview)]
    first_step = next(index for index, event in enumerate(events) if isinstance(event, Progress))
    assert preview.step == 1 and events.index(preview) > first_step
    with av.open(io.BytesIO(preview.image), mode="r") as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == preview_size(spec.clip.width, spec.clip.height)


async def test_done_files_decode_to_the_clip_and_carry_the_credit(
    backend: LocalWorkerBackend,
) -> None:
    spec = make_spec(prompt="a fox running through snow at dusk", frames=9)
    clip = spec.clip
    await backend.submit(spec)
    done = (await events_until_finished(backend, spec.job_id))[-1]
    assert isinstance(done, Done)
    result = done.result

    # Keys relative to DATA_DIR, which any process sharing it resolves the same way.
    assert (result.video.key, result.poster_key) == (f"media/{spec.job_id}.mp4", f"media/{spec.job_id}.jpg")
    video, poster = Path(backend.config.data_dir, result.video.key), Path(backend.config.data_dir, result.poster_key)
    assert video.stat().st_size == result.video.bytes <= spec.max_bytes
    assert poster.read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    assert (result.video.frames, result.video.width, result.video.height, result.video.fps) == (
        9,
        clip.width,
        clip.height,
        clip.fps,
    )
    assert result.render_seconds > 0 and result.encode_seconds > 0
    # The manifest, written last, holds the same result, so a restart can record the clip without rendering it.
    manifest = Path(backend.config.data_dir, "media", f"{spec.job_id}.json")
    assert result_from_manifest(json.loads(manifest.read_text())) == result
    assert not list(manifest.parent.glob(".*.tmp"))

    with av.open(str(video)) as container:
        frames = list(container.decode(video=0))
        tags = dict(container.metadata)
    assert len(frames) == clip.frames
    assert {(frame.width, frame.height) for frame in frames} == {(clip.width, clip.height)}
    assert tags["title"] == clip.prompt
    assert tags["artist"] == REQUESTER_NAME
    for fact in (
        "AI-generated",
        REQUESTER_NAME,
        str(REQUESTER_ID),
        TINY.id,
        f"{TINY.repo} by {TINY.authors}",
        TINY.licence,
        f"seed: {SEED}",
        f"job: {spec.job_id}",
    ):
        assert fact in tags["comment"]
        assert fact in tags["description"]


async def test_the_next_job_denoises_while_the_previous_one_encodes(
    backend: LocalWorkerBackend,
) -> None:
    first, second = make_spec(), make_spec()
    await backend.submit(first)
    await backend.submit(second)
    events = await events_until_finished(backend, first.job_id, second.job_id)
    assert events.index(Started(second.job_id)) < next(
        index for index, event in enumerate(events) if isinstance(event, Done) and event.job_id == first.job_id
    )
    assert isinstance(of_job(events, second.job_id)[-1], Done)


async def test_cancel_mid_render_stops_early(backend: LocalWorkerBackend) -> None:
    """How many steps run after the cancel is a race between two processes; that the render
    stops well before its end, and writes nothing, is not."""
    spec = make_spec(steps=20)

    async def cancel_at_step_two(event: RenderEvent) -> None:
        if isinstance(event, Progress) and event.step == 2:
            await backend.cancel(spec.job_id)

    await backend.submit(spec)
    events = await events_until_finished(backend, spec.job_id, on_event=cancel_at_step_two)

    assert not any(isinstance(event, Done) for event in events)
    assert events[-1] == Failed(spec.job_id, CANCELLED)
    steps = [event.step for event in events if isinstance(event, Progress)]
    assert 2 <= max(steps) < spec.clip.steps
    assert not Path(backend.config.data_dir, "media", f"{spec.job_id}.mp4").exists()
    assert not Path(backend.config.data_dir, "media", f"{spec.job_id}.json").exists()


async def test_cancelling_a_waiting_job_fails_it_at_once(backend: LocalWorkerBackend) -> None:
    running, waiting = make_spec(steps=30), make_spec()
    await backend.submit(running)
    await backend.submit(waiting)
    await backend.cancel(waiting.job_id)

    async def stop_the_running_job(event: RenderEvent) -> None:
        if event.job_id == waiting.job_id:
            await backend.cancel(running.job_id)

    events = await events_until_finished(backend, running.job_id, waiting.job_id, on_event=stop_the_running_job)
    assert of_job(events, waiting.job_id) == [Failed(waiting.job_id, CANCELLED)]
    finished_running = next(
        i for i, event in enumerate(events) if isinstance(event, Failed) and event.job_id == running.job_id
    )
    assert events.index(Failed(waiting.job_id, CANCELLED)) < finished_running


async def test_a_pipeline_exception_fails_only_that_job(backend: LocalWorkerBackend) -> None:
    doomed = make_spec(prompt=f"please {FAIL_WORD}")
    await backend.submit(doomed)
    failed = (await events_until_finished(backend, doomed.job_id))[-1]

    injected = f"RuntimeError: injected failure for a prompt containing '{FAIL_WORD}'"
    assert failed == Failed(doomed.job_id, Failure(FailureCode.RENDER_ERROR, {"error": injected}))

    healthy = make_spec()
    await backend.submit(healthy)
    assert isinstance((await events_until_finished(backend, healthy.job_id))[-1], Done)


async def test_a_gpu_error_fails_its_job_and_a_fresh_worker_takes_over(backend: LocalWorkerBackend) -> None:
    """After an illegal address the CUDA context is poisoned: the worker exits instead of failing every later job."""
    poisoned, waiting = make_spec(prompt=f"please {GPU_ERROR_WORD}"), make_spec()
    poisoned_pid = backend.worker_pid
    await backend.submit(poisoned)
    await backend.submit(waiting)
    events = await events_until_finished(backend, poisoned.job_id, waiting.job_id)

    error = "AcceleratorError: CUDA error: an illegal memory access was encountered"
    assert of_job(events, poisoned.job_id)[-1] == Failed(
        poisoned.job_id, Failure(FailureCode.GPU_ERROR, {"error": error})
    )
    assert isinstance(of_job(events, waiting.job_id)[-1], Done)
    assert backend.worker_pid not in (None, poisoned_pid)


async def test_submitting_beyond_capacity_is_refused(backend: LocalWorkerBackend) -> None:
    jobs = [make_spec(steps=30) for _ in range(backend.capacity)]
    for spec in jobs:
        await backend.submit(spec)
    with pytest.raises(BackendFullError):
        await backend.submit(make_spec())
    for spec in jobs:
        await backend.cancel(spec.job_id)
    events = await events_until_finished(backend, *(spec.job_id for spec in jobs))
    assert all(of_job(events, spec.job_id)[-1] == Failed(spec.job_id, CANCELLED) for spec in jobs)


async def test_a_killed_worker_fails_its_job_and_a_new_one_serves_the_waiting_one(
    backend: LocalWorkerBackend,
) -> None:
    doomed = make_spec(steps=30)
    # Beyond the built-in tiny's frames: only the presets file, as read at start, allows it.
    waiting = make_spec(frames=LONG_TINY_FRAMES)
    killed_pid = backend.worker_pid
    assert killed_pid is not None

    async def kill_at_first_step(event: RenderEvent) -> None:
        if isinstance(event, Progress) and event.step == 1 and event.job_id == doomed.job_id:
            os.kill(killed_pid, signal.SIGKILL)

    await backend.submit(doomed)
    await backend.submit(waiting)
    events = await events_until_finished(backend, doomed.job_id, waiting.job_id, on_event=kill_at_first_step)
    assert of_job(events, doomed.job_id)[-1] == Failed(
        doomed.job_id, Failure(FailureCode.WORKER_CRASHED, {"exit_code": -signal.SIGKILL})
    )
    waited = of_job(events, waiting.job_id)
    assert waited[0] == Started(waiting.job_id)
    # The new worker got the presets the bot loaded, with the file's longer tiny.
    assert isinstance(waited[-1], Done) and waited[-1].result.video.frames == LONG_TINY_FRAMES
    assert [type(event) for event in waited].count(Done) == 1
    assert not any(isinstance(event, Failed) for event in waited)
    assert backend.worker_pid not in (None, killed_pid)

    next_job = make_spec()
    await backend.submit(next_job)
    assert isinstance((await events_until_finished(backend, next_job.job_id))[-1], Done)


async def test_a_worker_config_and_its_presets_pickle_as_they_are(tmp_path: Path) -> None:
    """A spawn pickles the config: presets from a file cross as the bot loaded them, file or no file."""
    catalogue = load_catalogue(presets_file(tmp_path))
    Path(presets_file(tmp_path)).write_text("not toml at all [")
    config = WorkerConfig((catalogue["tiny"], catalogue["my-wan"]), str(tmp_path))
    copy = pickle.loads(pickle.dumps(config))
    assert copy == config and copy.preset_ids == ("tiny", "my-wan")
    assert copy.presets[0].max_frames == LONG_TINY_FRAMES
    assert all(pickle.loads(pickle.dumps(preset)) == preset for preset in PRESETS.values())


async def test_the_warm_up_renders_the_default_clip_in_two_steps() -> None:
    """With VIDEO_COMPILE the blocks compile for the shapes they first see: the default job's."""
    for preset in (TINY, *(get_preset(preset_id) for preset_id in ("wan-1.3b", "ltx"))):
        clip = warm_up_clip(preset)
        assert (clip.width, clip.height) == preset.default_size
        assert (clip.frames, clip.steps) == (preset.default_frames, 2)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def touchy_backend(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[LocalWorkerBackend, Path]]:
    """A second worker, with a short stall timeout and restart delay, whose restarts fail while
    the yielded file exists."""
    media_dir = tmp_path_factory.mktemp("touchy")
    block = media_dir / "block-loading"
    os.environ[BLOCK_LOAD_ENV] = str(block)  # inherited by every worker spawned from now on
    config = WorkerConfig(
        (TINY,),
        str(media_dir),
        device="cpu",
        pipeline_loader=loader("load_slow_and_fragile"),
        stall_timeout=STALL_TIMEOUT_SECONDS,
    )
    backend = LocalWorkerBackend(config, restart_delays=(0.2, 0.5))
    try:
        await backend.start()
        yield backend, block
    finally:
        await backend.close()
        del os.environ[BLOCK_LOAD_ENV]


async def test_a_hung_render_is_killed_failed_and_the_waiting_job_runs(
    touchy_backend: tuple[LocalWorkerBackend, Path],
) -> None:
    backend, _ = touchy_backend
    hung, waiting = make_spec(prompt=f"please {HANG_WORD}"), make_spec()
    hung_pid = backend.worker_pid
    await backend.submit(hung)
    await backend.submit(waiting)
    events = await events_until_finished(backend, hung.job_id, waiting.job_id)

    assert of_job(events, hung.job_id) == [
        Started(hung.job_id),
        Failed(hung.job_id, Failure(FailureCode.WORKER_STALLED)),
    ]
    assert isinstance(of_job(events, waiting.job_id)[-1], Done)
    assert backend.worker_pid not in (None, hung_pid)


async def test_a_failed_restart_is_tried_again_until_a_worker_serves(
    touchy_backend: tuple[LocalWorkerBackend, Path],
) -> None:
    backend, block = touchy_backend
    block.touch()
    killed_pid = backend.worker_pid
    assert killed_pid is not None
    try:
        os.kill(killed_pid, signal.SIGKILL)
        await until(lambda: backend.unavailable is not None)
        meanwhile = make_spec()
        await backend.submit(meanwhile)
        failed = (await events_until_finished(backend, meanwhile.job_id))[-1]
        assert isinstance(failed, Failed) and failed.failure.code is FailureCode.WORKER_UNAVAILABLE
        assert str(failed.failure.details["error"]).startswith(f"OSError: loading is blocked while {block}")
    finally:
        block.unlink()
    await until(lambda: backend.unavailable is None)
    healthy = make_spec()
    await backend.submit(healthy)
    assert isinstance((await events_until_finished(backend, healthy.job_id))[-1], Done)
    assert backend.worker_pid not in (None, killed_pid)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(EVENT_TIMEOUT_SECONDS):
        while not condition():
            await asyncio.sleep(0.05)


async def test_workers_that_cannot_start_say_why_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A failure nobody foresaw may pass: start() tries again, and `unavailable` says why meanwhile. A foreseen one
    (missing weights, downloads off) says what to do, and start() raises it: trying again cannot help."""
    # An empty Hugging Face cache, downloads off: what a first start without a network meets.
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    speed = SpeedOptions(offload="none", vae_tiling=False, cache=FirstBlockCache(0.3))
    tiny_on_cpu = WorkerConfig((TINY,), str(tmp_path), device="cpu", speed=speed)
    # Side by side: each costs a process start.
    load_failed, died, not_cached = await asyncio.gather(
        *(
            passing_start_failure(dataclasses.replace(tiny_on_cpu, pipeline_loader=loader(name)))
            for name in ("load_nothing", "die_while_loading")
        ),
        start_failure(WorkerConfig((get_preset("wan-1.3b"),), str(tmp_path), device="cpu")),
    )
    assert load_failed == "OSError: no weights for tiny on this machine"
    assert died == "the render worker stopped while starting (exit code 3)"
    hub_cache = tmp_path / "hf" / "hub"
    assert not_cached == (
        f"Wan-AI/Wan2.1-T2V-1.3B-Diffusers is not in the Hugging Face cache ({hub_cache}) and "
        "HF_HUB_OFFLINE is set; unset it to download the weights, or copy them into the cache"
    )

    # The workers log to the bot's stderr, in their own format, a foreseen failure without a
    # traceback, and leave a core to the bot when they render on the CPU.
    log = capfd.readouterr().err
    assert f"render-worker ERROR model.worker.process: the render worker cannot start: {not_cached}" in log
    assert "WeightsUnavailableError" not in log
    assert f"loading preset tiny on cpu ({speed})" in log
    threads = max(1, len(os.sched_getaffinity(0)) - 1)
    assert f"render-worker INFO model.worker.runtime: rendering on the CPU with {threads} threads" in log


async def start_failure(config: WorkerConfig) -> str:
    """Why a start that cannot pass failed: start() raises it, and nothing is tried again."""
    backend = LocalWorkerBackend(config)
    try:
        with pytest.raises(WorkerStartError) as raised:
            await backend.start()
    finally:
        await backend.close()
    assert raised.value.permanent
    assert not backend.worker_alive
    return raised.value.reason


async def passing_start_failure(config: WorkerConfig) -> str:
    """Why a start that may pass failed: start() goes on (the next try is due), `unavailable` says why, and close()
    ends the start."""
    backend = LocalWorkerBackend(config, restart_delays=(EVENT_TIMEOUT_SECONDS,))
    starting = asyncio.create_task(backend.start())
    try:
        await until(lambda: backend.unavailable is not None)
        assert not starting.done()
        assert backend.unavailable is not None and backend.unavailable.code is FailureCode.WORKER_UNAVAILABLE
        reason = str(backend.unavailable.details["error"])
    finally:
        await backend.close()
    with pytest.raises(WorkerStartError, match="closed while its worker started"):
        await starting
    assert not backend.worker_alive
    return reason


async def test_a_first_start_that_may_pass_is_tried_again_and_close_ends_it_even_as_ready_comes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first load that fails for a passing reason does not stop the bot: another worker is started after the
    backoff (a retry that loads returns from start(), as a restart does). Its Ready arriving while close() stops it
    ends the start: no stall watch is left behind."""
    block, hold = tmp_path / "block-loading", tmp_path / "hold-loading"
    block.touch()
    monkeypatch.setattr(local_backend, "STOP_GRACE_SECONDS", EVENT_TIMEOUT_SECONDS)  # room to load before a kill
    config = WorkerConfig((TINY,), str(tmp_path), device="cpu", pipeline_loader=loader("load_slow_and_fragile"))
    backend = LocalWorkerBackend(config, restart_delays=(0.1,))
    # Inherited by every worker spawned meanwhile.
    with environment(BLOCK_LOAD_ENV, str(block)), environment(HOLD_LOAD_ENV, str(hold)):
        starting = asyncio.create_task(backend.start())
        await until(lambda: backend.unavailable is not None)
        assert backend.unavailable is not None
        assert str(backend.unavailable.details["error"]) == f"OSError: loading is blocked while {block} exists"
        hold.touch()  # the next worker waits in its load (it spends seconds importing first)
        block.unlink()
        await until(lambda: Path(f"{hold}.waiting").exists())  # tried again: another worker loads
        assert not starting.done()

        closing = asyncio.create_task(backend.close())
        await asyncio.sleep(0)  # close() has begun: it asked the worker to stop, and waits for it
        hold.unlink()  # the load ends, and Ready comes while close() waits
        with pytest.raises(WorkerStartError, match="closed while its worker started"):  # so no stall watch began
            await starting
        await closing
    assert not backend.worker_alive


@contextlib.contextmanager
def environment(name: str, value: str) -> Iterator[None]:
    """`name` set to `value` for the workers spawned meanwhile; then as it was (a module fixture may have set it)."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before


async def test_close_fails_outstanding_jobs_and_ends_the_stream(tmp_path: Path) -> None:
    config = WorkerConfig((TINY,), str(tmp_path), device="cpu", pipeline_loader=loader("load_slow_and_fragile"))
    backend = LocalWorkerBackend(config)
    try:
        await backend.start()
        spec = make_spec(steps=30)
        await backend.submit(spec)
    finally:
        await backend.close()
    async with asyncio.timeout(EVENT_TIMEOUT_SECONDS):
        events = [event async for event in backend.events()]
    assert events[-1] == Failed(spec.job_id, Failure(FailureCode.WORKER_SHUT_DOWN))
    assert not backend.worker_alive


async def test_a_model_that_does_not_fit_the_gpu_is_not_restarted_again_and_again(tmp_path: Path) -> None:
    """Loading tens of GB again would only run out of memory again: the backend gives up and says why."""
    no_room = tmp_path / "no-room"
    os.environ[NO_ROOM_ENV] = str(no_room)  # inherited by every worker spawned from now on
    config = WorkerConfig((TINY,), str(tmp_path), device="cpu", pipeline_loader=loader("load_slow_and_fragile"))
    backend = LocalWorkerBackend(config, restart_delays=(0.1,))
    try:
        await backend.start()
        no_room.touch()
        os.kill(backend.worker_pid or 0, signal.SIGKILL)
        await until(lambda: backend.unavailable is not None)
        given_up_on = backend.worker_pid
        no_room.unlink()
        await asyncio.sleep(1.0)  # ten restart delays
        assert backend.worker_pid == given_up_on and not backend.worker_alive
        assert backend.unavailable is not None
        assert str(backend.unavailable.details["error"]).startswith("the model does not fit in the GPU's memory")

        meanwhile = make_spec()
        await backend.submit(meanwhile)
        failed = (await events_until_finished(backend, meanwhile.job_id))[-1]
        assert isinstance(failed, Failed) and failed.failure.code is FailureCode.WORKER_UNAVAILABLE
    finally:
        await backend.close()
        del os.environ[NO_ROOM_ENV]


async def test_a_first_start_that_does_not_fit_the_gpu_says_so_and_is_permanent(tmp_path: Path) -> None:
    no_room = tmp_path / "no-room"
    no_room.touch()
    os.environ[NO_ROOM_ENV] = str(no_room)
    try:
        backend = LocalWorkerBackend(
            WorkerConfig((TINY,), str(tmp_path), device="cpu", pipeline_loader=loader("load_slow_and_fragile"))
        )
        with pytest.raises(WorkerStartError) as raised:
            await backend.start()
        await backend.close()
    finally:
        del os.environ[NO_ROOM_ENV]
    assert raised.value.permanent
    assert raised.value.reason == (
        "the model does not fit in the GPU's memory (OutOfMemoryError: CUDA out of memory. Tried to allocate "
        "28.58 GiB); set VIDEO_OFFLOAD=group or sequential, or serve a smaller preset"
    )
