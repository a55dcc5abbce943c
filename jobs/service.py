"""The job lifecycle: validate, charge and queue a request; feed the render backend; deliver or refund.

    queued ──► running ──► rendered ──► delivered
       │          │           │
       └──────────┴───────────┴──► failed / cancelled (refunded exactly once)

The jobs table is the source of truth. A restart re-queues what was running and
re-delivers what was rendered but not confirmed as posted.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Coroutine, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from db.database import Database
from db.models import Job, JobState
from db.repositories.jobs import JobRepository
from db.repositories.ledger import LedgerRepository
from jobs.clock import Clock
from jobs.errors import PresetUnavailable, SeedOutOfRange
from jobs.group_commit import GroupCommit
from jobs.observer import DeliveryFailed, JobObserver
from jobs.pricing import clip_cost, default_clip_cost
from jobs.prompts import clean_display_name, clean_prompt
from jobs.quota_policy import Admission, MemberRef, QuotaPolicy
from jobs.requests import ValidRequest, VideoRequest
from jobs.views import JobView, Ticket
from model.contract import Credit, Done, Failed, Progress, RenderBackend, RenderEvent, RenderResult, RenderSpec
from model.presets import Preset

log = logging.getLogger(__name__)

DISPATCH_RETRY_SECONDS = 5.0
DELIVERY_RETRY_DELAYS = (5.0, 30.0, 120.0)  # seconds before each retry of a post that failed for a passing reason
DELIVERY_GAVE_UP_REASON = "Discord kept refusing the upload"
CLOSE_GRACE_SECONDS = 10.0

MAX_SEED = 2**32 - 1


class VideoService:
    def __init__(
        self,
        *,
        database: Database,
        backend: RenderBackend,
        quota: QuotaPolicy,
        clock: Clock,
        presets: Mapping[str, Preset],
        default_preset_id: str,
        delivery_retry_delays: Sequence[float] = DELIVERY_RETRY_DELAYS,
    ) -> None:
        self.database = database
        self.backend = backend
        self.quota = quota
        self.clock = clock
        self.presets = presets
        self.default_preset_id = default_preset_id
        self._observer: JobObserver | None = None
        self._outstanding: set[int] = set()  # handed to the backend, no Done/Failed yet
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self.delivery_retry_delays: Sequence[float] = delivery_retry_delays
        self._submissions: GroupCommit[ValidRequest, Ticket] = GroupCommit(self._submit_batch)

    @property
    def served_presets(self) -> tuple[str, ...]:
        return tuple(sorted(self.backend.serves))

    # -- lifecycle -------------------------------------------------------------------

    async def start(self, observer: JobObserver) -> None:
        self._observer = observer
        await self.backend.start()
        await self._recover()
        self._loops = [self._spawn(self._pump_events()), self._spawn(self._dispatch_forever())]

    @property
    def busy(self) -> bool:
        """Whether a job is being finished, failed or posted right now."""
        return bool(self._tasks.difference(self._loops))

    async def close(self) -> None:
        """Stop taking events, give posts in flight a moment to finish, then stop the backend.

        A post cut off here is made again on the next start (its job is still 'rendered').
        """
        for loop in self._loops:
            loop.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=CLOSE_GRACE_SECONDS)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.backend.close()

    # -- submitting ------------------------------------------------------------------

    def validate(self, request: VideoRequest) -> ValidRequest:
        """Check everything that needs no database; raises a RequestRefused subclass."""
        preset = self._served_preset(request.preset_id or self.default_preset_id)
        prompt = clean_prompt(request.prompt)
        negative_prompt = clean_prompt(request.negative_prompt, field="negative_prompt", required=False)
        if request.seed is not None and not 0 <= request.seed <= MAX_SEED:
            raise SeedOutOfRange(MAX_SEED)
        seed = secrets.randbelow(MAX_SEED + 1) if request.seed is None else request.seed
        width, height = preset.resolutions[preset.default_aspect]
        frames, steps = preset.default_frames, preset.default_steps
        cost = clip_cost(preset, frames=frames, width=width, height=height, steps=steps)
        return ValidRequest(request, preset, prompt, negative_prompt, seed, frames, width, height, steps, cost)

    def default_clip_cost(self) -> int:
        return default_clip_cost(self._served_preset(self.default_preset_id))

    async def submit(self, valid: ValidRequest) -> Ticket:
        """Admit, charge and queue the job in one transaction, or raise why not (a RequestRefused).

        Submissions that arrive together share that transaction (group commit), each admitted in turn.
        """
        return await self._submissions.submit(valid)

    async def _submit_batch(self, batch: Sequence[ValidRequest]) -> list[Ticket | Exception]:
        now = self.clock.now()
        claims = [(_member(valid.request), valid.cost) for valid in batch]
        async with self.database.transaction() as session:
            decisions = await self.quota.admit_all(session, claims, now)
            admitted = [
                (_job_for(valid, now), decision)
                for valid, decision in zip(batch, decisions, strict=True)
                if isinstance(decision, Admission)
            ]
            jobs = JobRepository(session)
            await jobs.add_all([job for job, _ in admitted])
            await LedgerRepository(session).reserve((job for job, _ in admitted), now)
            # The batch's jobs were numbered one after another inside this transaction.
            first_position = await jobs.position(admitted[0][0].id) if admitted else 0
            tickets = iter(
                Ticket(JobView.of(job), first_position + index, decision.credits_left, decision.resets_at)
                for index, (job, decision) in enumerate(admitted)
            )
        self._wake.set()
        return [next(tickets) if isinstance(decision, Admission) else decision for decision in decisions]

    async def job(self, job_id: int) -> JobView | None:
        async with self.database.transaction() as session:
            job = await JobRepository(session).get(job_id)
            return None if job is None else JobView.of(job)

    def _served_preset(self, preset_id: str) -> Preset:
        if preset_id not in self.backend.serves or preset_id not in self.presets:
            raise PresetUnavailable(preset_id, self.served_presets)
        return self.presets[preset_id]

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
                    await JobRepository(session).move(
                        spec.job_id, from_states=(JobState.RUNNING,), to=JobState.QUEUED, started_at=None
                    )
                raise

    async def _claim_next(self) -> RenderSpec | None:
        async with self.database.transaction() as session:
            jobs = JobRepository(session)
            job = await jobs.next_queued(exclude=self._outstanding)
            if job is None or not await jobs.mark_started(job.id, self.clock.now()):
                return None
            return _spec_for(job)

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
            case Failed(job_id, reason, cancelled):
                self._settled(job_id)
                self._spawn(self._fail(job_id, reason, cancelled=cancelled))

    def _settled(self, job_id: int) -> None:
        self._outstanding.discard(job_id)
        self._wake.set()

    async def _notify_progress(self, progress: Progress) -> None:
        assert self._observer is not None
        try:
            await self._observer.on_progress(progress.job_id, progress)
        except Exception:
            log.exception("progress update for job %s failed", progress.job_id)

    # -- finishing -----------------------------------------------------------------

    async def _finish(self, job_id: int, result: RenderResult) -> None:
        async with self.database.transaction() as session:
            recorded = await JobRepository(session).move(
                job_id,
                from_states=(JobState.RUNNING,),
                to=JobState.RENDERED,
                video_path=result.video_path,
                poster_path=result.poster_path,
                video_bytes=result.video_bytes,
                render_seconds=result.render_seconds,
                encode_seconds=result.encode_seconds,
                finished_at=self.clock.now(),
            )
        if recorded:
            await self._deliver(job_id)

    async def _deliver(self, job_id: int) -> None:
        """Post the clip; retry what may pass (Discord down, a dropped connection), refund what won't."""
        assert self._observer is not None
        view = await self.job(job_id)
        if view is None or view.state is not JobState.RENDERED:
            return
        for attempt, retry_in in enumerate((*self.delivery_retry_delays, None), start=1):
            try:
                message_id = await self._observer.deliver(view)
                break
            except DeliveryFailed as error:
                await self._fail(job_id, error.reason, cancelled=False)
                return
            except Exception:
                if retry_in is None:
                    log.exception("giving up posting job %s after %d attempts", job_id, attempt)
                    await self._fail(job_id, DELIVERY_GAVE_UP_REASON, cancelled=False)
                    return
                log.warning("posting job %s failed (attempt %d); again in %s s", job_id, attempt, retry_in, exc_info=True)
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

    async def _fail(self, job_id: int, reason: str, *, cancelled: bool) -> None:
        """Fail (or cancel) a job and refund it; a second call for the same job does nothing."""
        async with self.database.transaction() as session:
            jobs = JobRepository(session)
            moved = await jobs.move(
                job_id,
                from_states=(JobState.QUEUED, JobState.RUNNING, JobState.RENDERED),
                to=JobState.CANCELLED if cancelled else JobState.FAILED,
                failure_reason=reason,
                finished_at=self.clock.now(),
            )
            refunded = await LedgerRepository(session).refund(job_id, self.clock.now()) if moved else 0
            job = await jobs.get(job_id)
            view = None if job is None else JobView.of(job)
        if moved and view is not None:
            log.info("job %s %s (%s), refunded %s", job_id, view.state.value, reason, refunded)
            assert self._observer is not None
            try:
                await self._observer.on_failed(view, refunded)
            except Exception:
                log.exception("could not tell the member that job %s failed", job_id)

    # -- restart -------------------------------------------------------------------

    async def _recover(self) -> None:
        """Pick up what the last run left: nothing is lost, nothing is posted twice."""
        async with self.database.transaction() as session:
            jobs = JobRepository(session)
            unfinished = [JobView.of(job) for job in await jobs.unfinished()]
            for job in unfinished:
                if job.state is JobState.RUNNING:
                    # Its worker died with the last process: render it again from the stored spec.
                    await jobs.move(job.id, from_states=(JobState.RUNNING,), to=JobState.QUEUED, started_at=None)
                elif job.state is JobState.RENDERED and not (job.video_path and Path(job.video_path).is_file()):
                    await jobs.move(job.id, from_states=(JobState.RENDERED,), to=JobState.QUEUED, started_at=None)
        for job in unfinished:
            if job.state is JobState.RENDERED and job.video_path and Path(job.video_path).is_file():
                self._spawn(self._deliver(job.id))
            elif job.preset_id not in self.backend.serves:
                await self._fail(job.id, f"this bot no longer serves the preset {job.preset_id}", cancelled=False)
        if unfinished:
            log.info("resuming %d unfinished job(s) from the last run", len(unfinished))
        self._wake.set()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(_forget_and_report)
        task.add_done_callback(self._tasks.discard)
        return task


