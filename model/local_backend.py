"""The bot's side of the local render worker: a RenderBackend over one spawned process.

The bot's process never imports torch. The worker is spawned (a fork would inherit the bot's
threads and poison CUDA), talks through two multiprocessing queues, and is replaced when it dies:
its jobs fail with the reason and the next job runs on a fresh worker.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import queue
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from multiprocessing.context import SpawnProcess
from typing import TYPE_CHECKING

from model.contract import Done, Failed, RenderEvent, RenderSpec
from model.worker import (
    Cancel,
    LoadFailed,
    Ready,
    Request,
    Shutdown,
    WorkerConfig,
    WorkerMessage,
    serve,
)

if TYPE_CHECKING:
    from multiprocessing.queues import Queue

__all__ = ["BackendFullError", "LocalWorkerBackend", "WorkerConfig", "WorkerStartError"]
"""WorkerConfig too: what the bot's composition root needs, from the one module it may import."""

logger = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 5.0
"""How long a worker may take to finish its encodes and exit before it is killed."""
POLL_SECONDS = 0.2
"""How often the reader thread checks that the worker is alive while no message arrives."""
SHUT_DOWN_REASON = "the render worker was shut down"


class WorkerStartError(Exception):
    """The worker could not load its model, or died before it was ready."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
    reader: threading.Thread = field(init=False)


class _EventStream:
    """Async iterator over the backend's events; ends after close()."""

    def __init__(self, events: asyncio.Queue[RenderEvent | None]) -> None:
        self._events = events

    def __aiter__(self) -> _EventStream:
        return self

    async def __anext__(self) -> RenderEvent:
        event = await self._events.get()
        if event is None:
            self._events.put_nowait(None)  # so every other stream ends too
            raise StopAsyncIteration
        return event


class LocalWorkerBackend:
    """RenderBackend over one local worker process that keeps the model loaded."""

    def __init__(self, config: WorkerConfig, *, capacity: int = 2) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.config = config
        self.capacity = capacity
        self.serves = frozenset(config.preset_ids)
        self._context = multiprocessing.get_context("spawn")
        self._events: asyncio.Queue[RenderEvent | None] = asyncio.Queue()
        self._held: set[int] = set()
        """Jobs submitted and not yet Done or Failed."""
        self._worker: _Incarnation | None = None
        self._restarts: set[asyncio.Task[None]] = set()
        self._unavailable: str | None = None
        """Why no worker serves any more (a restart failed); later jobs fail with it at once."""
        self._closing = False

    @property
    def worker_pid(self) -> int | None:
        return self._worker.process.pid if self._worker else None

    @property
    def worker_alive(self) -> bool:
        return self._worker is not None and self._worker.process.is_alive()

    async def start(self) -> None:
        """Spawn the worker and wait, without blocking the loop, until its model is loaded."""
        if self._worker is not None:
            raise RuntimeError("the backend is already started")
        worker = self._spawn()
        try:
            await worker.ready
        except WorkerStartError:
            await self._reap(worker)
            self._worker = None
            raise

    async def submit(self, spec: RenderSpec) -> None:
        if self._worker is None or self._closing:
            raise RuntimeError("submit() needs a started backend that is not closing")
        if spec.preset_id not in self.serves:
            raise ValueError(f"this backend serves {sorted(self.serves)}, not {spec.preset_id!r}")
        if spec.job_id in self._held:
            raise ValueError(f"job {spec.job_id} is already submitted")
        if len(self._held) >= self.capacity:
            raise BackendFullError(
                f"{len(self._held)} jobs outstanding; capacity is {self.capacity}"
            )
        self._held.add(spec.job_id)
        if self._unavailable is not None:
            self._fail(spec.job_id, self._unavailable)
        else:
            self._worker.requests.put(spec)

    async def cancel(self, job_id: int) -> None:
        """Ask for a Failed(cancelled=True); a job that is already encoding still ends in Done."""
        if job_id in self._held and self._worker is not None:
            self._worker.requests.put(Cancel(job_id))

    def events(self) -> AsyncIterator[RenderEvent]:
        return _EventStream(self._events)

    async def close(self) -> None:
        """Stop the worker (kill it after a grace period), fail what it held, end the events."""
        if self._closing:
            return
        self._closing = True
        if self._worker is not None:
            await self._stop(self._worker)
        await asyncio.gather(*self._restarts)
        self._fail_all(SHUT_DOWN_REASON)
        self._events.put_nowait(None)

    def _spawn(self) -> _Incarnation:
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
        logger.info(
            "started render worker pid %s for %s", process.pid, ", ".join(self.config.preset_ids)
        )
        return worker

    def _read(self, worker: _Incarnation, loop: asyncio.AbstractEventLoop) -> None:
        """Reader thread: hand each message to the loop, then report the process's exit."""
        try:
            self._forward_messages(worker, loop)
        except Exception:
            # A worker we cannot hear is as good as dead: end it; its jobs fail and it is replaced.
            logger.exception(
                "lost contact with render worker pid %s; killing it", worker.process.pid
            )
            worker.process.kill()
            worker.process.join()
        loop.call_soon_threadsafe(self._on_exit, worker, worker.process.exitcode)

    def _forward_messages(self, worker: _Incarnation, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            # Checked before reading, so whatever the worker wrote before dying is still read.
            alive = worker.process.is_alive()
            try:
                message = (
                    worker.events.get(timeout=POLL_SECONDS) if alive else worker.events.get_nowait()
                )
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
            worker.ready.set_exception(WorkerStartError(message.reason))
        elif message.job_id in self._held:
            if isinstance(message, Done | Failed):
                self._held.discard(message.job_id)
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
        logger.error(
            "render worker pid %s stopped unexpectedly (exit code %s); restarting",
            worker.process.pid,
            exitcode,
        )
        self._fail_all(f"the render worker stopped unexpectedly (exit code {exitcode})")
        # Spawned right here, so no job submitted from now on goes to the dead worker's queue.
        restart = asyncio.create_task(self._finish_restart(dead=worker, fresh=self._spawn()))
        self._restarts.add(restart)
        restart.add_done_callback(self._restarts.discard)

    async def _finish_restart(self, *, dead: _Incarnation, fresh: _Incarnation) -> None:
        await self._reap(dead)
        try:
            await fresh.ready
        except WorkerStartError as exc:
            await self._reap(fresh)
            if not self._closing:
                self._unavailable = f"the render worker could not restart: {exc.reason}"
                logger.error(self._unavailable)
                self._fail_all(self._unavailable)

    async def _stop(self, worker: _Incarnation) -> None:
        if worker.process.is_alive():
            worker.requests.put(Shutdown())
            await asyncio.to_thread(worker.process.join, STOP_GRACE_SECONDS)
        if worker.process.is_alive():
            logger.warning(
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

    def _fail_all(self, reason: str) -> None:
        for job_id in sorted(self._held):
            self._fail(job_id, reason)

    def _fail(self, job_id: int, reason: str) -> None:
        self._held.discard(job_id)
        self._events.put_nowait(Failed(job_id, reason))
