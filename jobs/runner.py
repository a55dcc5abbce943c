"""Running admitted jobs: feed the render backend, follow its events, deliver or refund.

    queued ──► running ──► rendered ──► delivered
       │          │           │
       └──────────┴───────────┴──► failed / cancelled (refunded exactly once)

The jobs table is the source of truth and every move is conditional on the state it leaves, so
each happens once whatever races. A restart records what was running but finished (its manifest is
there), cancels and refunds what the member had asked to stop (the request is on the job's row),
re-queues the rest of what was running, and re-delivers what was rendered but not confirmed as posted.
Each hand-over to the backend counts an attempt, which a restart gives back to a job whose render had
not begun: a job whose render killed its worker (or the whole bot) max_attempts times is failed and
refunded, never re-queued forever.

The backend starts in the background (launch): a local model loads for minutes, and meanwhile jobs are admitted and
wait in the queue; the recovery and the dispatching begin once it has started. A backend that cannot start (its start
raises: trying again cannot help) renders nothing, so nobody is left waiting for it: the jobs that wait for a render
are failed and refunded (the recovery, failing what it would queue), admission refuses new ones (start_failed), and
started() raises why.

Jobs go to the backend in the fair order (members take turns), except that up to MAX_AFFINITY_JUMPS jobs in a row
for the preset the backend has loaded may go ahead of a job for another: a worker serving several presets on one
GPU then swaps pipelines rarely, and the fair order's next job waits for at most that many.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import case

from common.failures import Failure, FailureCode
from common.states import UNFINISHED_STATES, JobState
from db.database import Database
from db.models import Job
from db.repositories.jobs import JobRepository
from db.repositories.ledger import LedgerRepository
from jobs.clock import Clock
from jobs.media import MediaFiles
from jobs.observer import DeliveryFailed, JobObserver
from jobs.records import clip_of, failure_columns, video_columns
from jobs.views import JobView, load_view
from model.contract import (
    Credit,
    Done,
    Failed,
    Preview,
    Progress,
    RenderBackend,
    RenderEvent,
    RenderResult,
    RenderSpec,
    Started,
)

log = logging.getLogger(__name__)

DISPATCH_RETRY_SECONDS = 5.0
DISPATCH_POLL_SECONDS = 2.0
"""How often the queue is looked at without a wake-up: remote workers come and go without telling the runner."""
DELIVERY_RETRY_DELAYS = (5.0, 30.0, 120.0)  # seconds before each retry of a post that failed for a passing reason
CLOSE_GRACE_SECONDS = 10.0
DEFAULT_MAX_ATTEMPTS = 2
CANCELLED = Failure(FailureCode.CANCELLED)
_REQUEUED: Mapping[str, Any] = {"started_at": None, "render_started_at": None}
"""What a job's row forgets when it is queued again."""
MAX_AFFINITY_JUMPS = 3
"""How many jobs in a row for the preset the backend has loaded may go ahead of the fair order's next job (of
another preset): swaps stay rare, and the fair order still moves on at least every MAX_AFFINITY_JUMPS + 1 claims."""


class CancelOutcome(enum.StrEnum):
    """What asking to cancel a job did."""

    CANCELLED = "cancelled"  # it was queued: it is cancelled and refunded now
    STOPPING = "stopping"  # the backend has it: its render stops within a step, then it is refunded
    FINISHED = "finished"  # rendered, delivered, failed or cancelled already: nothing to cancel
    NOT_FOUND = "not_found"


