"""A GPU worker for the distributed mode: `python -m model worker`, one process per GPU, on any machine.

It loads its RenderRuntime once, then takes jobs from arq one at a time. While it lives it announces itself in
Redis (the queue it takes jobs from, its presets, the jobs it renders) under a key that expires unless renewed:
a worker that dies stops renewing it, and the bot gives its job to another worker. Every render reports
Started, Progress, now and then a Preview, and Done or Failed on the events stream; a finished clip's MP4 and
poster go to Redis for the bot to take (workers share no disk with it). Retrying a job is the bot's decision alone:
arq's own retry of a job whose worker died is refused, and the bot hands the job over again under a new attempt.

SIGTERM or SIGINT stops taking jobs and exits after the current one; a second one exits at once (the bot
then retries the job elsewhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from arq.connections import ArqRedis
from arq.worker import Worker, func
from redis.exceptions import RedisError

from common.failures import Failure, FailureCode
from model.contract import Done, Failed, Preview, Progress, RenderEvent, RenderSpec, Started, manifest_key
from model.distributed.connection import RETRY_DELAYS_SECONDS, STORAGE_ERRORS, connect
from model.distributed.wire import (
    EVENTS_KEPT,
    EVENTS_STREAM,
    RENDER_FUNCTION,
    WorkerInfo,
    dumps,
    event_to_data,
    loads,
    media_key,
    queue_name,
    spec_from_data,
    worker_key,
)
from model.worker.runtime import Rendered, RenderRuntime, short_reason

log = logging.getLogger(__name__)

JOB_TIMEOUT_SECONDS = 6 * 3600
"""arq's limit on one job: far beyond any render, since a worker that dies is noticed by its announcement."""
RESULT_KEPT_SECONDS = 24 * 3600
"""How long arq keeps a job's outcome, for a bot that restarts while its job finishes."""
MEDIA_KEPT_SECONDS = 24 * 3600
"""How long a finished clip waits in Redis for the bot to take it."""
POLL_SECONDS = 0.05
"""How often an idle worker looks for a job: Redis answers this in well under a millisecond."""
STOPPED_JOB_GRACE_SECONDS = 30.0
"""How long a job cut short by a second stop signal may take to report itself before the worker exits anyway."""
EXIT_AFTER_GPU_ERROR = 4
"""As the local worker: the GPU's state cannot be trusted after a GPU error, so a fresh process takes over."""