def _member(request: VideoRequest) -> MemberRef:
    return MemberRef(request.guild_id, request.user_id, request.role_ids)


def _job_for(valid: ValidRequest, now: datetime) -> Job:
    request, preset = valid.request, valid.preset
    return Job(
        state=JobState.QUEUED,
        guild_id=request.guild_id,
        channel_id=request.channel_id,
        user_id=request.user_id,
        user_name=clean_display_name(request.user_name),
        prompt=valid.prompt,
        negative_prompt=valid.negative_prompt,
        seed=valid.seed,
        preset_id=preset.id,
        frames=valid.frames,
        width=valid.width,
        height=valid.height,
        fps=preset.fps,
        steps=valid.steps,
        guidance=preset.guidance,
        max_bytes=request.max_bytes,
        cost=valid.cost,
        model_id=preset.repo,
        licence=preset.licence,
        licence_url=preset.licence_url,
        created_at=now,
    )


def _spec_for(job: Job) -> RenderSpec:
    return RenderSpec(
        job_id=job.id,
        preset_id=job.preset_id,
        prompt=job.prompt,
        negative_prompt=job.negative_prompt,
        seed=job.seed,
        frames=job.frames,
        width=job.width,
        height=job.height,
        fps=job.fps,
        steps=job.steps,
        guidance=job.guidance,
        max_bytes=job.max_bytes,
        credit=Credit(
            requester_name=job.user_name,
            requester_id=job.user_id,
            preset_id=job.preset_id,
            model_id=job.model_id,
            licence=job.licence,
            seed=job.seed,
            job_id=job.id,
        ),
    )


def _forget_and_report(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a job task failed", exc_info=task.exception())
