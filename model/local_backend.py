"""The bot's side of the local render worker: a RenderBackend over one spawned process.

The bot's process never imports torch. The worker is spawned (a fork would inherit the bot's
threads and poison CUDA), talks through two multiprocessing queues, and is replaced when it dies:
the jobs it had started fail with the reason, and the jobs waiting behind them go to the fresh
worker. A worker that cannot start (the first start too) or restart is tried again with backoff, unless trying
cannot help (the model does not fit the GPU, a setting must change: LoadFailed.permanent); jobs submitted meanwhile
fail at once with the reason. So start() returns once a worker is ready, and raises only a permanent failure, or
when close() ends it. A started job that sends nothing for WorkerConfig.stall_timeout seconds has hung the worker:
it is killed, that job fails, and a new worker starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import queue
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.context import SpawnProcess
from typing import TYPE_CHECKING

from common.failures import Failure, FailureCode
from model.contract import Done, Failed, Preview, RenderEvent, RenderSpec, Started
from model.event_stream import EventStream
from model.worker.process import serve
from model.worker.protocol import Cancel, LoadFailed, Ready, Request, Shutdown, WorkerConfig, WorkerMessage

if TYPE_CHECKING:
    from multiprocessing.queues import Queue

__all__ = ["BackendFullError", "LocalWorkerBackend", "WorkerConfig", "WorkerStartError"]
"""WorkerConfig too: what the bot's composition root needs, from the one module it may import."""

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 5.0
"""How long a worker may take to finish its encodes and exit before it is killed."""
POLL_SECONDS = 0.2
"""How often the reader thread checks that the worker is alive while no message arrives."""
RESTART_DELAYS_SECONDS = (1.0, 5.0, 30.0, 60.0)
"""Waits before each new try at a worker that failed to start or restart; the last one repeats."""


