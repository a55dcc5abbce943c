"""The local render worker process: the one process that holds the GPU.

It loads its runtime once and then renders job after job for as long as it lives, swapping the one loaded
pipeline when a job is for another of its presets (the runtime does, and its Started says how long it took):
- the main thread loads and denoises, one job at a time, and never waits for anything else (a render's live
  previews are made into JPEGs on a thread of the runtime's, model.preview);
- a control thread reads requests (jobs, cancels, shutdown), so a cancel lands mid-render;
- an encoder thread turns finished frames into the MP4 and poster, so the next job's
  denoising starts while the previous clip is still being encoded.

The parent imports this module for `serve` and must stay free of torch: torch, diffusers and PyAV
are imported by the runtime inside the functions that run here.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from common.failures import Failure, FailureCode
from model.catalogue import PresetsFileError
from model.contract import Failed, Progress, RenderSpec
from model.worker.protocol import Cancel, LoadFailed, Ready, Request, Shutdown, WorkerConfig, WorkerMessage
from model.worker.runtime import Rendered, RenderRuntime, short_reason

if TYPE_CHECKING:
    from multiprocessing.queues import Queue

log = logging.getLogger(__name__)

PARENT_CHECK_SECONDS = 1.0
"""How often an idle worker checks that its parent is alive, so it never outlives the bot."""
EXIT_AFTER_GPU_ERROR = 4
"""The exit status of a worker that stopped because the GPU's state can no longer be trusted."""


def serve(config: WorkerConfig, requests: Queue[Request], events: Queue[WorkerMessage]) -> None:
    """Process entry point: check every preset, load and warm up the default, report Ready (or LoadFailed and
    exit 1), then serve.

    After a GPU error (not an out-of-memory) the CUDA context is poisoned: the worker exits with
    EXIT_AFTER_GPU_ERROR, so the backend starts a fresh one instead of failing every later job.
    """
    _configure_logging(config.log_level)
    _use_thread_lock_for_tqdm()
    try:
        runtime = RenderRuntime.load(
            config.presets,
            data_dir=Path(config.data_dir),
            device=config.device,
            speed=config.speed,
            loader=config.pipeline_loader,
        )
    except Exception as exc:
        events.put(start_failure(exc))
        sys.exit(1)
    events.put(Ready())
    log.info("ready to render %s (%s loaded)", ", ".join(runtime.preset_ids), runtime.loaded_preset_id)
    if not _Worker(runtime, events.put).run(requests):
        log.error("exiting after a GPU error, so that a fresh worker takes over")
        sys.exit(EXIT_AFTER_GPU_ERROR)


def start_failure(exc: Exception) -> LoadFailed:
    """Log why the worker cannot start and say so to the bot: the whole message for the failures we foresee
    (they say what to do), else one line and a logged traceback. The foreseen ones are permanent: starting again
    with the same settings fails the same way (a model that does not fit the GPU would load tens of GB to do so),
    so the backend stops trying and the bot says why. Any other may pass (a download cut short): tried again."""
    import torch

    from model.pipeline import DeviceError, PresetLoadError, WeightsUnavailableError

    if isinstance(exc, torch.OutOfMemoryError):
        reason = (
            f"the model does not fit in the GPU's memory ({short_reason(exc)}); set VIDEO_OFFLOAD=group or "
            "sequential, or serve a smaller preset"
        )
        log.error("the render worker cannot start: %s", reason)
        return LoadFailed(reason, permanent=True)
    if isinstance(exc, DeviceError | WeightsUnavailableError | PresetLoadError | PresetsFileError):
        log.error("the render worker cannot start: %s", exc)
        return LoadFailed(str(exc), permanent=True)
    log.error("the render worker could not start", exc_info=exc)
    return LoadFailed(short_reason(exc))


def _configure_logging(level: str) -> None:
    """The worker shares the bot's stderr, so its lines land in the bot's log. The libraries'
    own handlers go, so their warnings come through this format and level too."""
    import diffusers.utils.logging
    import transformers.utils.logging

    logging.basicConfig(level=level, format="%(asctime)s render-worker %(levelname)s %(name)s: %(message)s")
    for library in (diffusers.utils.logging, transformers.utils.logging):
        library.disable_default_handler()
        library.enable_propagation()
    logging.getLogger("huggingface_hub").handlers.clear()


def _use_thread_lock_for_tqdm() -> None:
    """diffusers builds (disabled) tqdm bars; tqdm's default lock is a multiprocessing semaphore,
    which a killed worker leaks and the resource tracker then warns about. Threads suffice here."""
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())


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


class _Encoder:
    """Encodes finished renders on its own thread, in order."""

    def __init__(self, runtime: RenderRuntime, emit: Callable[[WorkerMessage], None]) -> None:
        self._runtime = runtime
        self._emit = emit
        self._inbox: queue.Queue[Rendered | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="render-worker-encoder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, rendered: Rendered) -> None:
        self._inbox.put(rendered)

    def finish(self) -> None:
        """Encode what is queued, then stop."""
        self._inbox.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (rendered := self._inbox.get()) is not None:
            self._emit(self._runtime.encode(rendered))


class _Worker:
    def __init__(self, runtime: RenderRuntime, emit: Callable[[WorkerMessage], None]) -> None:
        self._runtime = runtime
        self._emit = emit
        self._jobs = _JobQueue()
        self._encoder = _Encoder(runtime, emit)
        self._gpu_failed = False

    def run(self, requests: Queue[Request]) -> bool:
        """Render until a Shutdown request (or the parent's death), then finish the encodes.

        False when it stopped early because of a GPU error: jobs still waiting here go to the next worker.
        """
        control = threading.Thread(
            target=self._follow_requests, args=(requests,), name="render-worker-control", daemon=True
        )
        control.start()
        self._encoder.start()
        while (spec := self._jobs.next()) is not None:
            self._render(spec)
        self._encoder.finish()
        log.info("shut down")
        return not self._gpu_failed

    def _follow_requests(self, requests: Queue[Request]) -> None:
        for request in _requests_while_parent_lives(requests):
            if isinstance(request, Shutdown):
                break
            if isinstance(request, Cancel):
                if self._jobs.cancel(request.job_id):
                    self._emit(Failed(request.job_id, Failure(FailureCode.CANCELLED)))
            else:
                self._jobs.add(request)
        self._jobs.close()

    def _render(self, spec: RenderSpec) -> None:
        outcome = self._runtime.render(
            spec,
            on_started=self._emit,
            on_step=lambda step, total, elapsed: self._emit(Progress(spec.job_id, step, total, elapsed)),
            should_stop=self._jobs.should_stop,
            on_preview=self._emit,
        )
        if isinstance(outcome, Rendered):
            self._encoder.put(outcome)
            return
        if not (outcome.failure.cancelled and self._jobs.closed):  # at shutdown the parent reports the rest
            self._emit(outcome)
        if outcome.failure.code is FailureCode.GPU_ERROR:
            self._gpu_failed = True
            self._jobs.close()


def _requests_while_parent_lives(requests: Queue[Request]) -> Iterator[Request]:
    parent = multiprocessing.parent_process()
    while True:
        try:
            yield requests.get(timeout=PARENT_CHECK_SECONDS)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                log.warning("the parent process is gone; shutting down")
                return
