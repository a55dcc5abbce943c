"""The bot's side of the distributed mode: a RenderBackend over arq and Redis (QUEUE_URL).

The bot's database stays the source of truth; the runner hands this backend only as many jobs as the live
workers can start soon (two per worker), so the fair order is kept in the database, not in Redis. A job is
enqueued under an id derived from its id and attempt, so enqueuing it twice is one job. Each job ends in
exactly one Done or Failed event, whatever happens to the workers or to Redis:

- a worker that stops announcing itself while its job has no outcome has died: the job fails with
  `worker_crashed` and the runner retries it (under a new attempt, so the dead one's arq job is dropped);
- a job waiting on the queue of workers that are all gone moves to a queue that has workers;
- a job Redis has forgotten (Redis restarted without persistence) is enqueued again once Redis has answered
  long enough for the workers to announce what they still render;
- an outcome that arrived while the bot was away is read back from arq's results (`resume`, then the watch).

A held job is settled once: the first of its outcome's two messengers (the events stream, arq's result) to arrive
marks it settling before any await, and every later step checks it still holds the same job.

While Redis is out of reach the backend takes no jobs (capacity 0: they wait in the database), keeps the
presets it last knew so members can still queue, says so once in the log and reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from arq.connections import ArqRedis
from arq.constants import abort_jobs_ss, in_progress_key_prefix, job_key_prefix, result_key_prefix
from arq.jobs import deserialize_result
from arq.utils import timestamp_ms
from redis.exceptions import WatchError

from common.failures import Failure, FailureCode
from model.contract import (
    MEDIA_FOLDER,
    Done,
    Failed,
    RenderEvent,
    RenderResult,
    RenderSpec,
    Started,
    manifest_key,
    write_manifest,
)
from model.distributed.connection import RETRY_DELAYS_SECONDS, STORAGE_ERRORS, connect
from model.distributed.survey import announced_workers
from model.distributed.wire import (
    EVENTS_STREAM,
    MEDIA_KINDS,
    RENDER_FUNCTION,
    WorkerInfo,
    arq_job_id,
    event_from_data,
    loads,
    media_key,
    spec_to_data,
)
from model.event_stream import EventStream

__all__ = ["ArqBackend"]

log = logging.getLogger(__name__)

JOBS_PER_WORKER = 2
"""One rendering and one waiting, so a worker never idles between jobs; more would weaken the fair order."""
READ_BLOCK_MS = 1000


@dataclass(eq=False)
class _Held:
    """A job handed to arq and not yet Done or Failed."""

    spec: RenderSpec
    arq_id: str
    queue: str | None
    """The arq queue it is on; None while no live worker serves its preset (it waits for one)."""
    seen_running: bool = False
    unlisted_since: float | None = None
    """Since when (the loop's clock) it has been in progress with no live worker announcing it."""
    orphaned_since: float | None = None
    """Since when its queue has had no live worker."""
    settling: bool = False
    """Its outcome is being taken: nothing else may settle it."""
    aborted: bool = False


class ArqBackend:
    elastic = True

    def __init__(self, url: str, *, data_dir: Path, announce_seconds: float) -> None:
        self.url = url
        self.data_dir = data_dir
        self.announce_seconds = announce_seconds
        self.grace_seconds = 3 * announce_seconds
        """A worker silent this long is dead (its announcement lasts this long)."""
        self._redis: ArqRedis | None = None
        self._connecting = asyncio.Lock()
        self._up_since: float | None = None
        """Since when (the loop's clock) Redis has answered; None while it does not."""
        self._said_down = False
        self._workers: dict[str, WorkerInfo] = {}
        self._known_presets: frozenset[str] = frozenset()
        self._held: dict[int, _Held] = {}
        self._events: asyncio.Queue[RenderEvent | None] = asyncio.Queue()
        self._stream_from = "0-0"
        self._tasks: list[asyncio.Task[None]] = []
        self._tidying: set[asyncio.Future[object]] = set()
        self._closed = False

    # -- what the runner reads ---------------------------------------------------------

    @property
    def capacity(self) -> int:
        return JOBS_PER_WORKER * len(self._workers) if self._up_since is not None else 0

    @property
    def serves(self) -> frozenset[str]:
        """The presets of the live workers; while Redis is out of reach, the last ones known."""
        return self._known_presets

    @property
    def renders_at_once(self) -> int:
        """One per live worker."""
        return len(self._workers)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Connect if Redis answers (else keep trying in the background) and start following the workers."""
        try:
            await self._connect()
            await self._look_at_workers()
        except STORAGE_ERRORS:
            log.error("cannot reach Redis at QUEUE_URL; jobs wait in the database until it answers")
            self._said_down = True
        self._tasks = [self._keep_running(self._watch), self._keep_running(self._read_events)]

    async def resume(self, specs: Sequence[RenderSpec]) -> frozenset[int]:
        """Keep what Redis still has (queued, rendering or finished) or a live worker renders; with Redis out of
        reach, keep everything: the watch finds out when it answers, and enqueues again what it lost."""
        kept: set[int] = set()
        rendering = self._rendering()
        for spec in specs:
            arq_id = arq_job_id(spec.job_id, spec.attempt)
            held = _Held(spec, arq_id, queue=await self._queue_holding(arq_id) or self._queue_for(spec.clip.preset_id))
            if (
                self._redis is None
                or arq_id in rendering
                or await self._redis.exists(job_key_prefix + arq_id, result_key_prefix + arq_id)
            ):
                self._held[spec.job_id] = held
                kept.add(spec.job_id)
        if kept:
            log.info("jobs %s are still with the GPU workers", ", ".join(map(str, sorted(kept))))
        return frozenset(kept)

    async def submit(self, spec: RenderSpec) -> None:
        if self._up_since is None:
            raise ConnectionError("Redis is out of reach")
        queue = self._queue_for(spec.clip.preset_id)
        if queue is None:
            raise ValueError(f"no live worker serves {spec.clip.preset_id!r}")
        held = _Held(spec, arq_job_id(spec.job_id, spec.attempt), queue)
        self._held[spec.job_id] = held  # before the enqueue: its first events may come back before it returns
        try:
            await self._enqueue(held)
        except BaseException:
            self._held.pop(spec.job_id, None)
            raise

    async def cancel(self, job_id: int) -> None:
        """A job still waiting in Redis is taken out and fails as cancelled now; one rendering is aborted,
        and its worker reports Failed(cancelled) within a step (Done if it was already encoding)."""
        held = self._held.get(job_id)
        if held is None or held.settling or self._redis is None:
            return
        if held.queue is None or await self._take_out(held):
            self._settle(held, Failed(job_id, Failure(FailureCode.CANCELLED)))
        else:
            held.aborted = True
            await self._redis.zadd(abort_jobs_ss, {held.arq_id: timestamp_ms()})

    def events(self) -> AsyncIterator[RenderEvent]:
        return EventStream(self._events)

    async def close(self) -> None:
        """Stop following Redis. The jobs stay with the workers: the next start resumes them."""
        if self._closed:
            return
        self._closed = True
        pending = set(self._tasks)
        while pending:  # again and again: redis-py's retry on a timed-out read can swallow a cancellation
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=1)
        if self._redis is not None:
            await self._redis.aclose()
        self._events.put_nowait(None)

    def _keep_running(self, loop: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """A background loop that, should a bug end it, is logged and started again rather than lost."""

        async def guarded() -> None:
            while True:
                try:
                    await loop()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("the Redis %s loop failed; starting it again", loop.__name__)
                    await asyncio.sleep(1)

        return asyncio.create_task(guarded())

    # -- Redis ---------------------------------------------------------------------------

    async def _connect(self) -> ArqRedis:
        async with self._connecting:  # the watch and the reader must not each open a pool
            if self._redis is None:
                redis = await connect(self.url)
                if not self._tasks:  # the first connection: follow the stream from here on
                    newest = await redis.xrevrange(EVENTS_STREAM, count=1)
                    self._stream_from = newest[0][0].decode() if newest else "0-0"
                self._redis = redis
            if self._up_since is None:
                await self._redis.ping()  # a pool reconnects by itself: see that it does before handing jobs over
                self._up_since = asyncio.get_running_loop().time()
            return self._redis

    def _lost(self, error: BaseException) -> None:
        """Say once that Redis is gone, however many calls fail meanwhile."""
        if not self._said_down:
            log.error("lost Redis (%s); jobs wait in the database until it answers again", error)
            self._said_down = True
        self._up_since = None

    async def _watch(self) -> None:
        """Follow the workers and the jobs they hold, every half announcement period."""
        delays = iter(RETRY_DELAYS_SECONDS)
        while True:
            try:
                await self._connect()
                await self._look_at_workers()
                await self._look_at_jobs()
            except STORAGE_ERRORS as error:
                self._lost(error)
                await asyncio.sleep(next(delays, RETRY_DELAYS_SECONDS[-1]))
                continue
            if self._said_down:
                log.info("Redis answers again; handing jobs over")
                self._said_down = False
            delays = iter(RETRY_DELAYS_SECONDS)
            await asyncio.sleep(self.announce_seconds / 2)

    async def _look_at_workers(self) -> None:
        workers = await announced_workers(await self._connect())
        for worker_id in workers.keys() - self._workers.keys():
            log.info("GPU worker %s serves %s", worker_id, ", ".join(sorted(workers[worker_id].presets)))
        for worker_id in self._workers.keys() - workers.keys():
            log.warning("GPU worker %s is gone", worker_id)
        self._workers = workers
        if workers or not self._known_presets:
            self._known_presets = frozenset().union(*(info.presets for info in workers.values()))

    def _rendering(self) -> frozenset[str]:
        """The arq ids the live workers say they render."""
        return frozenset().union(*(info.jobs for info in self._workers.values()))

    async def _look_at_jobs(self) -> None:
        """Each held job is queued, rendering on a live worker, or finished; else it was lost: act on it."""
        await self._connect()
        up_since = self._up_since
        if up_since is None:
            return
        now = asyncio.get_running_loop().time()
        rendering = self._rendering()
        for held in list(self._held.values()):
            try:
                await self._look_at(held, now, rendering, settled_in=now - up_since >= self.grace_seconds)
            except STORAGE_ERRORS:
                raise
            except Exception:
                log.exception("could not check on job %s in Redis", held.spec.job_id)

    async def _look_at(self, held: _Held, now: float, rendering: frozenset[str], *, settled_in: bool) -> None:
        """One held job; `rendering`: the arq ids the live workers announce. `settled_in`: Redis has answered for a
        grace period, so the announcements are complete: only then is a job missing from them taken for lost, or one
        missing from Redis enqueued again."""
        if held.arq_id in rendering:
            held.seen_running, held.unlisted_since = True, None
            return
        redis = await self._connect()
        raw_result = await redis.get(result_key_prefix + held.arq_id)
        if not self._still(held):
            return
        if raw_result is not None:
            await self._on_event(held.arq_id, _outcome(held.spec.job_id, raw_result))
            return
        in_progress = await redis.exists(in_progress_key_prefix + held.arq_id)
        if not self._still(held):
            return
        if held.seen_running or in_progress:
            held.unlisted_since = held.unlisted_since if held.unlisted_since is not None else now
            if settled_in and now - held.unlisted_since >= self.grace_seconds:
                log.error("the GPU worker rendering job %s is gone; the job is handed over again", held.spec.job_id)
                await self._drop(held)
                self._settle(held, Failed(held.spec.job_id, Failure(FailureCode.WORKER_CRASHED)))
            return
        await self._requeue_if_stranded(held, now, settled_in=settled_in)

    async def _requeue_if_stranded(self, held: _Held, now: float, *, settled_in: bool) -> None:
        """A job no worker has started: move it off a queue no live worker takes from, and enqueue it again if
        Redis forgot it."""
        live_queues = {info.queue for info in self._workers.values()}
        if held.queue not in live_queues:
            held.orphaned_since = held.orphaned_since if held.orphaned_since is not None else now
            new_queue = self._queue_for(held.spec.clip.preset_id)
            if new_queue is None or now - held.orphaned_since < self.grace_seconds:
                return
            if held.queue is not None and not await self._take_out(held):
                return  # a worker took it after all
            log.warning("job %s waited on a queue no live worker takes from; moved to %s", held.spec.job_id, new_queue)
            held.queue, held.orphaned_since = new_queue, None
            await self._enqueue(held)
            return
        held.orphaned_since = None
        redis = await self._connect()
        if settled_in and not await redis.exists(job_key_prefix + held.arq_id) and self._still(held):
            log.warning("Redis lost job %s (restarted?); enqueuing it again", held.spec.job_id)
            await self._enqueue(held)

    def _still(self, held: _Held) -> bool:
        """Whether `held` is still the job's hand-over and nothing settles it: checked after every await."""
        return self._held.get(held.spec.job_id) is held and not held.settling

    async def _queue_holding(self, arq_id: str) -> str | None:
        """The live workers' queue that holds arq_id, if one does."""
        if self._redis is None:
            return None
        for queue in sorted({info.queue for info in self._workers.values()}):
            if await self._redis.zscore(queue, arq_id) is not None:
                return queue
        return None

    async def _enqueue(self, held: _Held) -> None:
        redis = await self._connect()
        assert held.queue is not None
        await redis.enqueue_job(
            RENDER_FUNCTION, spec_to_data(held.spec), _job_id=held.arq_id, _queue_name=held.queue
        )  # None when it is there already: enqueuing is idempotent

    async def _take_out(self, held: _Held) -> bool:
        """Remove a job no worker has started from its queue; False if one has (arq keeps a running job in the
        queue, marked by its in-progress key, which a worker sets watching the same key)."""
        assert held.queue is not None
        redis = await self._connect()
        in_progress = in_progress_key_prefix + held.arq_id
        async with redis.pipeline(transaction=True) as pipe:
            await pipe.watch(in_progress)
            if await pipe.exists(in_progress):
                return False
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.zrem(held.queue, held.arq_id)
            pipe.delete(job_key_prefix + held.arq_id)
            try:
                removed, _ = await pipe.execute()
            except WatchError:  # a worker took it meanwhile
                return False
        return bool(removed)

    async def _drop(self, held: _Held) -> None:
        """Forget a dead attempt in Redis, so arq never runs it again."""
        redis = await self._connect()
        if held.queue is not None:
            await redis.zrem(held.queue, held.arq_id)
        await redis.delete(job_key_prefix + held.arq_id, in_progress_key_prefix + held.arq_id)

    def _queue_for(self, preset_id: str) -> str | None:
        """The arq queue of the least busy live workers that serve preset_id."""
        queues: dict[str, int] = {}
        for info in self._workers.values():
            if preset_id in info.presets:
                queues[info.queue] = queues.get(info.queue, 0) + 1
        if not queues:
            return None
        held_per_queue = {queue: 0 for queue in queues}
        for held in self._held.values():
            if held.queue in held_per_queue:
                held_per_queue[held.queue] += 1
        return min(queues, key=lambda queue: held_per_queue[queue] / queues[queue])

    # -- events ----------------------------------------------------------------------------

    async def _read_events(self) -> None:
        delays = iter(RETRY_DELAYS_SECONDS)
        while True:
            try:
                redis = await self._connect()
                entries = await redis.xread({EVENTS_STREAM: self._stream_from}, count=100, block=READ_BLOCK_MS)
            except STORAGE_ERRORS as error:
                self._lost(error)
                await asyncio.sleep(next(delays, RETRY_DELAYS_SECONDS[-1]))
                continue
            delays = iter(RETRY_DELAYS_SECONDS)
            for _stream, messages in entries or []:
                for entry_id, fields in messages:
                    self._stream_from = entry_id.decode()
                    try:
                        event = event_from_data(loads(fields[b"event"]))
                        arq_id = fields[b"arq_id"].decode()
                    except (ValueError, KeyError, TypeError, RecursionError) as error:
                        log.warning("ignoring a malformed event from a worker (%s)", error)
                        continue
                    try:
                        await self._on_event(arq_id, event)
                    except STORAGE_ERRORS as error:  # the watch takes its outcome from arq's result instead
                        log.warning("could not take job %s's %s (%s)", event.job_id, type(event).__name__, error)

    async def _on_event(self, arq_id: str, event: RenderEvent) -> None:
        held = self._held.get(event.job_id)
        if held is None or held.arq_id != arq_id or held.settling:  # settled, or an attempt given up on
            if isinstance(event, Done) and self._redis is not None:  # its files would wait a day for nobody
                await self._redis.delete(*(media_key(arq_id, kind) for kind in MEDIA_KINDS))
            return
        match event:
            case Started():
                held.seen_running = True
                self._events.put_nowait(event)
            case Done():
                held.settling = True
                try:
                    taken = await self._take_files(held, event)
                except BaseException:
                    held.settling = False  # the watch tries again from arq's result
                    raise
                self._settle(held, taken, settling=True)
            case Failed():
                self._settle(held, event)
            case _:
                self._events.put_nowait(event)

    async def _take_files(self, held: _Held, done: Done) -> Done | Failed:
        """Move the finished clip's MP4 and poster from Redis to DATA_DIR under keys the bot chooses (never a path
        a message names), with its manifest last, as the local worker writes them: a bot stopped right after this
        posts it on the next start."""
        redis = await self._connect()
        job_id = done.job_id
        keys = {"mp4": f"{MEDIA_FOLDER}/{job_id}.mp4", "jpg": f"{MEDIA_FOLDER}/{job_id}.jpg"}
        contents = await redis.mget([media_key(held.arq_id, kind) for kind in MEDIA_KINDS])
        if any(content is None for content in contents):
            log.error("the files of job %s are not in Redis", job_id)
            return Failed(job_id, Failure(FailureCode.NO_FILE))
        result = dataclasses.replace(
            done.result,
            video=dataclasses.replace(done.result.video, key=keys["mp4"], bytes=len(contents[0])),
            poster_key=keys["jpg"],
        )
        try:
            await asyncio.to_thread(self._write, job_id, keys, contents, result)
        except OSError as error:
            log.error("could not store the files of job %s: %s", job_id, error)
            return Failed(job_id, Failure(FailureCode.NO_FILE))
        await redis.delete(*(media_key(held.arq_id, kind) for kind in MEDIA_KINDS))
        return Done(job_id, result)

    def _write(self, job_id: int, keys: dict[str, str], contents: list[bytes], result: RenderResult) -> None:
        for kind, content in zip(MEDIA_KINDS, contents, strict=True):
            _write_atomically(self.data_dir / keys[kind], content)
        write_manifest(result, self.data_dir / manifest_key(job_id))

    def _settle(self, held: _Held, event: Done | Failed, *, settling: bool = False) -> None:
        """The job's one outcome, if `held` is still its hand-over (and, unless `settling`, nothing settles it)."""
        if self._held.get(event.job_id) is not held or (held.settling and not settling):
            return
        held.settling = True
        del self._held[event.job_id]
        if held.aborted and self._redis is not None:  # arq never clears its abort set
            self._keep(self._redis.zrem(abort_jobs_ss, held.arq_id))
        self._events.put_nowait(event)

    def _keep(self, work: Awaitable[object]) -> None:
        """Tidying that may fail without harm: run it without waiting, holding the task until it is done."""
        task = asyncio.ensure_future(work)
        self._tidying.add(task)
        task.add_done_callback(self._tidied)

    def _tidied(self, task: asyncio.Future[object]) -> None:
        self._tidying.discard(task)
        if not task.cancelled() and task.exception() is not None:  # retrieved, so asyncio does not warn; harmless
            log.debug("tidying Redis failed: %s", task.exception())


def _outcome(job_id: int, raw_result: bytes) -> Done | Failed:
    """The final event an arq result holds: what WorkerHost.render returned. A result without one means arq stopped
    the job itself (its worker shut down mid-job, or an abort before a bot restart): handed over again, unless the
    runner knows it was cancelled."""
    try:
        result = deserialize_result(raw_result, deserializer=loads)
        if result.success:
            event = event_from_data(result.result)
            if isinstance(event, Done | Failed):
                return event
    except (RuntimeError, ValueError, KeyError, TypeError, RecursionError) as error:
        log.warning("job %s has a malformed result in Redis (%s)", job_id, error)
    return Failed(job_id, Failure(FailureCode.WORKER_CRASHED))


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)
