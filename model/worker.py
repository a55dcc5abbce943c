"""The render worker: the one process that holds the GPU.

It loads its model once and then renders job after job for as long as it lives:
- the main thread denoises, one job at a time, and never waits for anything else;
- a control thread reads requests (jobs, cancels, shutdown), so a cancel lands mid-render;
- an encoder thread turns finished frames into the MP4 and poster, so the next job's
  denoising starts while the previous clip is still being encoded.

The parent process imports this module for WorkerConfig and the message types and must stay
free of torch, so torch, diffusers and PyAV are imported inside the functions that run here.
"""

from __future__ import annotations

import importlib
import logging
import math
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from model.catalogue import (
    CatalogueSnapshot,
    PresetsFileError,
    from_snapshot,
    load_catalogue,
    snapshot,
)
from model.contract import (
    Credit,
    Done,
    Failed,
    Progress,
    RenderEvent,
    RenderResult,
    RenderSpec,
    Started,
)
from model.presets import Preset, get_preset
from model.speed import SpeedOptions

if TYPE_CHECKING:
    from multiprocessing.queues import Queue

    import numpy as np
    import numpy.typing as npt
    import torch
    from diffusers import DiffusionPipeline

    from model.encode import EncodedVideo
    from model.pipeline import DeviceSetting

logger = logging.getLogger(__name__)

CANCELLED_REASON = "cancelled"
PARENT_CHECK_SECONDS = 1.0
"""How often an idle worker checks that its parent is alive, so it never outlives the bot."""
MAX_REASON_CHARS = 200
WARM_UP_STEPS = 2
DEFAULT_STALL_TIMEOUT_SECONDS = 600.0
"""Generous: a real model's step takes seconds to a minute, its encode up to a few minutes."""

PipelineLoader = Callable[
    [Preset, "torch.device", "torch.dtype", SpeedOptions], "DiffusionPipeline"
]


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    preset_ids: tuple[str, ...]
    media_dir: str
    """Where <job_id>.mp4 and <job_id>.jpg are written."""
    device: DeviceSetting = "auto"
    """See model.pipeline.pick_device."""
    presets_file: str | None = None
    """The operator's presets file (model.catalogue), read once, here in the parent: the worker
    gets `catalogue`, so a file edited later cannot make a restarted worker disagree with the
    bot, or fail to start."""
    presets: InitVar[Mapping[str, Preset] | None] = None
    """The catalogue the parent already loaded from presets_file (the bot's settings did): then
    the file is not read a second time."""
    speed: SpeedOptions = SpeedOptions()
    log_level: str = "INFO"
    pipeline_loader: str = "model.pipeline:load_pipeline"
    """'module:function' with load_pipeline's signature; an import path so it crosses a spawn."""
    stall_timeout: float = DEFAULT_STALL_TIMEOUT_SECONDS
    """A started job that sends no Progress, Done or Failed for this long has hung the worker:
    the backend kills it, fails the job and starts a new one."""
    catalogue: CatalogueSnapshot = field(init=False, default=())
    """The presets this config was made with (built-ins plus presets_file), as plain data."""

    def __post_init__(self, presets: Mapping[str, Preset] | None) -> None:
        if not self.preset_ids:
            raise ValueError("a worker must serve at least one preset")
        if not (self.stall_timeout > 0 and math.isfinite(self.stall_timeout)):
            raise ValueError(f"stall_timeout must be a positive number, not {self.stall_timeout}")
        catalogue = presets if presets is not None else load_catalogue(self.presets_file)
        for preset_id in self.preset_ids:
            get_preset(preset_id, catalogue)  # unknown ids fail here, in the parent
        object.__setattr__(self, "catalogue", snapshot(catalogue))
        if ":" not in self.pipeline_loader:
            raise ValueError(
                f"pipeline_loader must look like 'module:function', not {self.pipeline_loader!r}"
            )


# Parent -> worker


@dataclass(frozen=True, slots=True)
class Cancel:
    job_id: int


@dataclass(frozen=True, slots=True)
class Shutdown:
    pass