class WorkerHost:
    """One loaded runtime serving arq jobs, one at a time, and telling Redis about it."""

    def __init__(
        self,
        runtime: RenderRuntime,
        redis: ArqRedis,
        *,
        worker_id: str,
        data_dir: Path,
        announce_seconds: float,
    ) -> None:
        self.runtime = runtime
        self.redis = redis
        self.worker_id = worker_id
        self.presets = frozenset(runtime.preset_ids)
        self.queue = queue_name(self.presets)
        self.data_dir = data_dir
        self.announce_seconds = announce_seconds
        self.gpu_failed = asyncio.Event()
        """Set for good after a GPU error: no job more starts here, and the process exits after this one."""
        self.stopping_now = False
        """Set by a second stop signal: the render cut short is the worker's doing, not the member's."""
        self._rendering: set[str] = set()
        self._announce_failed = False

    @property
    def info(self) -> WorkerInfo:
        return WorkerInfo(self.worker_id, self.queue, self.presets, frozenset(self._rendering))

    async def announce(self) -> None:
        """Say that this worker lives, for three announcement periods."""
        ttl_ms = max(1, round(3 * self.announce_seconds * 1000))
        await self.redis.set(worker_key(self.worker_id), dumps(self.info.to_data()), px=ttl_ms)

    async def announce_forever(self) -> None:
        while True:
            try:
                await self.announce()
            except STORAGE_ERRORS as error:
                if not self._announce_failed:
                    log.warning("cannot announce this worker to Redis (%s); trying on", error)
                self._announce_failed = True
            else:
                if self._announce_failed:
                    log.info("announcing this worker to Redis again")
                self._announce_failed = False
            await asyncio.sleep(self.announce_seconds)

    async def withdraw(self) -> None:
        with contextlib.suppress(*STORAGE_ERRORS):
            await self.redis.delete(worker_key(self.worker_id))

    async def render(self, ctx: dict[str, Any], spec_data: Any) -> dict[str, Any]:
        """The arq job: render, encode, hand the files over, report. Returns the final event's data, and never
        raises: arq could only store an exception as an unreadable result."""
        arq_id: str = ctx["job_id"]
        try:
            spec = spec_from_data(spec_data)
        except (ValueError, KeyError, TypeError) as error:
            log.error("refusing a malformed job %s (%s)", arq_id, error)
            return {"malformed": str(error)[:200]}
        if ctx["job_try"] > 1 or self.gpu_failed.is_set():
            # arq retries a job whose worker died once its lease runs out (the bot has retried it itself by then);
            # after a GPU error this process takes nothing more. Either way the bot hands the job over again.
            log.info("not running job %s: the bot hands it to another worker", spec.job_id)
            return event_to_data(Failed(spec.job_id, Failure(FailureCode.WORKER_CRASHED)))
        self._rendering.add(arq_id)
        try:
            outcome = await self._run(arq_id, spec)
        finally:
            self._rendering.discard(arq_id)
            with contextlib.suppress(*STORAGE_ERRORS):
                await self.announce()
        return event_to_data(outcome)

    async def _run(self, arq_id: str, spec: RenderSpec) -> Done | Failed:
        try:
            with contextlib.suppress(*STORAGE_ERRORS):
                await self.announce()
            outcome = await self._render_and_encode(arq_id, spec)
            if isinstance(outcome, Done):
                await self._hand_over(arq_id, spec, outcome)
                log.info("rendered job %s in %.1f s", spec.job_id, outcome.result.render_seconds)
        except Exception as error:  # Redis gone for longer than the hand-over's tries, a full disk, a bug
            log.exception("job %s failed in this worker", spec.job_id)
            outcome = Failed(spec.job_id, Failure(FailureCode.RENDER_ERROR, {"error": short_reason(error)}))
        if isinstance(outcome, Failed):
            if outcome.failure.cancelled and self.stopping_now:
                outcome = Failed(spec.job_id, Failure(FailureCode.WORKER_CRASHED))  # handed over again, not refunded
            log.info("job %s failed: %s", spec.job_id, outcome.failure)
            if outcome.failure.code is FailureCode.GPU_ERROR:
                self.gpu_failed.set()
        await self.emit(arq_id, outcome, must_arrive=True)
        return outcome

    async def _render_and_encode(self, arq_id: str, spec: RenderSpec) -> Done | Failed:
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        news = _News(lambda event: self.emit(arq_id, event))

        def report(event: News) -> None:  # called on the render thread (a Preview: on the runtime's preview thread)
            loop.call_soon_threadsafe(news.put, event)

        rendering = asyncio.ensure_future(
            asyncio.to_thread(
                self.runtime.render,
                spec,
                on_started=report,
                on_step=lambda step, total, elapsed: report(Progress(spec.job_id, step, total, elapsed)),
                should_stop=stop.is_set,
                on_preview=report,
            )
        )
        try:
            outcome: Rendered | Failed = await _finish_even_if_cancelled(rendering, on_cancel=stop.set)
        finally:
            await news.close()
        if isinstance(outcome, Rendered):
            return await asyncio.to_thread(self.runtime.encode, outcome)
        return outcome

    async def _hand_over(self, arq_id: str, spec: RenderSpec, done: Done) -> None:
        """Put the MP4 and poster in Redis for the bot (tried as long as a final event is), then forget them here."""
        files = {"mp4": done.result.video.key, "jpg": done.result.poster_key}
        contents = {kind: (self.data_dir / key).read_bytes() for kind, key in files.items()}

        def store() -> Awaitable[Any]:
            named = {media_key(arq_id, kind): content for kind, content in contents.items()}
            pipe = self.redis.pipeline(transaction=True)
            for key, content in named.items():
                pipe.set(key, content, ex=MEDIA_KEPT_SECONDS)
            return pipe.execute()

        await _until_stored(store)
        for key in (*files.values(), manifest_key(spec.job_id)):
            (self.data_dir / key).unlink(missing_ok=True)

    async def emit(self, arq_id: str, event: RenderEvent, *, must_arrive: bool = False) -> None:
        """Report an event on the stream. A final one is tried through RETRY_DELAYS_SECONDS: losing it only makes
        the bot read the outcome from arq's result instead, or render the clip again."""
        entry = {"arq_id": arq_id, "event": dumps(event_to_data(event))}

        def send() -> Awaitable[Any]:
            return self.redis.xadd(EVENTS_STREAM, entry, maxlen=EVENTS_KEPT, approximate=True)  # type: ignore[arg-type]

        try:
            await (_until_stored(send) if must_arrive else send())
        except STORAGE_ERRORS as error:
            log.warning("could not report %s of job %s to Redis (%s)", type(event).__name__, event.job_id, error)


