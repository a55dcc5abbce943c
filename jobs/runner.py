"""Running admitted jobs: feed the render backend, follow its events, deliver or refund.

    queued ──► running ──► rendered ──► delivered
       │          │           │
       └──────────┴───────────┴──► failed / cancelled (refunded exactly once)

The jobs table is the source of truth and every move is conditional on the state it leaves, so
each happens once whatever races. A restart records what was running but finished (its manifest is
there), re-queues the rest of what was running, and re-delivers what was rendered but not confirmed
as posted. Each hand-over to the backend counts an attempt: a job whose render killed its worker (or
the whole bot) max_attempts times is failed and refunded, never re-queued forever.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any

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
from model.contract import Credit, Done, Failed, Progress, RenderBackend, RenderEvent, RenderResult, RenderSpec

log = logging.getLogger(__name__)

DISPATCH_RETRY_SECONDS = 5.0
DELIVERY_RETRY_DELAYS = (5.0, 30.0, 120.0)  # seconds before each retry of a post that failed for a passing reason
CLOSE_GRACE_SECONDS = 10.0
DEFAULT_MAX_ATTEMPTS = 2
CANCELLED = Failure(FailureCode.CANCELLED)


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
        self._closed = False
        self._stood_down = False  # another process serves the database now: close without writing to it

    # -- lifecycle -------------------------------------------------------------------

    async def start(self, observer: JobObserver) -> None:
        self._observer = observer
        await self.backend.start()
        await self._recover()
        self._loops = [self._spawn(self._pump_events()), self._spawn(self._dispatch_forever())]

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
        for loop in self._loops:
            loop.cancel()
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
        if self._outstanding:
            try:
                async with self.database.transaction() as session:
                    jobs = JobRepository(session)
                    for job_id in sorted(self._outstanding):
                        await jobs.move(
                            job_id, from_states=(JobState.RUNNING,), to=JobState.RUNNING, attempts=Job.attempts - 1
                        )
            except Exception:
                log.exception("could not give back the attempts of jobs %s", sorted(self._outstanding))
        self._outstanding.clear()

    def stand_down(self) -> None:
        """Another process took the database over (its lease): the jobs are its now, so close writes nothing."""
        self._stood_down = True

    # -- feeding the backend -----------------------------------------------------------

    async def _dispatch_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._fill_backend()
            except Exception:  # a locked database or a broken backend must not stop the queue for good
                log.exception("could not hand jobs to the render backend; trying again in %s s", DISPATCH_RETRY_SECONDS)
                await asyncio.sleep(DISPATCH_RETRY_SECONDS)
                self._wake.set()

    async def _fill_backend(self) -> None:
        while len(self._outstanding) < self.backend.capacity:
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
        async with self.database.transaction() as session:
            jobs = JobRepository(session)
            while True:  # a job taken meanwhile (cancelled, on PostgreSQL) is passed over, not the queue's end
                job = await jobs.next_queued(exclude=self._outstanding)
                if job is None:
                    return None
                if await jobs.mark_started(job.id, self.clock.now()):
                    break
            await jobs.move(job.id, from_states=(JobState.RUNNING,), to=JobState.RUNNING, attempts=Job.attempts + 1)
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
            )

    async def _pump_events(self) -> None:
        async for event in self.backend.events():
            try:
                await self._handle(event)
            except Exception:  # one bad event must not stop every later job
                log.exception("could not handle %s", event)

    async def _handle(self, event: RenderEvent) -> None:
        match event:
            case Progress():
                await self._notify_progress(event)
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

    async def _notify_progress(self, progress: Progress) -> None:
        assert self._observer is not None
        try:
            await self._observer.on_progress(progress.job_id, progress)
        except Exception:
            log.exception("progress update for job %s failed", progress.job_id)

    # -- cancelling ----------------------------------------------------------------

    async def cancel(self, job_id: int) -> CancelOutcome:
        """Cancel a queued job and refund it now, or ask the backend to stop one it has.

        The backend ends a stopped job with Failed(CANCELLED), which refunds it; a job already encoding ends
        in Done and is posted. Who may cancel is the caller's to decide.
        """
        if job_id not in self._outstanding and await self._fail(job_id, CANCELLED, from_states=(JobState.QUEUED,)):
            return CancelOutcome.CANCELLED
        view = await load_view(self.database, job_id)
        if view is None:
            return CancelOutcome.NOT_FOUND
        if view.state is not JobState.RUNNING:
            # Queued again only if its worker died meanwhile: cancelling again finds it queued.
            return await self.cancel(job_id) if view.state is JobState.QUEUED else CancelOutcome.FINISHED
        # Running: handed to the backend, or claimed and about to be (_fill_backend then cancels it).
        self._cancelling.add(job_id)
        if job_id in self._outstanding:
            await self.backend.cancel(job_id)
        return CancelOutcome.STOPPING

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
        """Its render killed the worker: queue it again while it has attempts left, else fail and refund it."""
        async with self.database.transaction() as session:
            jobs = JobRepository(session)
            job = await jobs.get(job_id)
            if job is None or job.state is not JobState.RUNNING:
                return
            attempts = job.attempts
            retried = attempts < self.max_attempts and await jobs.move(
                job_id, from_states=(JobState.RUNNING,), to=JobState.QUEUED, started_at=None
            )
        if retried:
            log.warning("job %s stopped the render worker (%s); queued again (attempt %d)", job_id, crashed, attempts)
            self._wake.set()
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

    async def _recover(self) -> None:
        """Pick up what the last run left: nothing is lost, nothing is posted twice, nothing rendered twice."""
        to_deliver: list[int] = []
        to_fail: list[tuple[int, Failure]] = []
        async with self.database.transaction() as session:
            jobs = JobRepository(session)
            unfinished = await jobs.unfinished()
            for job in unfinished:
                if job.state is JobState.RUNNING:
                    # Its worker died with the last process. If the clip got finished (the manifest is
                    # written last), record it as the Done event would have; that attempt succeeded.
                    result = self.media.finished_render(job.id)
                    if result is not None and await self._record(jobs, job.id, result):
                        log.info("job %s was finished before the last process stopped; posting it", job.id)
                        to_deliver.append(job.id)
                        continue
                    if job.attempts >= self.max_attempts:
                        to_fail.append((job.id, Failure(FailureCode.TOO_MANY_ATTEMPTS, {"attempts": job.attempts})))
                        continue
                elif job.state is JobState.RENDERED and self.media.exists(job.video_key):
                    to_deliver.append(job.id)
                    continue
                # Running and unfinished, or rendered with its file lost with the disk: render it again.
                if job.state is not JobState.QUEUED:
                    await jobs.move(job.id, from_states=(job.state,), to=JobState.QUEUED, started_at=None)
                if job.preset_id not in self.backend.serves:
                    to_fail.append((job.id, Failure(FailureCode.PRESET_NOT_SERVED, {"preset_id": job.preset_id})))
        for job_id in to_deliver:
            self._spawn(self._deliver(job_id))
        for job_id, failure in to_fail:
            await self._fail(job_id, failure)
        if unfinished:
            log.info("resuming %d unfinished job(s) from the last run", len(unfinished))
        self._wake.set()

    def _spawn(self, work: Coroutine[Any, Any, object]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(_forget_and_report)
        task.add_done_callback(self._tasks.discard)
        return task


def _forget_and_report(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a job task failed", exc_info=task.exception())