Request = RenderSpec | Cancel | Shutdown


# Worker -> parent, besides the RenderEvents


@dataclass(frozen=True, slots=True)
class Ready:
    """The model is loaded and warm."""


@dataclass(frozen=True, slots=True)
class LoadFailed:
    reason: str


WorkerMessage = Ready | LoadFailed | RenderEvent


def serve(config: WorkerConfig, requests: Queue[Request], events: Queue[WorkerMessage]) -> None:
    """Process entry point: load, warm up, report Ready (or LoadFailed and exit 1), then serve."""
    _configure_logging(config.log_level)
    _use_thread_lock_for_tqdm()
    media_dir = Path(config.media_dir)
    try:
        media_dir.mkdir(parents=True, exist_ok=True)  # before a download that may take minutes
        served = _load_and_warm_up(config)
    except Exception as exc:
        events.put(LoadFailed(_start_failure(exc)))
        sys.exit(1)
    events.put(Ready())
    logger.info("ready to render %s", ", ".join(served))
    _Worker(served, media_dir, events.put).run(requests)


def _configure_logging(level: str) -> None:
    """The worker shares the bot's stderr, so its lines land in the bot's log. The libraries'
    own handlers go, so their warnings come through this format and level too."""
    import diffusers.utils.logging
    import transformers.utils.logging

    logging.basicConfig(
        level=level, format="%(asctime)s render-worker %(levelname)s %(name)s: %(message)s"
    )
    for library in (diffusers.utils.logging, transformers.utils.logging):
        library.disable_default_handler()
        library.enable_propagation()
    logging.getLogger("huggingface_hub").handlers.clear()


def _start_failure(exc: Exception) -> str:
    """Log why the worker cannot start and return the reason for the bot: the whole message
    for the failures we foresee (they say what to do), else one line and a logged traceback."""
    from model.pipeline import DeviceError, WeightsUnavailableError

    if isinstance(exc, DeviceError | WeightsUnavailableError | PresetsFileError):
        logger.error("the render worker cannot start: %s", exc)
        return str(exc)
    logger.exception("the render worker could not start")
    return short_reason(exc)


def _use_thread_lock_for_tqdm() -> None:
    """diffusers builds (disabled) tqdm bars; tqdm's default lock is a multiprocessing semaphore,
    which a killed worker leaks and the resource tracker then warns about. Threads suffice here."""
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())


def short_reason(exc: BaseException) -> str:
    """One human line for a failure: never a traceback (that goes to the log)."""
    lines = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return detail if len(detail) <= MAX_REASON_CHARS else detail[: MAX_REASON_CHARS - 1] + "…"


def credit_metadata(spec: RenderSpec) -> dict[str, str]:
    """The MP4 tags that keep the credit with the file wherever it travels."""
    credit = spec.credit
    description = (
        f"AI-generated video. Prompted by {credit.requester_name} (id {credit.requester_id}). "
        f"Model: {credit.model_id}; preset: {credit.preset_id}; licence: {credit.licence}; "
        f"seed: {credit.seed}; job: {credit.job_id}."
    )
    return {
        "title": spec.prompt,
        "artist": credit.requester_name,
        "comment": description,
        "description": description,
    }


def encode_clip(frames: npt.NDArray[np.floating], spec: RenderSpec, path: Path) -> EncodedVideo:
    """The clip as an MP4 at path within spec.max_bytes, carrying its credit."""
    from model.encode import encode_mp4

    return encode_mp4(
        frames, fps=spec.fps, path=path, max_bytes=spec.max_bytes, metadata=credit_metadata(spec)
    )


@dataclass(frozen=True, slots=True)
class _Served:
    preset: Preset
    pipe: DiffusionPipeline