async def _until_stored(store: Callable[[], Awaitable[Any]]) -> None:
    """Try `store` again after each of RETRY_DELAYS_SECONDS while Redis is away; raise the last error after that."""
    for delay in (*RETRY_DELAYS_SECONDS, None):
        try:
            await store()
            return
        except STORAGE_ERRORS:
            if delay is None:
                raise
            await asyncio.sleep(delay)


News = Started | Progress | Preview
"""What a render reports before its outcome: none of it must arrive (the outcome must)."""

_NEWS_ORDER: tuple[type[News], ...] = (Started, Progress, Preview)
"""The order _News sends the kinds waiting: a job's status shows it started before its progress."""


class _News:
    """Sends a render's Started, Progress and Previews as fast as Redis takes them, holding one of each kind while
    one is on its way: a newer Progress or Preview replaces the waiting one of its kind, so however slow Redis, the
    backlog is three events, and the newest of each goes next (Started first, then Progress, then Preview)."""

    def __init__(self, send: Callable[[News], Awaitable[None]]) -> None:
        self._send = send
        self._waiting: dict[type[News], News] = {}
        self._arrived = asyncio.Event()
        self._sending = False
        self._closing = False
        self._sender = asyncio.ensure_future(self._run())

    def put(self, event: News) -> None:
        if self._closing and isinstance(event, Preview):
            return
        self._waiting[type(event)] = event
        self._arrived.set()

    async def close(self) -> None:
        """Send what waits but a Preview (the render has ended: its outcome is the news now), then stop."""
        self._closing = True
        self._waiting.pop(Preview, None)
        while (self._waiting or self._sending) and not self._sender.done():
            await asyncio.sleep(0.01)
        self._sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._sender

    def _next(self) -> News | None:
        for kind in _NEWS_ORDER:
            if kind in self._waiting:
                return self._waiting.pop(kind)
        return None

    async def _run(self) -> None:
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            while (event := self._next()) is not None:
                self._sending = True
                await self._send(event)
                self._sending = False


async def _finish_even_if_cancelled(work: asyncio.Future[Any], *, on_cancel: Callable[[], None]) -> Any:
    """Await work; when the awaiting task is cancelled (arq's abort), ask the work to stop and wait for it,
    then return its outcome (a render stopped this way ends in Failed(cancelled))."""
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        on_cancel()
        while True:
            try:
                return await asyncio.shield(work)
            except asyncio.CancelledError:
                continue


async def serve(
    runtime: RenderRuntime, url: str, *, data_dir: Path, announce_seconds: float, worker_id: str | None = None
) -> int:
    """Take jobs until SIGTERM or SIGINT (after the current job) or a GPU error; the exit status."""
    redis = await connect(url)
    host = WorkerHost(
        runtime,
        redis,
        worker_id=worker_id or f"{socket.gethostname()}-{os.getpid()}",
        data_dir=data_dir,
        announce_seconds=announce_seconds,
    )
    arq_worker = Worker(
        [func(host.render, name=RENDER_FUNCTION)],
        queue_name=host.queue,
        redis_pool=redis,
        max_jobs=1,
        job_timeout=JOB_TIMEOUT_SECONDS,
        keep_result=RESULT_KEPT_SECONDS,
        poll_delay=POLL_SECONDS,
        max_tries=2,  # the second try only says that the first one's worker died: see WorkerHost.render
        allow_abort_jobs=True,
        handle_signals=False,
        job_serializer=dumps,
        job_deserializer=loads,
        log_results=False,
    )
    announcing = asyncio.ensure_future(host.announce_forever())
    taking = asyncio.ensure_future(_take_jobs(arq_worker))
    stopping = _StopSignals(arq_worker, taking, host)
    after_gpu_error = asyncio.ensure_future(_stop_after_gpu_error(host, stopping))
    try:
        log.info("serving %s on %s as worker %s", ", ".join(sorted(host.presets)), host.queue, host.worker_id)
        await asyncio.wait([taking])
    finally:
        stopping.remove()
        stopped_jobs = [task for task in arq_worker.tasks.values() if not task.done()]
        if stopped_jobs:  # a render told to stop ends within a step and reports itself: Redis must still be there
            await asyncio.wait(stopped_jobs, timeout=STOPPED_JOB_GRACE_SECONDS)
        for task in (announcing, after_gpu_error):
            task.cancel()
        await asyncio.gather(announcing, after_gpu_error, return_exceptions=True)
        await host.withdraw()
        await redis.aclose()
    if host.gpu_failed.is_set():
        log.error("exiting after a GPU error, so that a fresh worker takes over")
        return EXIT_AFTER_GPU_ERROR
    if not taking.cancelled() and taking.exception() is not None:
        log.error("stopped taking jobs", exc_info=taking.exception())
        return 1
    return 0