class JobRunner:
    def __init__(
        self,
        *,
        database: Database,
        backend: RenderBackend,
        clock: Clock,
        media: MediaFiles,
        delivery_retry_delays: Sequence[float] = DELIVERY_RETRY_DELAYS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.database = database
        self.max_attempts = max_attempts
        self.backend = backend
        self.clock = clock
        self.media = media
        self.delivery_retry_delays = delivery_retry_delays
        self._observer: JobObserver | None = None
        self._outstanding: set[int] = set()  # handed to the backend, no Done/Failed yet
        self._cancelling: set[int] = set()  # of those, the ones asked to stop
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[Any]] = []
        self._starting: asyncio.Task[None] | None = None  # launch(): the backend's start, then the recovery
        self._backend_started = False
        self._start_failure: Exception | None = None  # why the backend cannot start: it renders nothing
        self._closed = False
        self._stood_down = False  # another process serves the database now: close without writing to it
        self._loaded_preset: str | None = None  # the last claimed job's: what the backend will have loaded
        self._affinity_jumps = 0  # claims in a row that went ahead of the fair order's next job

    # -- lifecycle -------------------------------------------------------------------

    async def start(self, observer: JobObserver) -> None:
        """Start the backend, pick up what the last run left, and start dispatching: launch(), then started()."""
        self.launch(observer)
        await self.started()

    def launch(self, observer: JobObserver) -> None:
        """Start in the background: a local model takes minutes to load, and meanwhile the bot answers and admission
        queues jobs in the database. Once the backend has started, the last run's jobs are recovered (_recover) and
        the queued ones dispatched; `model_loading` is true until the backend has started."""
        if self._starting is not None:
            raise RuntimeError("the runner is already started")
        self._observer = observer
        self._starting = asyncio.get_running_loop().create_task(self._start())

    async def started(self) -> None:
        """Wait until the backend has started and the last run's jobs are recovered; raise what stopped that (the
        backend's WorkerStartError: the model cannot load), once the jobs waiting for it are failed and refunded."""
        if self._starting is None:
            raise RuntimeError("launch() the runner first")
        await asyncio.shield(self._starting)

    @property
    def model_loading(self) -> bool:
        """Whether the backend is still starting (loading its model): jobs wait in the queue meanwhile."""
        return (
            self._starting is not None
            and not self._backend_started
            and self._start_failure is None
            and not self._starting.done()
        )

    @property
    def start_failed(self) -> bool:
        """Whether the backend could not start, for good: nothing will render, so admission takes no job."""
        return self._start_failure is not None

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            await self.backend.start()
        except Exception as error:
            if self._closed or self._stood_down:  # close() stopped the backend while it started: not a failure
                return
            self._start_failure = error
            # Jobs admitted while it loaded, and the last run's, would wait for ever (a restart fails the same way):
            # fail and refund them. Remote workers (elastic) live apart and may serve them: they wait, as always.
            if not self.backend.elastic:
                await self._fail_the_waiting(Failure(FailureCode.WORKER_UNAVAILABLE, {"error": str(error)}))
            raise
        self._backend_started = True
        log.info("the render backend started in %.1f s", loop.time() - began)
        if not self._closed:
            await self._recover()
        if not self._closed:  # close() waits for a recovery under way: nothing is dispatched after it
            self._loops = [self._spawn(self._pump_events()), self._spawn(self._dispatch_forever())]

    async def _fail_the_waiting(self, unavailable: Failure) -> None:
        """The recovery, failing (and refunding) what it would queue; what it cannot do waits for the next start."""
        try:
            await self._recover(unavailable)
        except Exception:  # the bot stops for the backend all the same: say why, not this
            log.exception("could not fail the jobs that wait for the render backend; the next start will")

    def wake(self) -> None:
        """New jobs are queued: hand them to the backend as it has room."""
        self._wake.set()

    @property
    def busy(self) -> bool:
        """Whether a job is being finished, failed or posted right now."""
        return bool(self._tasks.difference(self._loops))

    async def close(self) -> None:
        """Stop taking events, give posts in flight a moment to finish, then stop the backend.

        A post cut off here is made again on the next start (its job is still 'rendered'). The jobs the
        backend held stay 'running' for the next start to pick up (recorded from their manifest if their clip
        got finished, else rendered again), and this attempt is not counted against them: a clean
        shutdown is not their render's fault. A second call does nothing.
        """
        if self._closed:
            return
        self._closed = True
        await self._stop_starting()
        pump, dispatch = self._loops or (None, None)
        if pump is not None:
            pump.cancel()
        if dispatch is not None:  # let it leave its transaction: cancelled inside one, it could keep the write lock
            self._wake.set()
            await asyncio.wait([dispatch], timeout=CLOSE_GRACE_SECONDS)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=CLOSE_GRACE_SECONDS)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.backend.close()
        if self._stood_down:
            return
        for job_id in sorted(self._outstanding & self._cancelling):  # asked to stop: not rendered again
            self._outstanding.discard(job_id)
            try:
                await self._fail(job_id, CANCELLED)
            except Exception:
                log.exception("could not record that job %s was cancelled", job_id)
        if self._outstanding and not self.backend.elastic:  # remote workers render on: the next start resumes them
            try:
                async with self.database.transaction() as session:
                    jobs = JobRepository(session)
                    for job_id in sorted(self._outstanding):
                        await jobs.move(  # one that never started is given its attempt back by the next start
                            job_id,
                            from_states=(JobState.RUNNING,),
                            to=JobState.RUNNING,
                            attempts=case((Job.render_started_at.is_not(None), Job.attempts - 1), else_=Job.attempts),
                        )
            except Exception:
                log.exception("could not give back the attempts of jobs %s", sorted(self._outstanding))
        self._outstanding.clear()

    async def _stop_starting(self) -> None:
        """A backend still starting is closed, which ends its start; a recovery under way is let finish (it writes
        to the database), and nothing is dispatched after it. One that stand_down() cut short is let wind down."""
        starting = self._starting
        if starting is None or starting.done():
            return
        if not self._backend_started:
            await self.backend.close()  # ends its start: a worker loading its model is stopped
        await asyncio.wait([starting], timeout=CLOSE_GRACE_SECONDS)
        if not starting.done():
            starting.cancel()
            await asyncio.wait([starting])

    def stand_down(self) -> None:
        """Another process took the database over (its lease): the jobs are its now, so close writes nothing, and a
        recovery under way is cut short at once: it would write to jobs that are not this process's any more (queue
        again one the new holder has claimed). A backend still starting is left to close(), which ends its start."""
        self._stood_down = True
        if self._starting is not None and (self._backend_started or self._start_failure is not None):
            self._starting.cancel()

    # -- feeding the backend -----------------------------------------------------------

    async def _dispatch_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):  # an elastic backend's room changes without an event
                await asyncio.wait_for(self._wake.wait(), DISPATCH_POLL_SECONDS if self.backend.elastic else None)
            self._wake.clear()
            if self._closed:
                return
            try:
                await self._fill_backend()
            except Exception:  # a locked database or a broken backend must not stop the queue for good
                log.exception("could not hand jobs to the render backend; trying again in %s s", DISPATCH_RETRY_SECONDS)
                await asyncio.sleep(DISPATCH_RETRY_SECONDS)
                self._wake.set()

    async def _fill_backend(self) -> None:
        while len(self._outstanding) < self.backend.capacity and not self._closed:
            spec = await self._claim_next()
            if spec is None:
                return
            self._outstanding.add(spec.job_id)
            try:
                await self.backend.submit(spec)
            except Exception:
                self._outstanding.discard(spec.job_id)
                async with self.database.transaction() as session:
                    await JobRepository(session).move(  # it never reached the backend: no attempt
                        spec.job_id,
                        from_states=(JobState.RUNNING,),
                        to=JobState.QUEUED,
                        started_at=None,
                        attempts=Job.attempts - 1,
                    )
                raise
            if spec.job_id in self._cancelling:  # cancelled between its claim and its submission
                await self.backend.cancel(spec.job_id)

    async def _claim_next(self) -> RenderSpec | None:
        """The next job for the backend, claimed: the fair order's next, or one of the loaded preset's ahead of it.

        Loading another preset takes its worker a while (tens of seconds for a real model), so a job for the preset
        the backend will have loaded (that of the last job claimed) goes ahead of the fair order's next job when
        that one is for another preset; at most MAX_AFFINITY_JUMPS in a row, then the fair order's next job is
        served whatever its preset, so nobody waits behind a popular preset for ever.
        """
        serves = self.backend.serves
        if not serves:
            return None
        async with self.database.transaction() as session:
            jobs = JobRepository(session)
            while True:  # a job taken meanwhile (cancelled, on PostgreSQL) is passed over, not the queue's end
                job, jumped = await self._pick(jobs, serves)
                if job is None:
                    return None
                if await jobs.mark_started(job.id, self.clock.now()):
                    break
            self._affinity_jumps = self._affinity_jumps + 1 if jumped else 0
            self._loaded_preset = job.preset_id
            await jobs.move(job.id, from_states=(JobState.RUNNING,), to=JobState.RUNNING, attempts=Job.attempts + 1)
            return _spec_of(job, attempt=job.attempts + 1)

    async def _pick(self, jobs: JobRepository, serves: frozenset[str]) -> tuple[Job | None, bool]:
        """The job to claim, and whether it goes ahead of the fair order's next (see _claim_next)."""
        fair = await jobs.next_queued(exclude=self._outstanding, presets=serves)
        loaded = self._loaded_preset
        if (
            fair is None
            or loaded is None
            or fair.preset_id == loaded
            or loaded not in serves
            or self._affinity_jumps >= MAX_AFFINITY_JUMPS
        ):
            return fair, False
        same = await jobs.next_queued(exclude=self._outstanding, presets=(loaded,))
        return (fair, False) if same is None else (same, True)

    async def _pump_events(self) -> None:
        async for event in self.backend.events():
            try:
                await self._handle(event)
            except Exception:  # one bad event must not stop every later job
                log.exception("could not handle %s", event)

    async def _handle(self, event: RenderEvent) -> None:
        if isinstance(event, Done | Failed) and event.job_id not in self._outstanding:
            log.warning("ignoring %s for job %s: it is not with the backend", type(event).__name__, event.job_id)
            return  # a backend's second word on a job: the first one settled it
        match event:
            case Progress():
                await self._notify_progress(event)
            case Preview():
                await self._notify_preview(event)
            case Started(job_id, load_seconds):
                if job_id in self._outstanding:
                    await self._record_render_start(job_id)
                await self._notify_started(job_id, load_seconds)
            case Done(job_id, result):
                self._settled(job_id)
                self._spawn(self._finish(job_id, result))
            case Failed(job_id, _) if job_id in self._cancelling:  # asked to stop, it stopped (however)
                self._settled(job_id)
                self._spawn(self._fail(job_id, CANCELLED))
            case Failed(job_id, failure) if failure.code is FailureCode.WORKER_CRASHED:
                self._settled(job_id)
                self._spawn(self._retry_or_fail(job_id, failure))
            case Failed(job_id, failure):
                self._settled(job_id)
                self._spawn(self._fail(job_id, failure))

    def _settled(self, job_id: int) -> None:
        self._outstanding.discard(job_id)
        self._cancelling.discard(job_id)
        self._wake.set()

    async def _record_render_start(self, job_id: int) -> None:
        """Its render began: from now on a restart that finds it running counts this attempt against it."""
        try:
            async with self.database.transaction() as session:
                await JobRepository(session).move(
                    job_id, from_states=(JobState.RUNNING,), to=JobState.RUNNING, render_started_at=self.clock.now()
                )
        except Exception:
            log.exception("could not record that the render of job %s started", job_id)

    async def _notify_started(self, job_id: int, load_seconds: float | None) -> None:
        assert self._observer is not None
        try:
            await self._observer.on_started(job_id, load_seconds)
        except Exception:
            log.exception("start update for job %s failed", job_id)

    async def _notify_progress(self, progress: Progress) -> None:
        assert self._observer is not None
        try:
            await self._observer.on_progress(progress.job_id, progress)
        except Exception:
            log.exception("progress update for job %s failed", progress.job_id)

    async def _notify_preview(self, preview: Preview) -> None:
        assert self._observer is not None
        try:
            await self._observer.on_preview(preview.job_id, preview)
        except Exception:
            log.exception("preview update for job %s failed", preview.job_id)

    # -- cancelling ----------------------------------------------------------------

    async def cancel(self, job_id: int) -> CancelOutcome:
        """Cancel a queued job and refund it now, or ask the backend to stop one it has.

        The backend ends a stopped job with Failed(CANCELLED), which refunds it; a job already encoding ends
        in Done and is posted. The request to stop a running job is on its row (`cancel_requested_at`), so a
        restart before the render stops cancels and refunds it rather than rendering it again, and a crash of
        its worker does not queue it again. Who may cancel is the caller's to decide.
        """
        if job_id not in self._outstanding and await self._fail(job_id, CANCELLED, from_states=(JobState.QUEUED,)):
            return CancelOutcome.CANCELLED
        if await self._request_cancel(job_id):
            # Running: handed to the backend, or claimed and about to be (_fill_backend then cancels it).
            self._cancelling.add(job_id)
            if job_id in self._outstanding:
                await self.backend.cancel(job_id)
            return CancelOutcome.STOPPING
        view = await load_view(self.database, job_id)
        if view is None:
            return CancelOutcome.NOT_FOUND
        # Queued again only if its worker died meanwhile: cancelling again finds it queued.
        return await self.cancel(job_id) if view.state is JobState.QUEUED else CancelOutcome.FINISHED

    async def _request_cancel(self, job_id: int) -> bool:
        """Put the request to stop a running job on its row; True if the job was running."""
        async with self.database.transaction() as session:
            return await JobRepository(session).move(
                job_id, from_states=(JobState.RUNNING,), to=JobState.RUNNING, cancel_requested_at=self.clock.now()
            )

    # -- finishing -----------------------------------------------------------------

    async def _finish(self, job_id: int, result: RenderResult) -> None:
        async with self.database.transaction() as session:
            recorded = await self._record(JobRepository(session), job_id, result)
        if recorded:
            await self._deliver(job_id)

    async def _record(self, jobs: JobRepository, job_id: int, result: RenderResult) -> bool:
        return await jobs.move(
            job_id,
            from_states=(JobState.RUNNING,),
            to=JobState.RENDERED,
            **video_columns(result.video),
            poster_key=result.poster_key,
            render_seconds=result.render_seconds,
            encode_seconds=result.encode_seconds,
            finished_at=self.clock.now(),
        )

    async def _retry_or_fail(self, job_id: int, crashed: Failure) -> None:
        """Its render killed the worker: queue it again while it has attempts left, else fail and refund it.

        A job the member asked to stop is cancelled and refunded instead: a cancelled job is never tried again.
        """
        async with self.database.transaction() as session:
            jobs = JobRepository(session)
            job = await jobs.get(job_id)
            if job is None or job.state is not JobState.RUNNING:
                return
            attempts = job.attempts
            cancel_requested = job.cancel_requested_at is not None
            retried = (
                not cancel_requested
                and attempts < self.max_attempts
                and await jobs.move(job_id, from_states=(JobState.RUNNING,), to=JobState.QUEUED, **_REQUEUED)
            )
        if retried:
            log.warning("job %s stopped the render worker (%s); queued again (attempt %d)", job_id, crashed, attempts)
            self._wake.set()
        elif cancel_requested:
            await self._fail(job_id, CANCELLED)
        else:
            await self._fail(job_id, Failure(FailureCode.TOO_MANY_ATTEMPTS, {"attempts": attempts}))

    async def _deliver(self, job_id: int) -> None:
        """Post the clip; retry what may pass (Discord down, a dropped connection), refund what won't."""
        assert self._observer is not None
        view = await load_view(self.database, job_id)
        if view is None or view.state is not JobState.RENDERED:
            return
        for attempt, retry_in in enumerate((*self.delivery_retry_delays, None), start=1):
            try:
                message_id = await self._observer.deliver(view)
                break
            except DeliveryFailed as error:
                await self._fail(job_id, error.failure)
                return
            except Exception:
                if retry_in is None:
                    log.exception("giving up posting job %s after %d attempts", job_id, attempt)
                    await self._fail(job_id, Failure(FailureCode.DELIVERY_GAVE_UP))
                    return
                log.warning(
                    "posting job %s failed (attempt %d); again in %s s", job_id, attempt, retry_in, exc_info=True
                )
                await asyncio.sleep(retry_in)
        async with self.database.transaction() as session:
            jobs = JobRepository(session)
            await jobs.move(job_id, from_states=(JobState.RENDERED,), to=JobState.DELIVERED, message_id=message_id)
            delivered = await jobs.get(job_id)
            view = JobView.of(delivered) if delivered is not None else view
        # Only now, with the post on record, is the requester told: a crash before this line re-posts
        # (deduplicated by the nonce) rather than leaving a "posted" status with no record of it.
        try:
            await self._observer.on_delivered(view)
        except Exception:
            log.exception("could not update the status of job %s", job_id)

    async def _fail(self, job_id: int, failure: Failure, from_states: Iterable[JobState] = UNFINISHED_STATES) -> bool:
        """Fail (or cancel) a job in one of from_states and refund it; True if this call did, so a second call
        for the same job does nothing."""
        async with self.database.transaction() as session:
            jobs = JobRepository(session)
            moved = await jobs.move(
                job_id,
                from_states=from_states,
                to=JobState.CANCELLED if failure.cancelled else JobState.FAILED,
                **failure_columns(failure),
                finished_at=self.clock.now(),
            )
            refunded = await LedgerRepository(session).refund(job_id, self.clock.now()) if moved else 0
            job = await jobs.get(job_id)
            view = None if job is None else JobView.of(job)
        if moved and view is not None:
            log.info("job %s %s (%s), refunded %s", job_id, view.state.value, failure, refunded)
            assert self._observer is not None
            try:
                await self._observer.on_failed(view, refunded)
            except Exception:
                log.exception("could not tell the member that job %s failed", job_id)
        return moved

    # -- restart -------------------------------------------------------------------

    async def _recover(self, unavailable: Failure | None = None) -> None:
        """Pick up what the last run left: nothing is lost, nothing is posted twice, nothing rendered twice.

        A running job whose clip got finished is recorded and posted; one the member asked to stop is cancelled and
        refunded (one the backend still has is asked to stop again); one whose render never began (it waited behind
        another) gets the attempt its claim counted back, since the crash was not its fault; the others are queued
        again while they have attempts left.

        With `unavailable`, the backend could not start and renders nothing: every job that would wait in the queue
        (queued, or to be queued again) is failed with it and refunded instead; finished clips are still posted.
        """
        to_deliver: list[int] = []
        to_fail: list[tuple[int, Failure]] = []
        async with self.database.snapshot() as session:
            running = await JobRepository(session).in_states((JobState.RUNNING,))
        finished = {job.id: result for job in running if (result := self.media.finished_render(job.id)) is not None}
        # What a remote worker still renders (or has finished) stays running, and its events follow.
        kept = (
            frozenset()
            if unavailable is not None
            else await self.backend.resume([_spec_of(job) for job in running if job.id not in finished])
        )
        self._outstanding |= kept
        to_stop = sorted(job.id for job in running if job.id in kept and job.cancel_requested_at is not None)
        async with self.database.transaction() as session:
            jobs = JobRepository(session)
            unfinished = [job for job in await jobs.unfinished() if job.id not in kept]
            for job in unfinished:
                requeue: dict[str, Any] = dict(_REQUEUED)
                if job.state is JobState.RUNNING:
                    # Its worker died with the last process. If the clip got finished (the manifest is
                    # written last), record it as the Done event would have; that attempt succeeded.
                    result = finished.get(job.id)
                    if result is not None and await self._record(jobs, job.id, result):
                        log.info("job %s was finished before the last process stopped; posting it", job.id)
                        to_deliver.append(job.id)
                        continue
                    if job.cancel_requested_at is not None:  # asked to stop: the render stopped with the process
                        to_fail.append((job.id, CANCELLED))
                        continue
                    if job.render_started_at is None:  # claimed, never rendered: this attempt does not count
                        requeue["attempts"] = Job.attempts - 1
                    elif job.attempts >= self.max_attempts:
                        to_fail.append((job.id, Failure(FailureCode.TOO_MANY_ATTEMPTS, {"attempts": job.attempts})))
                        continue
                elif job.state is JobState.QUEUED and job.cancel_requested_at is not None:
                    # Asked to stop while running, then queued again when its hand-over to the backend failed.
                    to_fail.append((job.id, CANCELLED))
                    continue
                elif job.state is JobState.RENDERED and self.media.exists(job.video_key):
                    to_deliver.append(job.id)
                    continue
                # Running and unfinished, or rendered with its file lost with the disk: render it again.
                if unavailable is not None:  # nothing will render it
                    to_fail.append((job.id, unavailable))
                    continue
                if job.state is not JobState.QUEUED:
                    await jobs.move(job.id, from_states=(job.state,), to=JobState.QUEUED, **requeue)
                if job.preset_id not in self.backend.serves and not self.backend.elastic:
                    to_fail.append((job.id, Failure(FailureCode.PRESET_NOT_SERVED, {"preset_id": job.preset_id})))
        for job_id in to_deliver:
            self._spawn(self._deliver(job_id))
        for job_id, failure in to_fail:
            await self._fail(job_id, failure)
        for job_id in to_stop:  # the request was lost with the last process: the backend hears it again
            self._cancelling.add(job_id)
            await self.backend.cancel(job_id)
        if unfinished and unavailable is None:
            log.info("resuming %d unfinished job(s) from the last run", len(unfinished))
        self._wake.set()

    def _spawn(self, work: Coroutine[Any, Any, object]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(_forget_and_report)
        task.add_done_callback(self._tasks.discard)
        return task


def _spec_of(job: Job, *, attempt: int | None = None) -> RenderSpec:
    """The job as a backend sees it; `attempt` when the row read predates counting it."""
    return RenderSpec(
        job_id=job.id,
        clip=clip_of(job),
        max_bytes=job.max_bytes,
        credit=Credit(
            requester_name=job.user_name,
            requester_id=job.user_id,
            model_id=job.model_id,
            licence=job.licence,
            authors=job.authors,
        ),
        attempt=job.attempts if attempt is None else attempt,
    )


def _forget_and_report(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a job task failed", exc_info=task.exception())