def _load_and_warm_up(config: WorkerConfig) -> dict[str, _Served]:
    import torch

    from model.pipeline import pick_device_for, pick_dtype, render

    load = _import_loader(config.pipeline_loader)
    catalogue = from_snapshot(config.catalogue)
    served: dict[str, _Served] = {}
    for preset_id in config.preset_ids:
        preset = get_preset(preset_id, catalogue)
        device = pick_device_for(preset, config.device)
        if device.type == "cpu":
            torch.set_num_threads(threads_for_cpu_rendering())
            logger.info("rendering on the CPU with %d threads", torch.get_num_threads())
        logger.info("loading preset %s on %s (%s)", preset.id, device, config.speed)
        pipe = load(preset, device, pick_dtype(device), config.speed)
        # A two-step render of the preset's default clip (the shape most jobs have), so the
        # first member's job does not pay for lazy CUDA/kernel setup, nor, with VIDEO_COMPILE,
        # for compiling: compiled blocks are specialised to the shapes they first see.
        started = time.monotonic()
        render(
            pipe, preset, _warm_up_spec(preset), on_step=lambda *_: None, should_stop=lambda: False
        )
        logger.info("warmed up %s in %.1f s", preset.id, time.monotonic() - started)
        served[preset.id] = _Served(preset, pipe)
    return served


def threads_for_cpu_rendering() -> int:
    """Every core this process may use but one.

    A CPU render takes every thread torch is given, and the bot's event loop must still answer
    Discord within 3 seconds meanwhile: on a small machine one core stays free for it.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - 1)


def _import_loader(path: str) -> PipelineLoader:
    module_name, _, function_name = path.partition(":")
    loader: PipelineLoader = getattr(importlib.import_module(module_name), function_name)
    return loader


def _warm_up_spec(preset: Preset) -> RenderSpec:
    width, height = preset.default_size
    credit = Credit("warm-up", 0, preset.id, preset.repo, preset.licence, seed=0, job_id=0)
    return RenderSpec(
        job_id=0,
        preset_id=preset.id,
        prompt="warm-up",
        negative_prompt="",
        seed=0,
        frames=preset.default_frames,
        width=width,
        height=height,
        fps=preset.fps,
        steps=min(WARM_UP_STEPS, preset.default_steps),
        guidance=preset.guidance,
        max_bytes=0,  # never encoded
        credit=credit,
    )


class _JobQueue:
    """Jobs waiting for the GPU and the one on it; shared by the control and render threads."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waiting: deque[RenderSpec] = deque()
        self._current: int | None = None
        self._stop_current = False
        self._closed = False

    @property
    def closed(self) -> bool:
        with self._changed:
            return self._closed

    def add(self, spec: RenderSpec) -> None:
        with self._changed:
            self._waiting.append(spec)
            self._changed.notify()

    def next(self) -> RenderSpec | None:
        """Block until a job is waiting and make it current; None once closed."""
        with self._changed:
            self._current = None
            self._changed.wait_for(lambda: self._waiting or self._closed)
            if self._closed:
                return None
            spec = self._waiting.popleft()
            self._current, self._stop_current = spec.job_id, False
            return spec

    def cancel(self, job_id: int) -> bool:
        """True if the job was waiting and is now gone; a current job is asked to stop instead."""
        with self._changed:
            if job_id == self._current:
                self._stop_current = True
                return False
            for spec in self._waiting:
                if spec.job_id == job_id:
                    self._waiting.remove(spec)
                    return True
            return False

    def should_stop(self) -> bool:
        with self._changed:
            return self._stop_current or self._closed

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()


@dataclass(frozen=True, slots=True)
class _Rendered:
    spec: RenderSpec
    frames: npt.NDArray[np.floating]
    render_seconds: float


