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
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any

from db.database import Database
from db.models import Job, JobState
from db.repositories.jobs import JobRepository
from db.repositories.ledger import LedgerRepository
from jobs.clock import Clock
from jobs.errors import PresetUnavailable, QuotaExhausted, SeedOutOfRange
from jobs.observer import DeliveryFailed, JobObserver
from jobs.pricing import clip_cost
from jobs.prompts import clean_prompt
from jobs.quota import DailyQuota
from jobs.requests import ValidRequest, VideoRequest
from jobs.views import JobView, Ticket
from model.contract import Credit, Done, Failed, Progress, RenderBackend, RenderEvent, RenderResult, RenderSpec
from model.presets import Preset

log = logging.getLogger(__name__)

MAX_SEED = 2**32 - 1


class VideoService:
    def __init__(
        self,
        *,
        database: Database,
        backend: RenderBackend,
        quota: DailyQuota,
        clock: Clock,
        presets: Mapping[str, Preset],
        default_preset_id: str,
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

    @property
    def served_presets(self) -> tuple[str, ...]:
        return tuple(sorted(self.backend.serves))

    # -- lifecycle -------------------------------------------------------------------

    async def start(self, observer: JobObserver) -> None:
        self._observer = observer
        await self.backend.start()
        await self._recover()
        self._spawn(self._pump_events())
        self._spawn(self._dispatch_forever())

    async def close(self) -> None:
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

    async def submit(self, valid: ValidRequest) -> Ticket:
        """Charge the member and queue the job in one transaction, or raise QuotaExhausted."""
        request, preset = valid.request, valid.preset
        now = self.clock.now()
        async with self.database.transaction() as session:
            jobs, ledger = JobRepository(session), LedgerRepository(session)
            spent = await ledger.spent_since(request.guild_id, request.user_id, self.quota.window_start(now))
            credits_left = self.quota.credits - spent
            if valid.cost > credits_left:
                raise QuotaExhausted(valid.cost, max(credits_left, 0), self.quota.next_reset(now))
            job = await jobs.add(
                Job(
                    state=JobState.QUEUED,
                    guild_id=request.guild_id,
                    channel_id=request.channel_id,
                    user_id=request.user_id,
                    user_name=request.user_name,
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
            )
            await ledger.reserve(
                guild_id=request.guild_id, user_id=request.user_id, job_id=job.id, cost=valid.cost, at=now
            )
            position = await jobs.position(job.id)
            view = JobView.of(job)
        self._wake.set()
        return Ticket(view, position, credits_left - valid.cost, self.quota.next_reset(now))

    async def credits_left(self, guild_id: int, user_id: int) -> int:
        now = self.clock.now()
        async with self.database.transaction() as session:
            spent = await LedgerRepository(session).spent_since(guild_id, user_id, self.quota.window_start(now))
        return self.quota.credits - spent

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
            while len(self._outstanding) < self.backend.capacity:
                spec = await self._claim_next()
                if spec is None:
                    break
                self._outstanding.add(spec.job_id)
                await self.backend.submit(spec)

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
        assert self._observer is not None
        view = await self.job(job_id)
        if view is None or view.state is not JobState.RENDERED:
            return
        try:
            message_id = await self._observer.deliver(view)
        except DeliveryFailed as error:
            await self._fail(job_id, error.reason, cancelled=False)
            return
        async with self.database.transaction() as session:
            await JobRepository(session).move(
                job_id, from_states=(JobState.RENDERED,), to=JobState.DELIVERED, message_id=message_id
            )

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

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


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