async def _stop_after_gpu_error(host: WorkerHost, stopping: _StopSignals) -> None:
    await host.gpu_failed.wait()
    stopping.after_current_job()


async def _take_jobs(arq_worker: Worker) -> None:
    """arq's loop, started again after Redis went away for longer than the connection's own retries."""
    delays = iter(RETRY_DELAYS_SECONDS)
    while True:
        try:
            await arq_worker.main()
            return
        except STORAGE_ERRORS as error:
            delay = next(delays, None)
            if delay == RETRY_DELAYS_SECONDS[0]:
                log.error("lost Redis (%s); the current job goes on; reconnecting", error)
            await asyncio.sleep(RETRY_DELAYS_SECONDS[-1] if delay is None else delay)
            await _free_job_slots(arq_worker)


async def _free_job_slots(arq_worker: Worker) -> None:
    """arq counts a job slot taken before it asks Redis about the job, and does not give it back when Redis fails
    then: count again from the jobs that really run, or a worker with max_jobs=1 would never take another."""
    running = [task for task in arq_worker.tasks.values() if not task.done()]
    arq_worker.job_counter = len(running)
    arq_worker.sem = asyncio.BoundedSemaphore(arq_worker.max_jobs)
    for _ in running:
        await arq_worker.sem.acquire()


class _StopSignals:
    """The first SIGTERM or SIGINT stops taking jobs and ends once the current one is done; a second ends now."""

    def __init__(self, arq_worker: Worker, taking: asyncio.Future[None], host: WorkerHost) -> None:
        self._worker = arq_worker
        self._taking = taking
        self._host = host
        self._asked = False
        self._loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._loop.add_signal_handler(signum, self._on_signal)

    def _on_signal(self) -> None:
        if self._asked:
            log.warning("stopping now; the bot gives the current job to another worker")
            self.now()
            return
        log.info("stopping after the current job (again to stop now)")
        self.after_current_job()

    def after_current_job(self) -> None:
        if self._asked:
            return
        self._asked = True
        self._worker.allow_pick_jobs = False
        self._loop.create_task(self._when_idle())

    async def _when_idle(self) -> None:
        while any(not task.done() for task in self._worker.tasks.values()):
            await asyncio.sleep(0.1)
        self._taking.cancel()

    def now(self) -> None:
        self._host.stopping_now = True
        for task in self._worker.tasks.values():
            task.cancel()
        self._taking.cancel()

    def remove(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._loop.remove_signal_handler(signum)


def main() -> int:
    """`python -m model worker`: the settings as the bot reads them (QUEUE_URL, VIDEO_MODEL, VIDEO_DEVICE, the speed
    options, DATA_DIR for files on their way to Redis, LOG_LEVEL)."""
    from model.worker.process import start_failure
    from settings.environment import Environment, SettingsError
    from settings.sections import LogSettings, MediaSettings, QueueSettings, VideoSettings

    env = Environment.read()
    try:
        queue, video, media, level = (
            QueueSettings.load(env),
            VideoSettings.load(env),
            MediaSettings.load(env),
            LogSettings.load(env).level,
        )
    except SettingsError as error:
        print(f"promptreel worker: {error}", file=sys.stderr)
        return 2
    if queue.url is None:
        print("promptreel worker: set QUEUE_URL to the Redis the bot uses (redis://host:6379/0)", file=sys.stderr)
        return 2
    logging.basicConfig(level=level, format="%(asctime)s render-worker %(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    try:
        runtime = RenderRuntime.load(
            video.served_presets, data_dir=media.data_dir, device=video.device, speed=video.speed
        )
    except Exception as exc:
        print(f"promptreel worker: {start_failure(exc).reason}", file=sys.stderr)
        return 2
    log.info("loaded in %.1f s", time.monotonic() - started)
    try:
        return asyncio.run(serve(runtime, queue.url, data_dir=media.data_dir, announce_seconds=queue.announce_seconds))
    except (RedisError, OSError) as error:
        print(f"promptreel worker: cannot reach Redis at QUEUE_URL ({error})", file=sys.stderr)
        return 1