class _Encoder:
    """Encodes finished renders on its own thread, in order."""

    def __init__(self, media_dir: Path, emit: Callable[[WorkerMessage], None]) -> None:
        self._media_dir = media_dir
        self._emit = emit
        self._inbox: queue.Queue[_Rendered | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="render-worker-encoder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, rendered: _Rendered) -> None:
        self._inbox.put(rendered)

    def finish(self) -> None:
        """Encode what is queued, then stop."""
        self._inbox.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (rendered := self._inbox.get()) is not None:
            self._emit(self._encode(rendered))

    def _encode(self, rendered: _Rendered) -> Done | Failed:
        from model.encode import EncodeError, write_poster

        spec = rendered.spec
        started = time.monotonic()
        try:
            video = encode_clip(rendered.frames, spec, self._media_dir / f"{spec.job_id}.mp4")
            poster = write_poster(rendered.frames, self._media_dir / f"{spec.job_id}.jpg")
        except EncodeError as exc:
            return Failed(spec.job_id, f"could not encode the video: {exc}")
        except Exception as exc:
            logger.exception("encoding job %s failed", spec.job_id)
            return Failed(spec.job_id, f"could not encode the video ({short_reason(exc)})")
        result = RenderResult(
            video_path=str(video.path),
            poster_path=str(poster),
            video_bytes=video.bytes,
            width=video.width,
            height=video.height,
            frames=video.frames,
            fps=video.fps,
            render_seconds=rendered.render_seconds,
            encode_seconds=time.monotonic() - started,
        )
        return Done(spec.job_id, result)


class _Worker:
    def __init__(
        self,
        served: Mapping[str, _Served],
        media_dir: Path,
        emit: Callable[[WorkerMessage], None],
    ) -> None:
        self._served = served
        self._emit = emit
        self._jobs = _JobQueue()
        self._encoder = _Encoder(media_dir, emit)

    def run(self, requests: Queue[Request]) -> None:
        """Render until a Shutdown request (or the parent's death), then finish the encodes."""
        control = threading.Thread(
            target=self._follow_requests,
            args=(requests,),
            name="render-worker-control",
            daemon=True,
        )
        control.start()
        self._encoder.start()
        while (spec := self._jobs.next()) is not None:
            self._render(spec)
        self._encoder.finish()
        logger.info("shut down")

    def _follow_requests(self, requests: Queue[Request]) -> None:
        for request in _requests_while_parent_lives(requests):
            if isinstance(request, Shutdown):
                break
            if isinstance(request, Cancel):
                if self._jobs.cancel(request.job_id):
                    self._emit(Failed(request.job_id, CANCELLED_REASON, cancelled=True))
            else:
                self._jobs.add(request)
        self._jobs.close()

    def _render(self, spec: RenderSpec) -> None:
        import torch

        from model.pipeline import RenderInterrupted, execution_device, render

        served = self._served.get(spec.preset_id)
        if served is None:
            self._emit(Failed(spec.job_id, f"this worker does not serve preset {spec.preset_id!r}"))
            return
        self._emit(Started(spec.job_id))
        started = time.monotonic()
        try:
            frames = render(
                served.pipe,
                served.preset,
                spec,
                on_step=lambda step, total, elapsed: self._emit(
                    Progress(spec.job_id, step, total, elapsed)
                ),
                should_stop=self._jobs.should_stop,
            )
        except RenderInterrupted:
            if not self._jobs.closed:  # at shutdown the parent reports every unfinished job
                self._emit(Failed(spec.job_id, CANCELLED_REASON, cancelled=True))
            return
        except torch.OutOfMemoryError:
            logger.exception("job %s ran out of GPU memory", spec.job_id)
            failure = Failed(
                spec.job_id,
                "the GPU ran out of memory; try fewer frames, a smaller size or a lighter preset",
            )
        except Exception as exc:
            logger.exception("job %s failed", spec.job_id)
            failure = Failed(spec.job_id, f"the render failed ({short_reason(exc)})")
        else:
            self._encoder.put(_Rendered(spec, frames, time.monotonic() - started))
            return
        # Only now, outside the except block: its traceback pinned the failed render's tensors.
        if execution_device(served.pipe).type == "cuda":
            torch.cuda.empty_cache()
        self._emit(failure)


def _requests_while_parent_lives(requests: Queue[Request]) -> Iterator[Request]:
    parent = multiprocessing.parent_process()
    while True:
        try:
            yield requests.get(timeout=PARENT_CHECK_SECONDS)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                logger.warning("the parent process is gone; shutting down")
                return