class WorkerStartError(Exception):
    """The worker could not load its model, or died before it was ready; from start(), one that starting again
    cannot help (permanent), or a start that close() ended."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        """Starting again cannot help (the model does not fit the GPU, a setting must change): no new try."""


class BackendFullError(Exception):
    """submit() beyond capacity: the caller must wait for a Done or Failed first."""


@dataclass(eq=False)
class _Incarnation:
    """One worker process, and queues only it uses: a killed process can leave a lock held."""

    process: SpawnProcess
    requests: Queue[Request]
    events: Queue[WorkerMessage]
    ready: asyncio.Future[None]
    serving: bool = False
    stalled: frozenset[int] = frozenset()
    """Jobs the watchdog found hung; it killed this worker for them."""
    reader: threading.Thread = field(init=False)


class LocalWorkerBackend:
    """RenderBackend over one local worker process that keeps the model loaded."""

    def __init__(
        self,
        config: WorkerConfig,
        *,
        capacity: int = 2,
        restart_delays: Sequence[float] = RESTART_DELAYS_SECONDS,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        if not restart_delays or min(restart_delays) < 0:
            raise ValueError("restart_delays needs at least one delay, none negative")
        self.config = config
        self.capacity = capacity
        self.restart_delays = tuple(restart_delays)
        self.serves = frozenset(config.preset_ids)
        self.elastic = False
        self.renders_at_once = 1
        self._context = multiprocessing.get_context("spawn")
        self._events: asyncio.Queue[RenderEvent | None] = asyncio.Queue()
        self._held: set[int] = set()
        """Jobs submitted and not yet Done or Failed."""
        self._waiting: dict[int, RenderSpec] = {}
        """Held jobs the worker has not Started, in submission order: a new worker gets them."""
        self._last_heard: dict[int, float] = {}
        """Started jobs (held): when each last sent an event, by the loop's clock."""
        self._watchdog: asyncio.Task[None] | None = None
        self._worker: _Incarnation | None = None
        self._restarts: set[asyncio.Task[None]] = set()
        self._unavailable: Failure | None = None
        """Why no worker serves now (a restart failed; another try is due); jobs submitted
        meanwhile fail with it at once."""
        self._closing = False
        self._closed = asyncio.Event()

    @property
    def worker_pid(self) -> int | None:
        return self._worker.process.pid if self._worker else None

    @property
    def worker_alive(self) -> bool:
        return self._worker is not None and self._worker.process.is_alive()

    @property
    def unavailable(self) -> Failure | None:
        """Why submitted jobs fail at once (no worker could restart yet); None while one serves."""
        return self._unavailable

    async def start(self) -> None:
        """Spawn the worker and wait, without blocking the loop, until its model is loaded: a failure that may pass
        (see _until_ready) is tried again with backoff meanwhile, and `unavailable` says why. Raises WorkerStartError
        when starting again cannot help (permanent), or when close() ended the start."""
        if self._worker is not None:
            raise RuntimeError("the backend is already started")
        try:
            await self._until_ready(self._spawn(), starting=True)
        except WorkerStartError:
            self._worker = None
            raise
        self._watchdog = asyncio.create_task(self._watch_for_stalls())

    async def resume(self, specs: Sequence[RenderSpec]) -> frozenset[int]:
        """Nothing: the last bot process's worker died with it."""
        return frozenset()

    async def submit(self, spec: RenderSpec) -> None:
        if self._worker is None or self._closing:
            raise RuntimeError("submit() needs a started backend that is not closing")
        if spec.clip.preset_id not in self.serves:
            raise ValueError(f"this backend serves {sorted(self.serves)}, not {spec.clip.preset_id!r}")
        if spec.job_id in self._held:
            raise ValueError(f"job {spec.job_id} is already submitted")
        if len(self._held) >= self.capacity:
            raise BackendFullError(f"{len(self._held)} jobs outstanding; capacity is {self.capacity}")
        self._held.add(spec.job_id)
        if self._unavailable is not None:
            self._fail(spec.job_id, self._unavailable)
        else:
            self._waiting[spec.job_id] = spec
            self._worker.requests.put(spec)

    async def cancel(self, job_id: int) -> None:
        """Ask for a Failed(cancelled=True); a job that is already encoding still ends in Done."""
        if job_id in self._held and self._worker is not None:
            self._worker.requests.put(Cancel(job_id))

    def events(self) -> AsyncIterator[RenderEvent]:
        return EventStream(self._events)

    async def close(self) -> None:
        """Stop the worker (kill it after a grace period), fail what it held, end the events."""
        if self._closing:
            return
        self._closing = True
        self._closed.set()
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._worker is not None:
            await self._stop(self._worker)
        await asyncio.gather(*self._restarts)
        self._fail_all(Failure(FailureCode.WORKER_SHUT_DOWN))
        self._events.put_nowait(None)

    def _spawn_process(self) -> _Incarnation:
        requests: Queue[Request] = self._context.Queue()
        events: Queue[WorkerMessage] = self._context.Queue()
        process = self._context.Process(
            target=serve, args=(self.config, requests, events), name="render-worker", daemon=True
        )
        process.start()
        loop = asyncio.get_running_loop()
        worker = _Incarnation(process, requests, events, loop.create_future())
        # A daemon, so a bot exiting without close() is not held up (the worker is a daemon too).
        worker.reader = threading.Thread(
            target=self._read,
            args=(worker, loop),
            name=f"render-worker-{process.pid}-reader",
            daemon=True,
        )
        worker.reader.start()
        self._worker = worker
        log.info("started render worker pid %s for %s", process.pid, ", ".join(self.config.preset_ids))
        return worker

    def _read(self, worker: _Incarnation, loop: asyncio.AbstractEventLoop) -> None:
        """Reader thread: hand each message to the loop, then report the process's exit."""
        try:
            self._forward_messages(worker, loop)
        except Exception:
            # A worker we cannot hear is as good as dead: end it; its jobs fail and it is replaced.
            log.exception("lost contact with render worker pid %s; killing it", worker.process.pid)
            worker.process.kill()
            worker.process.join()
        loop.call_soon_threadsafe(self._on_exit, worker, worker.process.exitcode)

    def _forward_messages(self, worker: _Incarnation, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            # Checked before reading, so whatever the worker wrote before dying is still read.
            alive = worker.process.is_alive()
            try:
                message = worker.events.get(timeout=POLL_SECONDS) if alive else worker.events.get_nowait()
            except queue.Empty:
                if alive:
                    continue
                return
            loop.call_soon_threadsafe(self._on_message, worker, message)

    def _on_message(self, worker: _Incarnation, message: WorkerMessage) -> None:
        if isinstance(message, Ready):
            worker.serving = True
            worker.ready.set_result(None)
        elif isinstance(message, LoadFailed):
            worker.ready.set_exception(WorkerStartError(message.reason, permanent=message.permanent))
        elif message.job_id in self._held:
            if isinstance(message, Done | Failed):
                self._forget(message.job_id)
            elif not isinstance(message, Preview):  # the render's own steps say it lives, not its previews' thread
                if isinstance(message, Started):
                    self._waiting.pop(message.job_id, None)
                self._last_heard[message.job_id] = asyncio.get_running_loop().time()
            self._events.put_nowait(message)

    def _on_exit(self, worker: _Incarnation, exitcode: int | None) -> None:
        if not worker.ready.done():
            # Whoever awaits ready (start() or a restart) deals with it.
            worker.ready.set_exception(
                WorkerStartError(f"the render worker stopped while starting (exit code {exitcode})")
            )
            return
        if self._closing or not worker.serving or worker is not self._worker:
            return
        crashed = Failure(FailureCode.WORKER_CRASHED, {} if exitcode is None else {"exit_code": exitcode})
        log.error(
            "render worker pid %s stopped unexpectedly (exit code %s); restarting",
            worker.process.pid,
            exitcode,
        )
        # Only the jobs it had started are lost; those waiting behind them go to the new worker.
        for job_id in sorted(self._last_heard):
            self._fail(job_id, Failure(FailureCode.WORKER_STALLED) if job_id in worker.stalled else crashed)
        # Spawned right here, so no job submitted from now on goes to the dead worker's queue.
        restart = asyncio.create_task(self._restart(dead=worker, fresh=self._spawn()))
        self._restarts.add(restart)
        restart.add_done_callback(self._restarts.discard)

    async def _restart(self, *, dead: _Incarnation, fresh: _Incarnation) -> None:
        """Wait for fresh to be ready, trying again as _until_ready does; a restart that cannot help stops trying."""
        await self._reap(dead)
        with contextlib.suppress(WorkerStartError):  # said in the log; `unavailable` says it to submitted jobs
            await self._until_ready(fresh, starting=False)

    async def _until_ready(self, fresh: _Incarnation, *, starting: bool) -> None:
        """Wait for fresh to be ready; while it fails to start, fail what is held (`unavailable` says why) and try
        again after a backoff. Raises the WorkerStartError when trying cannot help (permanent), and one when close()
        stops the wait: a worker that got ready meanwhile is close()'s to stop, and nothing is started for it."""
        what = "start" if starting else "restart"
        for attempt in itertools.count():
            try:
                await fresh.ready
            except WorkerStartError as exc:
                await self._reap(fresh)
                if self._closing:
                    raise WorkerStartError("the backend was closed while its worker started") from exc
                self._unavailable = Failure(FailureCode.WORKER_UNAVAILABLE, {"error": exc.reason})
                self._fail_all(self._unavailable)
                if exc.permanent:
                    log.error("the render worker cannot %s, and will not be tried again: %s", what, exc.reason)
                    raise
                delay = self.restart_delays[min(attempt, len(self.restart_delays) - 1)]
                log.error("the render worker could not %s: %s; trying again in %g s", what, exc.reason, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), delay)
                if self._closed.is_set():  # close() ran during the wait
                    raise WorkerStartError("the backend was closed while its worker started") from exc
                fresh = self._spawn()
            else:
                if self._closing:  # Ready came while close() stops this worker: serve nothing, watch nothing
                    raise WorkerStartError("the backend was closed while its worker started")
                if self._unavailable is not None:
                    log.info("the render worker is ready after %d failed tries to %s it", attempt, what)
                self._unavailable = None
                return

    def _spawn(self) -> _Incarnation:
        worker = self._spawn_process()
        for spec in self._waiting.values():  # in submission order
            worker.requests.put(spec)
        return worker

    async def _watch_for_stalls(self) -> None:
        """Kill a worker whose started job has sent nothing for stall_timeout seconds: the exit
        fails that job and starts a new worker (see _on_exit)."""
        timeout = self.config.stall_timeout
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(1.0, timeout / 4))
            worker = self._worker
            if worker is None or worker.stalled or not worker.process.is_alive():
                continue
            now = loop.time()
            stalled = frozenset(job_id for job_id, heard in self._last_heard.items() if now - heard > timeout)
            if stalled:
                log.error(
                    "job %s sent nothing for %g s; killing render worker pid %s",
                    ", ".join(map(str, sorted(stalled))),
                    timeout,
                    worker.process.pid,
                )
                worker.stalled = stalled
                worker.process.kill()

    async def _stop(self, worker: _Incarnation) -> None:
        if worker.process.is_alive():
            worker.requests.put(Shutdown())
            await asyncio.to_thread(worker.process.join, STOP_GRACE_SECONDS)
        if worker.process.is_alive():
            log.warning(
                "render worker pid %s did not stop in %s s; killing it",
                worker.process.pid,
                STOP_GRACE_SECONDS,
            )
            worker.process.kill()
        await self._reap(worker)

    async def _reap(self, worker: _Incarnation) -> None:
        """Wait for an exiting worker process and its reader thread; free its queues."""
        await asyncio.to_thread(worker.process.join)
        await asyncio.to_thread(worker.reader.join)
        self._release_queues(worker)

    @staticmethod
    def _release_queues(worker: _Incarnation) -> None:
        # Nobody reads these any more: don't let their feeder threads hold up interpreter exit.
        worker.requests.cancel_join_thread()
        worker.requests.close()

    def _fail_all(self, failure: Failure) -> None:
        for job_id in sorted(self._held):
            self._fail(job_id, failure)

    def _fail(self, job_id: int, failure: Failure) -> None:
        self._forget(job_id)
        self._events.put_nowait(Failed(job_id, failure))

    def _forget(self, job_id: int) -> None:
        self._held.discard(job_id)
        self._waiting.pop(job_id, None)
        self._last_heard.pop(job_id, None)
